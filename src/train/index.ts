export { AdamW, clipFactor, gradNorm, type AdamWOptions, type ParamGroup } from './optim.ts';
export { lrAt, type Schedule, type ScheduleKind } from './schedule.ts';
export {
  loadTrainConfig,
  readConfigValue,
  resolveTrainConfig,
  trainConfigSchema,
  TrainConfigError,
  type TrainConfig,
  type TrainConfigInput,
  type ResolvedTrainConfig,
} from './config.ts';
export {
  Trainer,
  PRETRAIN_CHANGEABLE,
  type TrainOptions,
  type TrainResult,
  type StepMetrics,
  type PretrainState,
} from './trainer.ts';
export {
  saveCheckpoint,
  loadCheckpoint,
  readCheckpointState,
  listCheckpoints,
  checkpointName,
  CheckpointCorruptError,
  TRAIN_STATE_FILE,
  OPTIMIZER_FILE,
  type CheckpointState,
  type CheckpointContents,
  type LoadedCheckpoint,
  type LoopState,
  type RunInfo,
  type StageKind,
} from './checkpoint.ts';
export {
  runTrainingLoop,
  type Callback,
  type LoopContext,
  type LoopOptions,
  type LoopResult,
  type StepInfo,
  type StepReport,
  type TrainingStage,
} from './loop.ts';
export {
  failOnNonFinite,
  skipNonFinite,
  SpikeSkipper,
  TrainingAborted,
  type BadStepPolicy,
  type SpikeSettings,
} from './bad-steps.ts';
export { openRun, findResumeCheckpoint, type OpenedRun, type RunSetup, type RunStartOptions } from './resume.ts';
export { claimFreshRunFolder, findRun, removeStaleTemporaries, RunFolderError, type RunFound } from './run-folder.ts';
export {
  checkConfigChanges,
  configChanges,
  ConfigChangeError,
  HISTORY_FILE,
  matchesField,
  recordConfigChanges,
  type ConfigChange,
  type FieldPatterns,
} from './config-changes.ts';
export { MetricsLog, METRICS_FILE } from './metrics-log.ts';
export { soup } from './soup.ts';
export { validationLoss, type ValidationOptions } from './validation.ts';
export { moeLosses } from './moe-losses.ts';
export { Progress, formatDuration } from './progress.ts';
export { packageInfo } from '../io/package-info.ts';
