// The evaluation task model. A task is one leaf evaluation (one dataset in one format or protocol): it loads its
// docs, builds each doc's requests, scores a doc from its requests' results, and — for `olmo eval --rescore` — takes
// its docs back from a run's saved predictions instead of loading data. The runner (runner/run.ts) and rescore
// (runner/rescore.ts) know tasks only through this interface.
//
// Three kinds implement it (kinds/): multiple-choice (log-likelihood ranking of options, OLMES's RC and MC formats),
// OLMES-generative (one few-shot generate_until request per doc, per-doc metrics) and chat-generation (chat
// requests, several samples per doc, corpus-level metrics). A benchmark with a protocol of its own (WorldValuesBench,
// SimpleToM's generation regimes) implements the interface directly.
import { describeRef, type DatasetRef, type DatasetSource } from './data/source.ts';
import type { McModelOutput } from './kinds/multiple-choice.ts';
import { selectInstances } from './selection.ts';
import type { Doc, RequestInstance, RequestResult, Row } from './types.ts';

export type Format = 'rc' | 'mc';
/** A task config's `format`: RC or MC, or 'gen' for the seed benchmarks' generation tasks (the OLMES generative tasks write none). */
export type TaskFormat = Format | 'gen';

/** The resolved configuration of one leaf task, written to metrics.json as task_config (oe-eval key names). */
export interface TaskConfig {
  task_name: string;
  task_core: string;
  alias: string;
  /** rc or mc for log-likelihood tasks; 'gen' for generation tasks; absent for the OLMES generative tasks */
  format?: TaskFormat;
  regime: string;
  dataset_path: string;
  dataset_name: string | null;
  split: string;
  fewshot_split: string;
  num_shots: number;
  fewshot_source: string | null;
  fewshot_seed: number;
  /** an McMetricName for MC tasks; a generative or seed task names its own (exact_match, f1, success_rate, …) */
  primary_metric: string;
  limit: number | null;
  random_subsample_seed: number;
  native_id_field: string | null;
  uncond: boolean;
  version: number;
}

/** Unconditioned (PMI) requests are written with doc_id + this offset, as oe-eval does. */
export const UNCOND_DOC_ID_OFFSET = 1_000_000;

/**
 * model_output entry: per choice of an MC doc the log-likelihood record (kinds/multiple-choice.ts McModelOutput), per
 * request of a generation doc a record with at least `continuation` (the raw generation) plus what the task parsed.
 */
export type ModelOutput = McModelOutput | Record<string, unknown>;

/** What scoring one doc gives: oe-eval's prediction fields. */
export interface DocPrediction {
  doc_id: number;
  native_id: string | number;
  metrics: Record<string, number>;
  model_output: ModelOutput[];
  /** the gold index (MC), or the task's label (e.g. GSM8K's short answer) */
  label: number | string;
}

export interface Task {
  readonly config: TaskConfig;
  /**
   * This task with another config: rescore puts a run's saved task_config in place of the one the registry makes
   * today, so that scoring uses exactly the settings the run used.
   */
  withConfig(config: TaskConfig): Task;
  /** The docs to evaluate (after OLMES's instance selection) and how many the split holds. */
  loadEvalDocs(source: DatasetSource): Promise<{ docs: Doc[]; total: number }>;
  /** The few-shot docs every prompt shows ([] for zero-shot tasks). */
  loadFewshotDocs(source: DatasetSource): Promise<Doc[]>;
  /** Every request of one doc, with the ids that link it back (doc_id = position among the evaluated docs). */
  buildInstances(doc: Doc, docId: number, shots: readonly Doc[]): RequestInstance[];
  /**
   * Per-doc metrics and model_output from the doc's request instances (as built) and their results (in the same
   * order). The runner and rescore both score through this, so a rescored run cannot drift from the run.
   */
  scoreDoc(
    doc: Doc,
    docId: number,
    instances: readonly RequestInstance[],
    results: readonly RequestResult[],
  ): DocPrediction;
  /**
   * rescore: reinstate what scoring needs from the evaluated docs as the run saved them (predictions' `doc`, in
   * doc_id order), instead of loading data. A task whose scoring reads more than the requests and results keeps
   * that in `doc.extra` and checks it here.
   */
  restoreDocs(docs: readonly Doc[]): void;
}

/** A shallow copy of a task object with another config: the usual `withConfig` of a class implementing Task. */
export function copyWithConfig<T extends Task>(task: T, config: TaskConfig): T {
  const t = Object.create(Object.getPrototypeOf(task)) as T;
  Object.assign(t, task, { config });
  return t;
}

/** The saved docs carry the task's own fields (`extra`); an error naming the doc otherwise. */
export function requireExtra(alias: string, docs: readonly Doc[]): void {
  docs.forEach((d, i) => {
    if (d.extra === undefined)
      throw new Error(`${alias} doc ${i}: the saved doc has no task fields (extra); it cannot be scored`);
  });
}

/** The dataset reference of one of a task's splits. */
export function splitRef(config: TaskConfig, split: string): DatasetRef {
  return { path: config.dataset_path, name: config.dataset_name ?? undefined, split };
}

/** Every row of the eval split made a doc by `process`, then OLMES's selection (random.Random(seed).sample over the limit). */
export async function loadSelectedDocs<D extends Doc>(
  config: TaskConfig,
  source: DatasetSource,
  process: (row: Row, index: number, where: string) => D,
): Promise<{ docs: D[]; total: number }> {
  const ref = splitRef(config, config.split);
  const { rows } = await source.load(ref);
  const all = rows.map((r, i) => process(r, i, `${describeRef(ref)} row ${i}`));
  return { docs: selectInstances(all, config.limit, config.random_subsample_seed), total: all.length };
}
