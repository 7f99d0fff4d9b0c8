// The SFT config (`olmo sft --config FILE`), YAML or JSON. Defaults are Tülu 3 8B's (spec 3.2): LR 5e-6, linear
// schedule with warmup ratio 0.03, 2 epochs, effective batch 128 sequences, max length 4096, weight decay 0,
// sum loss, seed 123. Small models need a larger LR (see configs/quickstart/sft.yaml).
import { z } from 'zod';
import { checkpointSchema, configDir, optimizerSchema, readConfigFile, resolvePath, scheduleFields, validateConfig } from '../common/config.ts';

export const sftConfigSchema = z
  .object({
    /** Where checkpoints, metrics.jsonl, eval.json and final/ go. */
    output: z.string().min(1),
    /** The HF checkpoint folder to fine-tune. */
    initFrom: z.string().min(1),
    /** Folder with tokenizer.json (default: initFrom). */
    tokenizer: z.string().min(1).optional(),
    /** A Jinja chat template overriding the tokenizer's (default: the tokenizer's, else the built-in Tülu template). */
    chatTemplate: z.string().min(1).optional(),
    data: z
      .object({
        /** open-instruct SFT JSONL: {"messages": [{"role", "content"}, …]} per line. */
        train: z.string().min(1),
        /** Held-out conversations for the assistant loss and exact-match evaluation. */
        test: z.string().min(1).optional(),
        maxLength: z.number().int().min(2).default(4096),
        /**
         * Conversations longer than maxLength: 'drop' (default) or 'truncate' (open-instruct's rule: cut at
         * maxLength, drop if no assistant token is left). Both are reported.
         */
        overlong: z.enum(['drop', 'truncate']).default('drop'),
        /** Bad rows (file:line reported): 'error' stops before training, 'skip' leaves them out. */
        badRows: z.enum(['error', 'skip']).default('error'),
      })
      .strict(),
    seed: z.number().int().nonnegative().default(123),
    epochs: z.number().int().positive().default(2),
    /** Sequences per optimizer step (Tülu 3: 128). */
    batchSize: z.number().int().positive().default(128),
    /** Sequences per forward pass (gradient accumulation over batchSize / microBatchSize passes). */
    microBatchSize: z.number().int().positive().default(1),
    /**
     * Group sequences of similar length into micro-batches of at most packingTokens padded tokens (one
     * conversation per row: no cross-document attention). Changes speed, not the loss.
     */
    packing: z.boolean().default(false),
    packingTokens: z.number().int().positive().optional(),
    /**
     * 'sum' (Tülu 3): Σ token losses of the batch ÷ sequences in the batch — every token weighs the same, the LR
     * is tuned for it. 'mean': Σ token losses ÷ label tokens in the batch.
     */
    reduction: z.enum(['sum', 'mean']).default('sum'),
    lr: scheduleFields.lr.default(5e-6),
    schedule: scheduleFields.schedule,
    warmupRatio: scheduleFields.warmupRatio.default(0.03),
    optimizer: optimizerSchema.default({}),
    checkpoint: checkpointSchema.default({}),
    eval: z
      .object({
        /** Evaluate every N steps (0: only before training and at the end). */
        every: z.number().int().nonnegative().default(0),
        /** Evaluate the starting model before the first step (the "before" numbers). */
        atStart: z.boolean().default(true),
        /** Held-out conversations used for exact match (greedy generation); 0 disables it. */
        exactMatchExamples: z.number().int().nonnegative().default(64),
        maxNewTokens: z.number().int().positive().default(128),
        /** Prompts per generation batch. */
        generationBatch: z.number().int().positive().default(16),
      })
      .strict()
      .default({}),
    logEvery: z.number().int().positive().default(10),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.batchSize % c.microBatchSize !== 0 && !c.packing) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['microBatchSize'], message: `must divide batchSize (${c.batchSize})` });
    }
    if (c.microBatchSize > c.batchSize) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['microBatchSize'], message: `must be at most batchSize (${c.batchSize})` });
    if (c.packingTokens !== undefined && c.packingTokens < c.data.maxLength) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['packingTokens'], message: `must be at least data.maxLength (${c.data.maxLength}) so every conversation fits` });
    }
  });

export type SftConfigInput = z.input<typeof sftConfigSchema>;
export type SftConfig = z.infer<typeof sftConfigSchema>;

/** Validates an SFT config object; relative paths resolve against baseDir. */
export function resolveSftConfig(value: unknown, baseDir: string, source = 'config'): SftConfig {
  const c = validateConfig(sftConfigSchema, value, source, 'SFT');
  return {
    ...c,
    output: resolvePath(baseDir, c.output),
    initFrom: resolvePath(baseDir, c.initFrom),
    tokenizer: resolvePath(baseDir, c.tokenizer),
    data: { ...c.data, train: resolvePath(baseDir, c.data.train), test: resolvePath(baseDir, c.data.test) },
  };
}

export function loadSftConfig(path: string): SftConfig {
  return resolveSftConfig(readConfigFile(path), configDir(path), path);
}
