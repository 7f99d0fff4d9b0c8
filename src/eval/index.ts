// The OLMES evaluation core: public API. No model code is imported here; backends implement `Backend`.
//
//   const plan = planTasks(['core_9mcqa::olmes', 'mmlu::olmes'], { limit: 100 });
//   const source = new ChainSource([new LocalHfFolderSource(dataDir), new HfCacheSource()]);
//   await dryRun({ tasks: plan, source, outputDir });                       // requests files only
//   const r = await runEval({ tasks: plan, source, outputDir, backend, batchSize: 32, log: console.log });
//   await rescore(outputDir);                                               // metrics from saved records
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
  planTasks, makeTask, listTaskIds, TASK_FAMILIES, REGIMES, CORE_9MCQA, UnknownTaskError,
  type EvalPlan, type SuiteSpec, type ConfigOverrides,
} from './registry.ts';
export { Task, scoreMcDoc, type TaskConfig, type TaskFamily, type Format, type FormatDefinition, type DocPrediction } from './task.ts';
export { MMLU_SUBJECTS } from './tasks/mmlu.ts';
export { hellaswagPreprocess } from './tasks/hellaswag.ts';
export {
  LocalHfFolderSource, HfCacheSource, ChainSource, CachingSource, DatasetNotFoundError, defaultHfHubCache,
  type DatasetSource, type DatasetRef, type LoadedSplit,
} from './data/source.ts';
export { HubDatasetSource, pickSplitFiles, PARQUET_CONVERSION_REVISION, type HubDatasetSourceOptions } from './data/hub-source.ts';
export { readRows, DataFileError } from './data/readers.ts';
export { RowError } from './data/fields.ts';
export { OLMES_FEWSHOT_KEYS, FewshotResolutionError, resolveFewshotRows } from './data/fewshot-sources.ts';
export { type Backend, modelConfigOf } from './runner/backend.ts';
export { RequestCache, requestKey, cacheIdentityOf } from './runner/cache.ts';
export { runEval, dryRun, buildAll, type RunOptions, type EvalOptions, type EvalProgress, type EvalRunResult } from './runner/run.ts';
export { rescore } from './runner/rescore.ts';
export { resultsTable, taskFileName } from './runner/outputs.ts';
export { GENERATIVE_TASKS } from './registry.ts';
export { GenerativeTask, type GenerativeSpec } from './tasks/generative-common.ts';
export { dropMetrics, dropGetMetrics, dropNormalize } from './drop-metric.ts';
export { decontaminate, writeDecontaminationReport, type DecontaminationReport } from './decontaminate/index.ts';
