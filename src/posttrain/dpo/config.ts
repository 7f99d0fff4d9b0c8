// The DPO config (`olmo dpo --config FILE`), YAML or JSON. Defaults are Tülu 3 8B's (spec 3.3): length-normalised
// DPO with β = 5, LR 5e-7, linear schedule with warmup ratio 0.1, 1 epoch, effective batch 128 pairs, max length
// 2048, weight decay 0. Small models need a larger LR (see configs/quickstart/dpo.yaml).
import { z } from 'zod';
import { checkpointSchema, configDir, optimizerSchema, readConfigFile, resolvePath, scheduleFields, validateConfig } from '../common/config.ts';
import { defaultBeta } from './loss.ts';

export const dpoConfigSchema = z
  .object({
    output: z.string().min(1),
    /** The model to train (Tülu 3: the SFT checkpoint). */
    initFrom: z.string().min(1),
    /** The reference model (default: initFrom, i.e. the starting policy). */
    reference: z.string().min(1).optional(),
    tokenizer: z.string().min(1).optional(),
    chatTemplate: z.string().min(1).optional(),
    data: z
      .object({
        /** Preference JSONL: {"chosen": messages, "rejected": messages} or {"prompt", "chosen": str, "rejected": str}. */
        train: z.string().min(1),
        /** Held-out pairs for preference accuracy … */
        test: z.string().min(1).optional(),
        /** … or this fraction of `train` held out (a seeded split) when there is no test file. */
        testFraction: z.number().min(0).lt(1).default(0),
        maxLength: z.number().int().min(2).default(2048),
        /** Pairs with a side longer than maxLength: 'drop' (default) or 'truncate' (open-instruct's rule). Reported. */
        overlong: z.enum(['drop', 'truncate']).default('drop'),
        badRows: z.enum(['error', 'skip']).default('error'),
      })
      .strict(),
    /** 'dpo_norm' (Tülu 3: per-token mean log-probs) or 'dpo' (standard sigmoid DPO on sums). */
    loss: z.enum(['dpo_norm', 'dpo']).default('dpo_norm'),
    /** Default: 5 for dpo_norm (Tülu 3), 0.1 for dpo. */
    beta: z.number().positive().finite().optional(),
    labelSmoothing: z.number().min(0).lt(0.5).default(0),
    seed: z.number().int().nonnegative().default(123),
    epochs: z.number().int().positive().default(1),
    /** Preference pairs per optimizer step (Tülu 3: 128). */
    batchSize: z.number().int().positive().default(128),
    /** Pairs per forward pass (chosen and rejected go through together: 2 × this many rows). */
    microBatchSize: z.number().int().positive().default(1),
    lr: scheduleFields.lr.default(5e-7),
    schedule: scheduleFields.schedule,
    warmupRatio: scheduleFields.warmupRatio.default(0.1),
    optimizer: optimizerSchema.default({}),
    checkpoint: checkpointSchema.default({}),
    eval: z
      .object({
        every: z.number().int().nonnegative().default(0),
        atStart: z.boolean().default(true),
      })
      .strict()
      .default({}),
    logEvery: z.number().int().positive().default(10),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.batchSize % c.microBatchSize !== 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['microBatchSize'], message: `must divide batchSize (${c.batchSize})` });
    if (c.data.test && c.data.testFraction > 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['data', 'testFraction'], message: 'give data.test or data.testFraction, not both' });
  });

export type DpoConfigInput = z.input<typeof dpoConfigSchema>;
export type DpoConfig = Omit<z.infer<typeof dpoConfigSchema>, 'beta'> & { beta: number };

export function resolveDpoConfig(value: unknown, baseDir: string, source = 'config'): DpoConfig {
  const c = validateConfig(dpoConfigSchema, value, source, 'DPO');
  return {
    ...c,
    beta: c.beta ?? defaultBeta(c.loss),
    output: resolvePath(baseDir, c.output),
    initFrom: resolvePath(baseDir, c.initFrom),
    reference: resolvePath(baseDir, c.reference),
    tokenizer: resolvePath(baseDir, c.tokenizer),
    data: { ...c.data, train: resolvePath(baseDir, c.data.train), test: resolvePath(baseDir, c.data.test) },
  };
}

export function loadDpoConfig(path: string): DpoConfig {
  return resolveDpoConfig(readConfigFile(path), configDir(path), path);
}
