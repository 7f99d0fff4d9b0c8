// The SFT config (`olmo sft --config FILE`), YAML or JSON. Defaults are Tülu 3 8B's
// (the Tülu 3 paper, https://arxiv.org/abs/2411.15124; open-instruct docs/tulu3.md): LR 5e-6, linear
// schedule with warmup ratio 0.03, 2 epochs, effective batch 128 sequences, max length 4096, weight decay 0,
// sum loss, seed 123. Small models need a larger LR (see configs/quickstart/sft.yaml).
import { z } from 'zod';
import * as common from '../common/config.ts';

export const sftConfigSchema = z
  .object({
    ...common.runTargetFields,
    ...common.tokenizerFields,
    data: z
      .object({
        /** open-instruct SFT JSONL: {"messages": [{"role", "content"}, …]} per line. */
        train: z.string().min(1),
        /** Held-out conversations for the assistant loss and exact-match evaluation. */
        test: z.string().min(1).optional(),
        maxLength: z.number().int().min(2).default(4096),
        ...common.dataPolicyFields,
      })
      .strict(),
    ...common.batchFields(2),
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
    ...common.trainingFields({ lr: 5e-6, warmupRatio: 0.03 }),
    ...common.evalAndLogFields({
      /** Held-out conversations used for exact match (greedy generation); 0 disables it. */
      exactMatchExamples: z.number().int().nonnegative().default(64),
      maxNewTokens: z.number().int().positive().default(128),
      /** Prompts per generation batch. */
      generationBatch: z.number().int().positive().default(16),
    }),
  })
  .strict()
  .superRefine(
    common.stageChecks((c, issue) => {
      if (c.microBatchSize > c.batchSize) issue(['microBatchSize'], `must be at most batchSize (${c.batchSize})`);
      if (c.packingTokens !== undefined && c.packingTokens < c.data.maxLength)
        issue(['packingTokens'], `must be at least data.maxLength (${c.data.maxLength}) so every conversation fits`);
    }),
  );

export type SftConfigInput = z.input<typeof sftConfigSchema>;
export type SftConfig = z.infer<typeof sftConfigSchema>;

/** Validates an SFT config object; relative paths resolve against baseDir. */
export function resolveSftConfig(value: unknown, baseDir: string, source = 'config'): SftConfig {
  const c = common.validateConfig(sftConfigSchema, value, source, 'SFT');
  return common.resolveRunPaths(c, baseDir);
}

export function loadSftConfig(path: string): SftConfig {
  return resolveSftConfig(common.readConfigFile(path), common.configDir(path), path);
}
