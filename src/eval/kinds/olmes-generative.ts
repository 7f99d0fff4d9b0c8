// The OLMES-generative kind of task (olmes gsm8k, drop, naturalqs, triviaqa): one generate_until request per doc
// (greedy, the task's stop sequences and max_gen_toks), the plain-text few-shot context of olmes base_task.py
// (description + shots joined by "\n\n" + "\n\n" + query), and per-doc metrics computed from the continuation.
// A `GenerativeSpec` gives the per-dataset parts. Docs keep `choices` = the gold answers (for the requests file) and
// the task's own fields under `extra`, which is all scoring reads.
import { cutAtStops } from '../backends/common.ts';
import { resolveKeyedRows, type RowKey } from '../data/fewshot-sources.ts';
import type { RowWhere } from '../data/fields.ts';
import { describeRef, type DatasetSource } from '../data/source.ts';
import { fewshotContext, type FewshotExample } from '../prompts.ts';
import { OLMES_SUBSAMPLE_SEED } from '../selection.ts';
import {
  copyWithConfig,
  loadSelectedDocs,
  requireExtra,
  splitRef,
  type DocPrediction,
  type Task,
  type TaskConfig,
} from '../task.ts';
import type { Doc, DocRequests, DocResults, GenerationKwargs, RequestInstance, Row } from '../types.ts';

/** Where a task's few-shot examples come from. */
export type FewshotSpec =
  /** rows shipped with the task (STD:GSM8k: Wei et al.'s hand-written exemplars, not dataset rows) */
  | { kind: 'embedded'; source: string; rows: readonly Row[] }
  /** curated rows identified by keys, resolved from the loaded training split; `edit` applies OLMES's own edits */
  | { kind: 'keys'; source: string; split: string; keys: readonly RowKey[]; edit?: (row: Row, i: number) => Row };

export interface GenerativeSpec {
  /** the name in task ids, e.g. "naturalqs" in naturalqs::olmes */
  alias: string;
  /** oe-eval task_name, used in output file names, e.g. "naturalqs_open" */
  taskName: string;
  datasetPath: string;
  datasetName?: string;
  evalSplit: string;
  fewshot: FewshotSpec;
  numShots: number;
  /** OLMES limit (1000, sampled with random.Random(1234)), or null for the whole split */
  limit: number | null;
  nativeIdField: string | null;
  /** text before the first shot (context_kwargs.description) */
  description?: string;
  primaryMetric: 'exact_match' | 'f1';
  maxGenToks: number;
  stopSequences: string[];
  /** raw row → doc; validates what it reads and throws RowError naming `where` */
  processDoc(row: Row, index: number, where: RowWhere): Doc;
  docToText(doc: Doc): string;
  docToTarget(doc: Doc): string;
  /** the request label (oe-eval's `label`), e.g. GSM8K's short answer */
  label(doc: Doc): string;
  /** per-doc metrics from the continuation (already cut at the first stop sequence) */
  score(doc: Doc, continuation: string): Record<string, number>;
}

/** The resolved config of a generative task, as written to metrics.json (oe-eval key names). */
export type GenerativeTaskConfig = TaskConfig & {
  generation_kwargs: GenerationKwargs;
  context_kwargs: { description: string | null };
};

/**
 * The continuation up to the first stop sequence. Backends already stop there (lm-eval and the OpenAI API return
 * the text without the stop string); cutting again makes scoring independent of a backend that does not.
 */
export const cutAtStop = cutAtStops;

/**
 * A generative task's doc: its prompt as `query`, the gold answers as `choices` (gold 0) and the task's own fields
 * as `extra`, in the key order requests.jsonl shows.
 */
export function generativeDoc(
  index: number,
  nativeId: string | number,
  query: string,
  answers: string[],
  extra: object,
): Doc {
  return { index, native_id: nativeId, query, choices: answers, gold: 0, extra: extra as Record<string, unknown> };
}

/** What a generative prediction line holds (oe-eval: model_output = [{continuation, …}]). */
export type GenerativeOutput = {
  continuation: string;
  /** the continuation after cutting at the first stop sequence, as scored */
  scored_continuation: string;
};

export class OlmesGenerativeTask implements Task {
  constructor(
    readonly spec: GenerativeSpec,
    readonly config: GenerativeTaskConfig,
  ) {}

  withConfig(config: TaskConfig): this {
    return copyWithConfig(this, config);
  }

  loadEvalDocs(source: DatasetSource): Promise<{ docs: Doc[]; total: number }> {
    return loadSelectedDocs(this.config, source, (r, i, where) => this.spec.processDoc(r, i, where));
  }

  async loadFewshotDocs(source: DatasetSource): Promise<Doc[]> {
    const k = this.config.num_shots;
    if (k === 0) return [];
    const fs = this.spec.fewshot;
    if (fs.kind === 'embedded') {
      if (k > fs.rows.length)
        throw new Error(
          `${this.config.alias}: few-shot source ${fs.source} has ${fs.rows.length} examples, ${k} requested`,
        );
      return fs.rows.slice(0, k).map((r, i) => this.spec.processDoc(r, i, `few-shot example ${i} of ${fs.source}`));
    }
    const ref = splitRef(this.config, fs.split);
    const { rows, files } = await source.load(ref);
    const picked = resolveKeyedRows(fs.source, fs.keys, rows, k, `${describeRef(ref)} (${files.join(', ')})`);
    return picked.map((r, i) =>
      this.spec.processDoc(
        fs.edit ? fs.edit(r, i) : r,
        i,
        `few-shot example ${i} of ${fs.source} from ${describeRef(ref)}`,
      ),
    );
  }

  fewshotExamples(shots: readonly Doc[]): FewshotExample[] {
    return shots.map((d) => ({ text: this.spec.docToText(d), target: this.spec.docToTarget(d) }));
  }

  context(doc: Doc, shots: readonly Doc[]): string {
    return fewshotContext(
      this.spec.docToText(doc),
      this.fewshotExamples(shots),
      this.config.context_kwargs.description ?? '',
    );
  }

  /** One generate_until request: the few-shot context, the task's generation kwargs. */
  buildInstances(doc: Doc, docId: number, shots: readonly Doc[]): RequestInstance[] {
    const g = this.config.generation_kwargs;
    return [
      {
        request_type: 'generate_until',
        request: {
          type: 'generate_until',
          context: this.context(doc, shots),
          generation_kwargs: { ...g, stop_sequences: [...g.stop_sequences] },
        },
        task_name: this.config.task_name,
        doc_id: docId,
        native_id: doc.native_id,
        idx: 0,
        label: this.spec.label(doc),
        uncond: false,
      },
    ];
  }

  /** Scores one doc from its continuation (the runner hands generate_until results over as they came back). */
  scoreContinuation(doc: Doc, continuation: string): { metrics: Record<string, number>; output: GenerativeOutput } {
    const scored = cutAtStop(continuation, this.config.generation_kwargs.stop_sequences);
    return { metrics: this.spec.score(doc, scored), output: { continuation, scored_continuation: scored } };
  }

  scoreDoc(doc: Doc, docId: number, instances: DocRequests, results: DocResults): DocPrediction {
    const where = `${this.config.alias} doc ${docId}`;
    if (instances.length !== 1 || results.length !== 1)
      throw new Error(
        `${where}: expected one generate_until request and result, got ${instances.length} and ${results.length}`,
      );
    const cont = results[0];
    if (typeof cont !== 'string')
      throw new Error(`${where}: generate_until result must be a string, got ${typeof cont}`);
    const { metrics, output } = this.scoreContinuation(doc, cont);
    return { doc_id: docId, native_id: doc.native_id, metrics, model_output: [output], label: instances[0].label };
  }

  restoreDocs(docs: readonly Doc[]): void {
    requireExtra(this.config.alias, docs);
  }
}

/** The task for a generative spec under a regime, with the regime's overrides and the command line's. */
export function makeGenerativeTask(
  spec: GenerativeSpec,
  regime: string,
  applyRegime: (c: TaskConfig) => TaskConfig,
  overrides: { limit?: number | null; num_shots?: number } = {},
): OlmesGenerativeTask {
  let cfg: GenerativeTaskConfig = {
    task_name: spec.taskName,
    task_core: spec.taskName,
    alias: `${spec.alias}::${regime}`,
    // generative tasks have no rc/mc format: no `format` key, as oe-eval writes them
    regime,
    dataset_path: spec.datasetPath,
    dataset_name: spec.datasetName ?? null,
    split: spec.evalSplit,
    fewshot_split: spec.fewshot.kind === 'keys' ? spec.fewshot.split : spec.evalSplit,
    num_shots: spec.numShots,
    fewshot_source: spec.fewshot.source,
    fewshot_seed: 1234,
    primary_metric: spec.primaryMetric,
    limit: spec.limit,
    random_subsample_seed: OLMES_SUBSAMPLE_SEED,
    native_id_field: spec.nativeIdField,
    uncond: false,
    version: 0,
    generation_kwargs: {
      max_gen_toks: spec.maxGenToks,
      do_sample: false,
      temperature: 0,
      stop_sequences: [...spec.stopSequences],
    },
    context_kwargs: { description: spec.description ?? null },
  };
  cfg = applyRegime(cfg) as GenerativeTaskConfig;
  if (overrides.limit !== undefined) cfg = { ...cfg, limit: overrides.limit };
  if (overrides.num_shots !== undefined) cfg = { ...cfg, num_shots: overrides.num_shots };
  return new OlmesGenerativeTask(spec, cfg);
}
