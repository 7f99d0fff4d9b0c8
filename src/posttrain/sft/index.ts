// Supervised fine-tuning (`olmo sft`).
export { sftConfigSchema, resolveSftConfig, loadSftConfig, type SftConfig, type SftConfigInput } from './config.ts';
export { SftTrainer, type SftOptions, type SftResult, type SftEval, type SftStepMetrics } from './trainer.ts';
export { assistantLoss, exactMatch, exactMatchItem, type ExactMatchItem, type ExactMatchResult } from './eval.ts';
