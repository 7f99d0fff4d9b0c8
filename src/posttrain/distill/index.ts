// Iterative self-distillation (δ-RoT): student generates, a critic filters, near-duplicates are dropped, the
// student is fine-tuned on what was kept; repeated for N rounds.
export {
  distillConfigSchema,
  resolveDistillConfig,
  loadDistillConfig,
  type DistillConfigInput,
  type ResolvedDistillConfig,
} from './config.ts';
export {
  VerifierCritic,
  ModelCritic,
  DEFAULT_CRITIC_TEMPLATE,
  type Critic,
  type CriticItem,
  type ModelCriticOptions,
} from './critic.ts';
export { ngrams, jaccard, dedupeByJaccard } from './diversity.ts';
export {
  runDistillLoop,
  type DistillPrompt,
  type Candidate,
  type RoundRecord,
  type DistillHooks,
  type DistillLoopOptions,
  type DistillResult,
  type DistillResume,
} from './loop.ts';
export {
  runDistill,
  readDistillResume,
  parseDistillRow,
  sampleCompletions,
  verifiedRate,
  verifiedOutcomes,
  type RunDistillOptions,
} from './run.ts';
