// Shared post-training pieces (SFT, DPO, RLVR, distillation): open-instruct data rows with file:line errors,
// conversation encoding with assistant-only labels, per-sequence log-probs, config and loop helpers.
export {
  DataRowError,
  RowError,
  formatProblem,
  loadRows,
  parseMessages,
  parsePreferenceRow,
  parseSftRow,
  readJsonl,
  type BadRowPolicy,
  type JsonlRow,
  type PreferencePair,
  type ReadRowsResult,
  type RowProblem,
  type SftExample,
} from './conversations.ts';
export {
  IGNORE_INDEX,
  encodeForTraining,
  formatEncodeReport,
  newEncodeReport,
  noteOutcome,
  type EncodeOptions,
  type EncodeOutcome,
  type EncodeReport,
  type EncodedExample,
  type OverlongPolicy,
} from './encode.ts';
export { labelCrossEntropy, padBatch, sequenceLogProbs, type PaddedBatch, type SequenceLogProbs } from './logprobs.ts';
export {
  PosttrainConfigError,
  batchFields,
  checkMicroBatch,
  checkpointSchema,
  dataPolicyFields,
  evalTimingFields,
  logEveryField,
  optimizerSchema,
  readConfigFile,
  resolvePath,
  resolveRunPaths,
  runTargetFields,
  scheduleFields,
  tokenizerFields,
  trainingFields,
  validateConfig,
  type OptimizerConfig,
} from './config.ts';
export { EpochPlan, makeOptimizer, mean, microBatches, warmupRatioSchedule } from './loop.ts';
export { encodeConversations, loadChatTokenizer, loadPolicy } from './setup.ts';
export {
  PosttrainRun,
  POSTTRAIN_CHANGEABLE,
  openRun,
  type OpenedRun,
  type PosttrainOptions,
  type PosttrainRunConfig,
  type StepInfo,
  type TrainingHooks,
} from './run.ts';
