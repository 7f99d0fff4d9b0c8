// The `olmo distill` config (YAML/JSON, zod-validated): student, prompts, rounds, generation, critic, diversity
// filter and the fine-tuning of each round (the SFT stage's loss: assistant tokens only).
import { z } from 'zod';
import { configDir, PosttrainConfigError, readConfigFile, resolvePath, validateConfig } from '../common/config.ts';
import { modelPathOrHubId } from '../../io/model-ref.ts';

const paths = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const distillConfigSchema = z
  .object({
    /** Run folder: rounds.jsonl, round-K/{candidates,kept}.jsonl, round-K/sft/, final/. */
    output: z.string().min(1),
    /** HF checkpoint folder of the first student. */
    student: z.string().min(1),
    tokenizer: z.string().min(1).optional(),
    data: z
      .object({
        /** JSONL prompts: {messages[, ground_truth, dataset]} (RLVR and SFT rows both work; a final assistant turn is dropped). */
        prompts: paths,
        /** Held-out rows with ground truth: the student's verified rate is measured before and after each round. */
        test: paths.optional(),
        limit: z.number().int().positive().optional(),
        testLimit: z.number().int().positive().optional(),
        maxPromptTokens: z.number().int().positive().default(512),
        badRows: z.enum(['error', 'skip']).default('error'),
      })
      .strict(),
    rounds: z.number().int().positive().default(3),
    candidatesPerPrompt: z.number().int().positive().default(4),
    seed: z.number().int().nonnegative().default(1),
    generation: z
      .object({
        maxNewTokens: z.number().int().positive().default(128),
        temperature: z.number().min(0).default(1.0),
        topK: z.number().int().nonnegative().default(0),
        topP: z.number().gt(0).max(1).default(1),
        batchSize: z.number().int().positive().default(32),
      })
      .strict()
      .default({}),
    critic: z
      .object({
        /** 'verifier': the row's verifier (needs ground_truth / dataset); 'model': a judge LM answering yes / no. */
        type: z.enum(['verifier', 'model']).default('verifier'),
        /** Judge model folder (type model). */
        model: z.string().min(1).optional(),
        tokenizer: z.string().min(1).optional(),
        /** Judge question with {prompt} and {completion} placeholders. */
        template: z.string().min(1).optional(),
        /** Verifier for rows that name none (type verifier). */
        verifier: z.string().min(1).optional(),
        /** A candidate is valid when its score is at least this. */
        threshold: z.number().min(0).max(1).default(0.5),
      })
      .strict()
      .default({}),
    diversity: z
      .object({
        /** Word n-gram size and the Jaccard similarity at which a candidate counts as a near-duplicate. */
        n: z.number().int().positive().default(3),
        threshold: z.number().gt(0).max(1).default(0.7),
        scope: z.enum(['prompt', 'global']).default('prompt'),
      })
      .strict()
      .default({}),
    trainOn: z.enum(['round', 'all']).default('round'),
    sft: z
      .object({
        lr: z.number().positive().default(1e-4),
        epochs: z.number().int().positive().default(1),
        batchSize: z.number().int().positive().default(16),
        microBatchSize: z.number().int().positive().default(8),
        reduction: z.enum(['sum', 'mean']).default('mean'),
        warmupRatio: z.number().min(0).max(1).default(0.03),
        maxLength: z.number().int().min(2).default(1024),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.critic.type === 'model' && !c.critic.model)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['critic', 'model'],
        message: 'a model critic needs the judge model folder',
      });
  });

export type DistillConfigInput = z.input<typeof distillConfigSchema>;

export interface ResolvedDistillConfig extends Omit<z.infer<typeof distillConfigSchema>, 'data'> {
  data: Omit<z.infer<typeof distillConfigSchema>['data'], 'prompts' | 'test'> & { prompts: string[]; test: string[] };
}

export function resolveDistillConfig(value: unknown, baseDir = '.', source = 'config'): ResolvedDistillConfig {
  const c = validateConfig(distillConfigSchema, value, source, 'distill');
  const list = (p: string | string[] | undefined) =>
    p === undefined ? [] : (Array.isArray(p) ? p : [p]).map((x) => resolvePath(baseDir, x));
  if (c.sft.microBatchSize > c.sft.batchSize)
    throw new PosttrainConfigError(
      `${source}: sft.microBatchSize (${c.sft.microBatchSize}) exceeds sft.batchSize (${c.sft.batchSize})`,
    );
  return {
    ...c,
    output: resolvePath(baseDir, c.output),
    student: modelPathOrHubId(baseDir, c.student), // a folder, or a hub id the command resolves
    tokenizer: resolvePath(baseDir, c.tokenizer),
    data: { ...c.data, prompts: list(c.data.prompts), test: list(c.data.test) },
    critic: {
      ...c.critic,
      model: modelPathOrHubId(baseDir, c.critic.model),
      tokenizer: resolvePath(baseDir, c.critic.tokenizer),
    },
  };
}

export function loadDistillConfig(path: string): ResolvedDistillConfig {
  return resolveDistillConfig(readConfigFile(path), configDir(path), path);
}
