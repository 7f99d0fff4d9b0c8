// The OLMES evaluation core: public API. No model code is imported here; backends implement `Backend`.
//
//   const source = new ChainSource([new LocalHfFolderSource(dataDir), new HfCacheSource()]);
//   const r = await evaluate({ tasks: ['core_9mcqa::olmes', 'gsm8k::olmes'], overrides: { limit: 100 }, source, outputDir, backend });
//   await evaluate({ tasks, source, outputDir, dryRun: true });             // requests files only
//   await rescore(outputDir);                                               // metrics from saved records
//
// A task implements `Task` (task.ts); kinds/ holds the multiple-choice, OLMES-generative and chat-generation kinds.
// New task families are passed to `evaluate({ families })` or `TASKS.withFamilies([...])`.
export * from './types.ts';
export { PyRandom } from '../pycompat/pyrandom.ts';
export { pairedComparison, signTestPValue, type PairedComparison } from '../stats/paired.ts';
export { pyCapitalize, pyStrip, pyRstrip, pyLstrip, pyLen, utf8Length } from '../pycompat/pystr.ts';
export { makeMcqPrompt, makeClozePrompt, fewshotContext, choiceLabels, UNCONDITIONED_CONTEXT } from './prompts.ts';
export { encodePair, truncateLeft, type Tokenize, type EncodedPair, type TruncatedInput } from './tokenization.ts';
export * from './metrics.ts';
export * from './text-metrics.ts';
export * from './aggregate.ts';
export { selectInstances, resolveLimit, OLMES_SUBSAMPLE_SEED } from './selection.ts';
export { parseTaskId, formatTaskId, FORMATS, TaskIdError, type TaskId } from './task-id.ts';
export {
  planTasks,
  makeTask,
  listTaskIds,
  TASKS,
  TaskRegistry,
  MultipleChoiceTasks,
  generativeTasks,
  BUILTIN_FAMILIES,
  MC_FAMILIES,
  GENERATIVE_SPECS,
  REGIMES,
  CORE_9MCQA,
  UnknownTaskError,
  type EvalPlan,
  type SuiteSpec,
  type ConfigOverrides,
  type TaskResolver,
  type PlanBuilder,
} from './registry.ts';
export {
  copyWithConfig,
  type Task,
  type TaskConfig,
  type TaskFormat,
  type Format,
  type DocPrediction,
  type ModelOutput,
} from './task.ts';
export {
  MultipleChoiceTask,
  scoreMcDoc,
  mcTaskConfig,
  type McTaskFamily,
  type FormatDefinition,
  type McModelOutput,
} from './kinds/multiple-choice.ts';
export {
  OlmesGenerativeTask,
  makeGenerativeTask,
  cutAtStop,
  type GenerativeSpec,
  type GenerativeTaskConfig,
  type FewshotSpec,
} from './kinds/olmes-generative.ts';
export {
  ChatGenerationTask,
  generationResolver,
  makeGenerationConfig,
  applyArgs,
  GENERATION_REGIMES,
  type GenDoc,
  type ScoredDoc,
  type GenerationTaskConfig,
  type GenerationTaskFactory,
  type GenerationTaskFactoryArgs,
} from './kinds/chat-generation.ts';
export { RowsSource, datasetFolders, findDatasetFile, rowLocator } from './data/dataset-files.ts';
export { pearson, spearman, averageRanks, distinctN } from './correlation.ts';
export { CRITIC_MODES, criticModeIds, splitCriticModes, type CriticMode } from './critic-modes.ts';
export { MMLU_SUBJECTS } from './tasks/mmlu.ts';
export { hellaswagPreprocess } from './tasks/hellaswag.ts';
export {
  LocalHfFolderSource,
  HfCacheSource,
  ChainSource,
  CachingSource,
  DatasetNotFoundError,
  defaultHfHubCache,
  type DatasetSource,
  type DatasetRef,
  type LoadedSplit,
} from './data/source.ts';
export {
  HubDatasetSource,
  pickSplitFiles,
  PARQUET_CONVERSION_REVISION,
  type HubDatasetSourceOptions,
} from './data/hub-source.ts';
export { readRows, DataFileError } from './data/readers.ts';
export { RowError } from './data/fields.ts';
export { OLMES_FEWSHOT_KEYS, FewshotResolutionError, resolveFewshotRows } from './data/fewshot-sources.ts';
export { type Backend, modelConfigOf } from './runner/backend.ts';
export { RequestCache, requestKey, cacheIdentityOf } from './runner/cache.ts';
export {
  runEval,
  dryRun,
  buildAll,
  type RunOptions,
  type EvalOptions,
  type EvalProgress,
  type EvalRunResult,
} from './runner/run.ts';
export {
  evaluate,
  planEvaluation,
  type EvaluateOptions,
  type EvaluatePart,
  type EvaluatePlan,
  type EvaluateResult,
} from './runner/evaluate.ts';
export { rescore, rescoreAll, runFolders, type RescoreOptions } from './runner/rescore.ts';
export { localMcFamily, localMcIds } from './tasks/local-mc.ts';
export { resultsTable, taskFileName } from './runner/outputs.ts';
export { dropMetrics, dropGetMetrics, dropNormalize } from './drop-metric.ts';
export { decontaminate, writeDecontaminationReport, type DecontaminationReport } from './decontaminate/index.ts';
