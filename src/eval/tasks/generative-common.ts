// What the OLMES generative tasks (gsm8k, drop, naturalqs, triviaqa) share: one generate_until request per doc
// (greedy, the task's stop sequences and max_gen_toks), the plain-text few-shot context of base_task.py
// (description + shots joined by "\n\n" + "\n\n" + query), and per-doc metrics computed from the continuation.
//
// The runner and output writers are built around the MC `Task`; a `GenerativeTask` is a `Task` whose hooks are all
// overridden, so it runs, caches, writes files and rescores through the same code. Its docs are `McDoc`s with
// `choices` = the gold answers (for the requests file) and the task's own fields under `extra`.
import { FewshotResolutionError, type RowKey } from '../data/fewshot-sources.ts';
import type { RowWhere } from '../data/fields.ts';
import { describeRef, type DatasetSource } from '../data/source.ts';
import { fewshotContext, type FewshotExample } from '../prompts.ts';
import { OLMES_SUBSAMPLE_SEED, selectInstances } from '../selection.ts';
import { configFamily, Task, type DocPrediction, type TaskConfig } from '../task.ts';
import type { GenerationKwargs, McDoc, RequestInstance, RequestResult, Row } from '../types.ts';

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
  processDoc(row: Row, index: number, where: RowWhere): McDoc;
  docToText(doc: McDoc): string;
  docToTarget(doc: McDoc): string;
  /** the request label (oe-eval's `label`), e.g. GSM8K's short answer */
  label(doc: McDoc): string;
  /** per-doc metrics from the continuation (already cut at the first stop sequence) */
  score(doc: McDoc, continuation: string): Record<string, number>;
}

/** The resolved config of a generative task, as written to metrics.json (oe-eval key names). */
export type GenerativeTaskConfig = TaskConfig & { generation_kwargs: GenerationKwargs; context_kwargs: { description: string | null } };

function keyMatches(row: Row, key: RowKey): boolean {
  for (const [field, m] of Object.entries(key)) {
    const v = row[field];
    if (typeof m === 'object') {
      if (typeof v !== 'string' || !v.startsWith(m.startsWith)) return false;
    } else if (!(v === m || (typeof v === 'number' && String(v) === m) || (typeof m === 'number' && typeof v === 'string' && v.trim() === String(m)))) {
      return false;
    }
  }
  return true;
}

/**
 * The first k keyed rows of a curated source, in key order, from the rows of the training split (the same rule as
 * data/fewshot-sources.ts resolveFewshotRows: a missing row is an error; several matches only if identical).
 */
export function resolveKeyedRows(source: string, keys: readonly RowKey[], rows: readonly Row[], k: number, where: string): Row[] {
  if (k > keys.length) throw new FewshotResolutionError(`few-shot source ${source} lists ${keys.length} examples, ${k} requested`);
  return keys.slice(0, k).map((key, i) => {
    const found = rows.filter((r) => keyMatches(r, key));
    const desc = Object.entries(key).map(([f, m]) => `${f}${typeof m === 'object' ? ` starting ${JSON.stringify(m.startsWith)}` : `=${JSON.stringify(m)}`}`).join(', ');
    if (found.length === 0) {
      throw new FewshotResolutionError(`few-shot example ${i} of ${source} (${desc}) is not in ${where} (${rows.length} rows searched); the curated example must come from the training split, and no substitute is used`);
    }
    const first = JSON.stringify(found[0]);
    if (found.some((r) => JSON.stringify(r) !== first)) throw new FewshotResolutionError(`few-shot example ${i} of ${source} (${desc}) matches ${found.length} different rows in ${where}`);
    return found[0];
  });
}

/**
 * The continuation up to the first stop sequence. Backends already stop there (lm-eval and the OpenAI API return
 * the text without the stop string); this makes scoring independent of a backend that does not, and is a no-op
 * otherwise.
 */
export function cutAtStop(text: string, stops: readonly string[]): string {
  let cut = text.length;
  for (const s of stops) {
    if (s === '') continue;
    const i = text.indexOf(s);
    if (i >= 0 && i < cut) cut = i;
  }
  return text.slice(0, cut);
}

/** What a generative prediction line holds (oe-eval: model_output = [{continuation, …}]). */
export type GenerativeOutput = {
  continuation: string;
  /** the continuation after cutting at the first stop sequence, as scored */
  scored_continuation: string;
};

/** A non-enumerable slot on request instances holding their doc (not written to requests.jsonl, not hashed). */
const DOC = Symbol('olmo.eval.doc');

/** Attach the doc to its instances without changing what is serialised. */
export function withDoc(insts: RequestInstance[], doc: McDoc): RequestInstance[] {
  for (const i of insts) Object.defineProperty(i, DOC, { value: doc, enumerable: false });
  return insts;
}

export class GenerativeTask extends Task {
  /** docs reinstated by rescore (restoreDocs), by doc_id */
  private restored: readonly McDoc[] = [];

  constructor(
    readonly spec: GenerativeSpec,
    override readonly config: GenerativeTaskConfig,
  ) {
    super(configFamily(config, 'a generative task has no multiple-choice format'), config);
  }

  private ref(split: string) {
    return { path: this.config.dataset_path, name: this.config.dataset_name ?? undefined, split };
  }

  override processRows(rows: readonly Row[], split: string): McDoc[] {
    return rows.map((r, i) => this.spec.processDoc(r, i, `${describeRef(this.ref(split))} row ${i}`));
  }

  override async loadEvalDocs(source: DatasetSource): Promise<{ docs: McDoc[]; total: number }> {
    const { rows } = await source.load(this.ref(this.config.split));
    const all = this.processRows(rows, this.config.split);
    return { docs: selectInstances(all, this.config.limit, this.config.random_subsample_seed), total: all.length };
  }

  override async loadFewshotDocs(source: DatasetSource): Promise<McDoc[]> {
    const k = this.config.num_shots;
    if (k === 0) return [];
    const fs = this.spec.fewshot;
    if (fs.kind === 'embedded') {
      if (k > fs.rows.length) throw new Error(`${this.config.alias}: few-shot source ${fs.source} has ${fs.rows.length} examples, ${k} requested`);
      return fs.rows.slice(0, k).map((r, i) => this.spec.processDoc(r, i, `few-shot example ${i} of ${fs.source}`));
    }
    const ref = this.ref(fs.split);
    const { rows, files } = await source.load(ref);
    const picked = resolveKeyedRows(fs.source, fs.keys, rows, k, `${describeRef(ref)} (${files.join(', ')})`);
    return picked.map((r, i) => this.spec.processDoc(fs.edit ? fs.edit(r, i) : r, i, `few-shot example ${i} of ${fs.source} from ${describeRef(ref)}`));
  }

  override docToText(doc: McDoc): string {
    return this.spec.docToText(doc);
  }

  override docToTarget(doc: McDoc): string {
    return this.spec.docToTarget(doc);
  }

  override fewshotExamples(shots: readonly McDoc[]): FewshotExample[] {
    return shots.map((d) => ({ text: this.docToText(d), target: this.docToTarget(d) }));
  }

  override context(doc: McDoc, shots: readonly McDoc[]): string {
    return fewshotContext(this.docToText(doc), this.fewshotExamples(shots), this.config.context_kwargs.description ?? '');
  }

  /** One generate_until request: the few-shot context, the task's generation kwargs. */
  override buildInstances(doc: McDoc, docId: number, shots: readonly McDoc[]): RequestInstance[] {
    const g = this.config.generation_kwargs;
    const inst: RequestInstance[] = [
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
    return withDoc(inst, doc);
  }

  /** Scores one doc from its continuation (the runner hands generate_until results over as they came back). */
  scoreContinuation(doc: McDoc, continuation: string): { metrics: Record<string, number>; output: GenerativeOutput } {
    const scored = cutAtStop(continuation, this.config.generation_kwargs.stop_sequences);
    return { metrics: this.spec.score(doc, scored), output: { continuation, scored_continuation: scored } };
  }

  override scoreDoc(docId: number, nativeId: string | number, _gold: number, instances: readonly RequestInstance[], results: readonly RequestResult[]): DocPrediction {
    const where = `${this.config.alias} doc ${docId}`;
    if (instances.length !== 1 || results.length !== 1) throw new Error(`${where}: expected one generate_until request and result, got ${instances.length} and ${results.length}`);
    const cont = results[0];
    if (typeof cont !== 'string') throw new Error(`${where}: generate_until result must be a string, got ${typeof cont}`);
    const doc = this.docFor(instances[0], docId);
    const { metrics, output } = this.scoreContinuation(doc, cont);
    return { doc_id: docId, native_id: nativeId, metrics, model_output: [output], label: instances[0].label };
  }

  override restoreDocs(docs: readonly McDoc[]): void {
    docs.forEach((d, i) => {
      if (d.extra === undefined) throw new Error(`${this.config.alias} doc ${i}: the saved doc has no task fields (extra); it cannot be scored`);
    });
    this.restored = docs;
  }

  /** The doc a request was built from: carried on the instance (see withDoc), or reinstated by restoreDocs. */
  private docFor(inst: RequestInstance, docId: number): McDoc {
    const d = (inst as RequestInstance & { [DOC]?: McDoc })[DOC] ?? this.restored[docId];
    if (!d) throw new Error(`${this.config.alias} doc ${docId}: the doc of this request is unknown (build the requests with this task's buildInstances)`);
    return d;
  }
}

/** The task for a generative spec under a regime, with the regime's overrides and the command line's. */
export function makeGenerativeTask(
  spec: GenerativeSpec,
  regime: string,
  applyRegime: (c: TaskConfig) => TaskConfig,
  overrides: { limit?: number | null; num_shots?: number } = {},
): GenerativeTask {
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
    generation_kwargs: { max_gen_toks: spec.maxGenToks, do_sample: false, temperature: 0, stop_sequences: [...spec.stopSequences] },
    context_kwargs: { description: spec.description ?? null },
  };
  cfg = applyRegime(cfg) as GenerativeTaskConfig;
  if (overrides.limit !== undefined) cfg = { ...cfg, limit: overrides.limit };
  if (overrides.num_shots !== undefined) cfg = { ...cfg, num_shots: overrides.num_shots };
  return new GenerativeTask(spec, cfg);
}

// ---- SQuAD v1.1 EM/F1 as olmes' squad_emf1.py (TriviaQA) ----

const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'.split(''));
/** Python's `\b(a|an|the)\b` on a str pattern: word boundaries use Unicode word characters, not ASCII only. */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** SQuAD normalize_answer with Python's Unicode-aware word boundaries. */
export function squadNormalizePy(s: string): string {
  const t = Array.from(s.toLowerCase()).filter((c) => !PUNCTUATION.has(c)).join('');
  return t.replace(ARTICLES, ' ').split(/\s+/).filter((w) => w !== '').join(' ');
}

/** SQuAD v1.1 f1_score: token-multiset F1; 0 when nothing is shared (so two empty answers score 0, unlike v2). */
export function squadV1F1(prediction: string, gold: string): number {
  const p = squadNormalizePy(prediction).split(' ').filter((w) => w);
  const g = squadNormalizePy(gold).split(' ').filter((w) => w);
  const counts = new Map<string, number>();
  for (const w of g) counts.set(w, (counts.get(w) ?? 0) + 1);
  let same = 0;
  for (const w of p) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      same++;
      counts.set(w, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

export function squadV1ExactMatch(prediction: string, gold: string): number {
  return squadNormalizePy(prediction) === squadNormalizePy(gold) ? 1 : 0;
}
