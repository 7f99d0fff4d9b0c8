export { AdamW, clipFactor, gradNorm, type AdamWOptions, type ParamGroup } from './optim.ts';
export { lrAt, type Schedule, type ScheduleKind } from './schedule.ts';
export { loadTrainConfig, resolveTrainConfig, trainConfigSchema, TrainConfigError, type TrainConfig, type TrainConfigInput, type ResolvedTrainConfig } from './config.ts';
export { Trainer, TrainingAborted, type TrainOptions, type TrainResult, type StepMetrics } from './trainer.ts';
export { saveCheckpoint, loadCheckpoint, saveRunCheckpoint, loadRunCheckpoint, listCheckpoints, CheckpointCorruptError, type TrainState, type LoadedCheckpoint } from './checkpoint.ts';
export { soup } from './soup.ts';
export { moeLosses } from './moe-losses.ts';
export { Progress, formatDuration } from './progress.ts';
export { packageInfo } from '../io/package-info.ts';
