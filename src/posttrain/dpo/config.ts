// The DPO config (`olmo dpo --config FILE`), YAML or JSON. Defaults are Tülu 3 8B's
// (the Tülu 3 paper, https://arxiv.org/abs/2411.15124; open-instruct tulu3_dpo_8b.yaml): length-normalised
// DPO with β = 5, LR 5e-7, linear schedule with warmup ratio 0.1, 1 epoch, effective batch 128 pairs, max length
// 2048, weight decay 0. Small models need a larger LR (see configs/quickstart/dpo.yaml).
import { z } from 'zod';
import * as common from '../common/config.ts';
import { defaultBeta } from './loss.ts';
import { modelPathOrHubId } from '../../io/model-ref.ts';

export const dpoConfigSchema = z
  .object({
    ...common.runTargetFields,
    /** The reference model (default: initFrom, i.e. the starting policy). */
    reference: z.string().min(1).optional(),
    ...common.tokenizerFields,
    data: z
      .object({
        /** Preference JSONL: {"chosen": messages, "rejected": messages} or {"prompt", "chosen": str, "rejected": str}. */
        train: z.string().min(1),
        /** Held-out pairs for preference accuracy … */
        test: z.string().min(1).optional(),
        /** … or this fraction of `train` held out (a seeded split) when there is no test file. */
        testFraction: z.number().min(0).lt(1).default(0),
        maxLength: z.number().int().min(2).default(2048),
        ...common.dataPolicyFields,
      })
      .strict(),
    /** 'dpo_norm' (Tülu 3: per-token mean log-probs) or 'dpo' (standard sigmoid DPO on sums). */
    loss: z.enum(['dpo_norm', 'dpo']).default('dpo_norm'),
    /** Default: 5 for dpo_norm (Tülu 3), 0.1 for dpo. */
    beta: z.number().positive().finite().optional(),
    labelSmoothing: z.number().min(0).lt(0.5).default(0),
    // batchSize counts preference pairs; microBatchSize pairs go through one forward (chosen and rejected
    // together: 2 × this many rows).
    ...common.batchFields(1),
    ...common.trainingFields({ lr: 5e-7, warmupRatio: 0.1 }),
    ...common.evalAndLogFields({}),
  })
  .strict()
  .superRefine(
    common.stageChecks((c, issue) => {
      if (c.data.test && c.data.testFraction > 0)
        issue(['data', 'testFraction'], 'give data.test or data.testFraction, not both');
    }),
  );

export type DpoConfigInput = z.input<typeof dpoConfigSchema>;
export type DpoConfig = Omit<z.infer<typeof dpoConfigSchema>, 'beta'> & { beta: number };

export function resolveDpoConfig(value: unknown, baseDir: string, source = 'config'): DpoConfig {
  const c = common.validateConfig(dpoConfigSchema, value, source, 'DPO');
  return {
    ...common.resolveRunPaths(c, baseDir),
    beta: c.beta ?? defaultBeta(c.loss),
    reference: modelPathOrHubId(baseDir, c.reference),
  };
}

export function loadDpoConfig(path: string): DpoConfig {
  return resolveDpoConfig(common.readConfigFile(path), common.configDir(path), path);
}
