// RLVR: reinforcement learning with verifiable rewards (GRPO by default, PPO with a value model), as Tülu 3 runs it
// (Lambert et al., https://arxiv.org/abs/2411.15124; open-instruct, https://github.com/allenai/open-instruct).
export {
  rlvrConfigSchema,
  resolveRlvrConfig,
  loadRlvrConfig,
  type RlvrConfigInput,
  type ResolvedRlvrConfig,
} from './config.ts';
export {
  parseRlvrRow,
  loadRlvrPrompts,
  encodePrompt,
  type RlvrRow,
  type RlvrPrompt,
  type LoadPromptsOptions,
} from './data.ts';
export {
  KL_DELTA_CLAMP,
  klEstimate,
  klEstimateTensor,
  grpoAdvantages,
  gae,
  maskedWhiten,
  ppoTokenRewards,
  clippedSurrogate,
  clippedSurrogateTensor,
  clippedValueLoss,
  clippedValueLossTensor,
  lossWeights,
  maskedMean,
  type KlEstimator,
  type LossAggregation,
} from './losses.ts';
export { packRollouts, tokenLogProbs, type RolloutBatch, type TokenLogProbs } from './logprobs.ts';
export { DEFAULT_REWARDS, shapeReward, verifiableReward, type RewardConfig, type RewardResult } from './rewards.ts';
export { ValueModel, VALUE_HEAD_FILE } from './value.ts';
export {
  RlvrTrainer,
  RLVR_CHANGEABLE,
  type RlvrTrainerOptions,
  type Rollout,
  type EvalResult,
  type RlvrStepMetrics,
  type RlvrResult,
  type RewardFn,
} from './trainer.ts';
export { runRlvr, heldoutPaired, type RunRlvrOptions } from './run.ts';
