// The `olmo rlvr` config (YAML/JSON, zod-validated; errors name the field). Defaults follow
// open-instruct's Tülu 3 commands (docs/tulu3.md, https://github.com/allenai/open-instruct): GRPO as in
// Tülu 3.1 (16 samples per prompt, β = 0.01 with kl3 in the loss, no-EOS penalty 0, constant LR) and PPO as in
// Tülu 3 (β = 0.05 with kl1 in the reward, penalty −10, GAE γ = 1 λ = 0.95, vf_coef 0.1, linear LR). These
// learning rates (5e-7 / 3e-7) are for 8B models; tiny models need far larger ones (see the quickstart config).
import { z } from 'zod';
import {
  configDir,
  optimizerSchema,
  PosttrainConfigError,
  readConfigFile,
  resolvePath,
  validateConfig,
} from '../common/config.ts';
import type { KlEstimator, LossAggregation } from './losses.ts';
import type { RewardConfig } from './rewards.ts';
import { modelPathOrHubId } from '../../io/model-ref.ts';

const paths = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const rlvrConfigSchema = z
  .object({
    /** Run folder: metrics.jsonl, config.resolved.json, checkpoints/, final/. */
    output: z.string().min(1),
    /** HF checkpoint folder of the initial policy (also the reference unless `reference` is given). */
    model: z.string().min(1),
    reference: z.string().min(1).optional(),
    /** Tokenizer folder (default: the model folder). */
    tokenizer: z.string().min(1).optional(),
    data: z
      .object({
        /** RLVR JSONL file(s): {messages, ground_truth, dataset}. */
        train: paths,
        /** Held-out RLVR JSONL file(s) for the verified-rate evaluation. */
        test: paths.optional(),
        maxPromptTokens: z.number().int().positive().default(512),
        badRows: z.enum(['error', 'skip']).default('error'),
      })
      .strict(),
    algorithm: z.enum(['grpo', 'ppo']).default('grpo'),
    seed: z.number().int().nonnegative().default(1),
    /** Optimisation steps (one rollout batch each). */
    steps: z.number().int().positive(),
    promptsPerStep: z.number().int().positive().default(8),
    /** Samples per prompt (default: 16 for GRPO, 1 for PPO). */
    samplesPerPrompt: z.number().int().positive().optional(),
    /** PPO-style passes over each rollout batch (open-instruct num_epochs 4) and minibatches per pass. */
    epochsPerBatch: z.number().int().positive().default(4),
    minibatches: z.number().int().positive().default(1),
    /** Sequences per forward/backward (gradient accumulation inside a minibatch; results do not depend on it). */
    microBatchSize: z.number().int().positive().default(16),
    generation: z
      .object({
        maxNewTokens: z.number().int().positive().default(256),
        temperature: z.number().positive().default(1.0),
        topK: z.number().int().nonnegative().default(0),
        topP: z.number().gt(0).max(1).default(1),
      })
      .strict()
      .default({}),
    /** Peak learning rate (default: 5e-7 for GRPO, 3e-7 for PPO: the 8B values). */
    lr: z.number().positive().finite().optional(),
    /** Default: constant for GRPO, linear for PPO. */
    schedule: z.enum(['constant', 'linear']).optional(),
    warmupRatio: z.number().min(0).max(1).default(0),
    optimizer: optimizerSchema.extend({ maxGradNorm: z.number().min(0).default(1.0) }).default({}),
    kl: z
      .object({
        /** Default: 0.01 for GRPO, 0.05 for PPO. */
        beta: z.number().min(0).optional(),
        /** Default: kl3 for GRPO (in the loss), kl1 for PPO (in the reward). */
        estimator: z.enum(['kl1', 'kl2', 'kl3']).optional(),
      })
      .strict()
      .default({}),
    reward: z
      .object({
        correct: z.number().default(10),
        incorrect: z.number().default(0),
        nonStopPenalty: z.boolean().default(true),
        /** Default: 0 for GRPO (Tülu 3.1), −10 for PPO (Tülu 3). */
        penaltyValue: z.number().optional(),
      })
      .strict()
      .default({}),
    /** Clip range ε of the ratio. */
    clip: z.number().positive().default(0.2),
    grpo: z
      .object({
        /** 'token': masked mean over the minibatch's tokens (open-instruct); 'sequence': per-sequence means averaged. */
        lossAggregation: z.enum(['token', 'sequence']).default('token'),
        stdEps: z.number().positive().default(1e-8),
      })
      .strict()
      .default({}),
    ppo: z
      .object({
        gamma: z.number().min(0).max(1).default(1),
        lambda: z.number().min(0).max(1).default(0.95),
        vfCoef: z.number().min(0).default(0.1),
        valueClip: z.number().positive().default(0.2),
        whitenAdvantages: z.boolean().default(true),
        /** 'head': a value head on the policy; otherwise an HF checkpoint folder for a separate value model. */
        valueModel: z.string().min(1).default('head'),
      })
      .strict()
      .default({}),
    eval: z
      .object({
        /** Evaluate every N steps (and before the first and after the last); 0 = only before and after. */
        every: z.number().int().nonnegative().default(0),
        limit: z.number().int().positive().optional(),
        /** Greedy by default. */
        temperature: z.number().min(0).default(0),
        maxNewTokens: z.number().int().positive().optional(),
        batchSize: z.number().int().positive().default(32),
      })
      .strict()
      .default({}),
    checkpoint: z
      .object({ every: z.number().int().positive().default(100), keepLast: z.number().int().positive().default(1) })
      .strict()
      .default({}),
    logEvery: z.number().int().positive().default(1),
  })
  .strict();

export type RlvrConfigInput = z.input<typeof rlvrConfigSchema>;

/** The config with the algorithm-dependent defaults filled in and paths resolved. */
export interface ResolvedRlvrConfig extends Omit<
  z.infer<typeof rlvrConfigSchema>,
  'samplesPerPrompt' | 'lr' | 'schedule' | 'kl' | 'reward' | 'data'
> {
  samplesPerPrompt: number;
  lr: number;
  schedule: 'constant' | 'linear';
  kl: { beta: number; estimator: KlEstimator };
  reward: RewardConfig;
  data: { train: string[]; test: string[]; maxPromptTokens: number; badRows: 'error' | 'skip' };
  grpo: { lossAggregation: LossAggregation; stdEps: number };
}

export function resolveRlvrConfig(value: unknown, baseDir = '.', source = 'config'): ResolvedRlvrConfig {
  const c = validateConfig(rlvrConfigSchema, value, source, 'RLVR');
  const grpo = c.algorithm === 'grpo';
  const list = (p: string | string[] | undefined) =>
    p === undefined ? [] : (Array.isArray(p) ? p : [p]).map((x) => resolvePath(baseDir, x));
  const resolved: ResolvedRlvrConfig = {
    ...c,
    output: resolvePath(baseDir, c.output),
    model: modelPathOrHubId(baseDir, c.model), // a folder, or a hub id the command resolves
    reference: modelPathOrHubId(baseDir, c.reference),
    tokenizer: resolvePath(baseDir, c.tokenizer),
    data: {
      train: list(c.data.train),
      test: list(c.data.test),
      maxPromptTokens: c.data.maxPromptTokens,
      badRows: c.data.badRows,
    },
    samplesPerPrompt: c.samplesPerPrompt ?? (grpo ? 16 : 1),
    lr: c.lr ?? (grpo ? 5e-7 : 3e-7),
    schedule: c.schedule ?? (grpo ? 'constant' : 'linear'),
    kl: { beta: c.kl.beta ?? (grpo ? 0.01 : 0.05), estimator: c.kl.estimator ?? (grpo ? 'kl3' : 'kl1') },
    reward: {
      correct: c.reward.correct,
      incorrect: c.reward.incorrect,
      nonStopPenalty: c.reward.nonStopPenalty,
      penaltyValue: c.reward.penaltyValue ?? (grpo ? 0 : -10),
    },
    ppo: { ...c.ppo, valueModel: c.ppo.valueModel === 'head' ? 'head' : modelPathOrHubId(baseDir, c.ppo.valueModel) },
  };
  if (grpo && resolved.samplesPerPrompt < 2) {
    throw new PosttrainConfigError(
      `${source}: GRPO needs samplesPerPrompt ≥ 2 (advantages are normalised within each prompt's group), got ${resolved.samplesPerPrompt}`,
    );
  }
  const rollouts = resolved.promptsPerStep * resolved.samplesPerPrompt;
  if (resolved.minibatches > rollouts) {
    throw new PosttrainConfigError(
      `${source}: minibatches (${resolved.minibatches}) exceeds the rollouts per step (promptsPerStep × samplesPerPrompt = ${rollouts})`,
    );
  }
  return resolved;
}

export function loadRlvrConfig(path: string): ResolvedRlvrConfig {
  return resolveRlvrConfig(readConfigFile(path), configDir(path), path);
}
