// olmo-ts public API. The engine, models, tokenizers and layers at the top level; the larger subsystems as
// namespaces (their names would otherwise collide).
export * from './tensor/index.ts';
export * as io from './io/safetensors.ts';
export * from './tokenizers/index.ts';
export * from './nn/index.ts';
export * from './models/index.ts';
export {
  exportGguf,
  writeModelGguf,
  checkRepresentable,
  ExportRefusal,
  GGUF_DTYPES,
  type GgufDType,
  type ExportGgufOptions,
  type ExportGgufResult,
} from './models/gguf-export.ts';
export * as data from './data/index.ts';
export * as train from './train/index.ts';
export * as evaluation from './eval/index.ts';
export * as evalBackends from './eval/backends/index.ts';
export * as pddl from './pddl/index.ts';

// Each workflow stage's entry points, by name: everything the `olmo` command uses comes from here, so the
// command is a thin wrapper over what a library user can call (test/architecture/layers.test.ts checks it).
export { packageInfo, packageVersion, gitCommit } from './io/package-info.ts';
export { loadNativeAddon, nativeLoadError, type NativeAddon } from './tensor/native-addon.ts';
export { writeTextAtomically } from './io/atomic.ts';
export {
  resolveModelRef,
  modelPathOrHubId,
  looksLikeHubId,
  ModelRefError,
  type ModelRefOptions,
  type ModelDownloadProgress,
} from './io/model-ref.ts';
export { openSafetensors, saveSafetensors, type TensorToWrite } from './io/safetensors.ts';
export { DEFAULT_BPE_SPECIAL_TOKENS } from './tokenizers/train-bpe.ts';
export { invalidUtf8Message, synthesize, tokenize, type SynthManifest } from './data/index.ts';
export { loadTrainConfig, Trainer, soup, Progress, type TrainResult, type RunStartOptions } from './train/index.ts';
export { loadSftConfig, SftTrainer, type SftResult } from './posttrain/sft/index.ts';
export { loadDpoConfig, DpoTrainer, type DpoResult } from './posttrain/dpo/index.ts';
export { loadRlvrConfig, runRlvr, heldoutPaired } from './posttrain/rlvr/index.ts';
export { loadDistillConfig, runDistill } from './posttrain/distill/index.ts';
export { runQuickstart, type QuickstartOptions, type QuickstartResult } from './quickstart/run.ts';
export { templateDir, vocabularyOf } from './quickstart/configs.ts';
export {
  checkDomain,
  checkProblem,
  formatPlan,
  parseDomain,
  parsePlan,
  parseProblem,
  plan,
  validatePlan,
  PddlCheckError,
  PddlParseError,
} from './pddl/index.ts';
export {
  decontaminate,
  writeDecontaminationReport,
  DEFAULT_DATASET_THRESHOLD,
  DEFAULT_MATCH_THRESHOLD,
  DEFAULT_NGRAM,
} from './eval/decontaminate/index.ts';
export { ChainSource, HfCacheSource, LocalHfFolderSource, type DatasetSource } from './eval/data/source.ts';
// `olmo eval`: plan, run and rescore OLMES evaluations through a backend (the eval `Backend` is named
// `EvalBackend` here, apart from the tensor backends).
export {
  evaluate,
  planEvaluation,
  rescore,
  runFolders,
  resultsTable,
  listTaskIds,
  TaskIdError,
  CRITIC_MODES,
  criticModeIds,
  HubDatasetSource,
  type Backend as EvalBackend,
  type ConfigOverrides,
  type EvalProgress,
  type EvaluateOptions,
  type EvaluatePlan,
  type EvaluateResult,
} from './eval/index.ts';
export { LocalBackend, OpenAIBackend, OpenAIPool, type LogprobsMode } from './eval/backends/index.ts';
export { startServer, isLoopback, type ServeOptions, type RunningServer } from './serve/index.ts';
export {
  startDashboard,
  type DashboardOptions,
  type RunningDashboard,
  type ChatOption as DashboardChatOption,
} from './dashboard/index.ts';
