// Generation tasks on the OLMES runner (shared by the Digital Socrates, δ-RoT and Proc2PDDL families).
//
// The runner (runner/run.ts) drives any `Task`: loadEvalDocs → buildInstances → backend → scoreDoc, then the task
// metric is the mean, per metric key, over the docs that carry that key (metrics.ts meanMetrics). A
// `GenerationTask` plugs generate_until requests into that loop, and adds corpus-level metrics (correlations,
// rates over problem files or actions, corpus diversity): they are computed when the last doc of a round is scored
// and attached to that doc's metrics only, so meanMetrics — averaging a key over the docs that have it — returns
// exactly the corpus value. Outputs, caching and resume are the runner's, unchanged.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CachingSource,
  ChainSource,
  DatasetNotFoundError,
  HfCacheSource,
  LocalHfFolderSource,
  type DatasetRef,
  type DatasetSource,
  type LoadedSplit,
} from '../../data/source.ts';
import { OLMES_SUBSAMPLE_SEED, selectInstances } from '../../selection.ts';
import { configFamily, Task, type DocPrediction, type TaskConfig } from '../../task.ts';
import type { TaskResolver } from '../../registry.ts';
import { TaskIdError } from '../../task-id.ts';
import type { GenerateUntilRequest, GenerationKwargs, McDoc, RequestInstance, RequestResult, Row } from '../../types.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * A generate_until request. `context` is the text a completion backend continues; chat backends should send
 * `messages` (when present) instead. Both are part of the request-cache key.
 */
export type ChatGenerateRequest = GenerateUntilRequest & { messages?: ChatMessage[] };

/** A doc of a generation task: the McDoc fields the output files use, plus the task's own data in `extra`. */
export interface GenDoc<E = Record<string, unknown>> extends McDoc {
  extra: E & Record<string, unknown>;
}

/** What a task makes of one doc's outputs: per-doc metrics and one output record per request (sample). */
export interface ScoredDoc {
  metrics: Record<string, number>;
  /** one record per request, written as model_output (each has at least `continuation`) */
  outputs: Record<string, unknown>[];
  /** anything the corpus metrics need (not written) */
  data?: unknown;
}

/** Task config of a generation task: the OLMES keys plus what changes its results. */
export interface GenerationTaskConfig extends TaskConfig {
  /** 'official' where the paper's scorer is reproduced, 'ours' where the protocol is our own */
  protocol: string;
  generation_kwargs: GenerationKwargs;
  num_samples: number;
  [key: string]: unknown;
}

export interface GenerationTaskFactoryArgs {
  regime: string;
  overrides: { limit?: number | null; num_shots?: number };
  /** the registry's regime transform (olmes, olmes:full) */
  applyRegime?: (c: TaskConfig) => TaskConfig;
}
export type GenerationTaskFactory = (args: GenerationTaskFactoryArgs) => Task;

export function makeGenerationConfig(c: {
  name: string;
  regime: string;
  datasetPath: string;
  datasetName?: string | null;
  split: string;
  primaryMetric: string;
  limit: number | null;
  numShots?: number;
  fewshotSplit?: string;
  protocol: string;
  generationKwargs: GenerationKwargs;
  numSamples?: number;
  extra?: Record<string, unknown>;
}): GenerationTaskConfig {
  return {
    task_name: c.name,
    task_core: c.name,
    alias: `${c.name}::${c.regime}`,
    format: 'gen',
    regime: c.regime,
    dataset_path: c.datasetPath,
    dataset_name: c.datasetName ?? null,
    split: c.split,
    fewshot_split: c.fewshotSplit ?? c.split,
    num_shots: c.numShots ?? 0,
    fewshot_source: null,
    fewshot_seed: 1234,
    primary_metric: c.primaryMetric,
    limit: c.limit,
    random_subsample_seed: OLMES_SUBSAMPLE_SEED,
    native_id_field: null,
    uncond: false,
    version: 0,
    protocol: c.protocol,
    generation_kwargs: c.generationKwargs,
    num_samples: c.numSamples ?? 1,
    ...(c.extra ?? {}),
  };
}

/** Apply the registry's regime and the user's overrides (limit, num_shots) to a generation config. */
export function applyArgs<C extends GenerationTaskConfig>(cfg: C, args: GenerationTaskFactoryArgs): C {
  let c = (args.applyRegime ? args.applyRegime(cfg) : cfg) as C;
  if (args.overrides.limit !== undefined) c = { ...c, limit: args.overrides.limit };
  if (args.overrides.num_shots !== undefined) c = { ...c, num_shots: args.overrides.num_shots };
  return c;
}

/** The regimes a generation task accepts: olmes (its defaults) and olmes:full (no doc limit). */
export const GENERATION_REGIMES: Record<string, (c: TaskConfig) => TaskConfig> = {
  olmes: (c) => c,
  'olmes:full': (c) => ({ ...c, limit: null }),
};

/** A registry resolver for a map of generation tasks (`name::olmes`, `name::olmes:full`; no rc/mc format). */
export function generationResolver(describe: string, factories: Record<string, GenerationTaskFactory>): TaskResolver {
  return {
    describe,
    resolve(id, plan) {
      const f = factories[id.name];
      if (!f) return false;
      const text = `${id.name}${id.format ? ':' + id.format : ''}::${id.regime}`;
      if (id.format) throw new TaskIdError(`task id ${JSON.stringify(text)}: ${id.name} is a generation task and has no :${id.format} format; use ${id.name}::${id.regime}`);
      const applyRegime = GENERATION_REGIMES[id.regime];
      if (!applyRegime) throw new TaskIdError(`task id ${JSON.stringify(text)}: unknown regime ${JSON.stringify(id.regime)}; ${id.name} knows ${Object.keys(GENERATION_REGIMES).join(', ')}`);
      plan.addTask(f({ regime: id.regime, overrides: plan.overrides, applyRegime }));
      return true;
    },
    listIds() {
      return Object.keys(factories).map((n) => `${n}::olmes`);
    },
  };
}

export abstract class GenerationTask<D extends GenDoc = GenDoc> extends Task {
  declare readonly config: GenerationTaskConfig;
  private docs: D[] | null = null;
  private round = new Map<number, ScoredDoc>();

  constructor(config: GenerationTaskConfig) {
    super(configFamily(config, 'a generation task has no multiple-choice format'), config);
  }

  /** Every doc of the evaluation split, in data order (selection by `limit` happens after). */
  abstract loadDocs(source: DatasetSource): Promise<D[]>;
  /** The requests of one doc (one per sample). */
  abstract requests(doc: D, docId: number): ChatGenerateRequest[];
  /** Metrics and output records of one doc from its completions (in request order). */
  abstract score(doc: D, outputs: string[]): ScoredDoc;
  /** Corpus-level metrics from every doc's scores, in doc order. */
  corpus?(scored: ScoredDoc[], docs: D[]): Record<string, number>;

  /** The evaluated docs (after selection); set by loadEvalDocs. */
  get evalDocs(): D[] {
    if (!this.docs) throw new Error(`${this.config.alias}: docs not loaded (call loadEvalDocs first)`);
    return this.docs;
  }

  /** Use these docs instead of loading (tests, two-stage pipelines). */
  setDocs(docs: D[]): void {
    this.docs = docs;
    this.round = new Map();
  }

  override async loadEvalDocs(source: DatasetSource): Promise<{ docs: McDoc[]; total: number }> {
    const all = await this.loadDocs(source);
    const docs = selectInstances(all, this.config.limit, this.config.random_subsample_seed);
    this.setDocs(docs);
    return { docs, total: all.length };
  }

  override async loadFewshotDocs(): Promise<McDoc[]> {
    return [];
  }

  override buildInstances(doc: McDoc, docId: number): RequestInstance[] {
    return this.requests(doc as D, docId).map((request, idx) => ({
      request_type: 'generate_until',
      request,
      task_name: this.config.task_name,
      doc_id: docId,
      native_id: doc.native_id,
      idx,
      label: doc.gold,
      uncond: false,
    }));
  }

  /** rescore: the saved docs (their `extra` holds everything `score` and `corpus` read). */
  override restoreDocs(docs: readonly McDoc[]): void {
    docs.forEach((d, i) => {
      if (d.extra === undefined) throw new Error(`${this.config.alias} doc ${i}: the saved doc has no task fields (extra); it cannot be scored`);
    });
    this.setDocs(docs as D[]);
  }

  override scoreDoc(docId: number, nativeId: string | number, gold: number, instances: readonly RequestInstance[], results: readonly RequestResult[]): DocPrediction {
    const docs = this.evalDocs;
    const doc = docs[docId];
    if (!doc) throw new Error(`${this.config.alias}: no doc ${docId} (${docs.length} docs loaded)`);
    const outputs = results.map((r, i) => {
      if (typeof r !== 'string') throw new Error(`${this.config.alias} doc ${docId} request ${i}: expected a generated string, got ${typeof r}`);
      return r;
    });
    const order = instances.map((inst, i) => ({ idx: inst.idx, out: outputs[i] })).sort((a, b) => a.idx - b.idx);
    const scored = this.score(doc, order.map((o) => o.out));
    const metrics = { ...scored.metrics };
    if (this.round.has(docId)) this.round = new Map();
    this.round.set(docId, scored);
    if (this.corpus && this.round.size === docs.length) {
      const all = docs.map((_, i) => this.round.get(i)!);
      Object.assign(metrics, this.corpus(all, docs));
    }
    return { doc_id: docId, native_id: nativeId, metrics, model_output: scored.outputs, label: gold };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Data helpers

/** Folders that may hold dataset `path` for this source: `<root>/<path>` of local folders, the hub-cache snapshot. */
export function datasetFolders(source: DatasetSource, path: string): string[] {
  const out: string[] = [];
  const visit = (s: DatasetSource): void => {
    if (s instanceof CachingSource) visit(s.inner);
    else if (s instanceof ChainSource) s.sources.forEach(visit);
    else if (s instanceof LocalHfFolderSource) out.push(join(s.root, path));
    else if (s instanceof HfCacheSource) {
      const d = s.snapshotDir(path);
      if (d) out.push(d);
    } else {
      const f = (s as { datasetFolder?: (p: string) => string | null }).datasetFolder?.(path);
      if (f) out.push(f);
    }
  };
  visit(source);
  return out;
}

/** The first existing file among `names` in the dataset's folders, or null; `tried` lists what was looked at. */
export function findDatasetFile(source: DatasetSource, path: string, names: readonly string[]): { file: string | null; tried: string[] } {
  const tried: string[] = [];
  for (const dir of datasetFolders(source, path)) {
    for (const n of names) {
      const f = join(dir, n);
      tried.push(f);
      if (existsSync(f)) return { file: f, tried };
    }
  }
  return { file: null, tried };
}

/** Rows held in memory, served as a dataset (tests; the second stage of a two-stage evaluation). */
export class RowsSource implements DatasetSource {
  constructor(
    readonly splits: Record<string, Row[]>,
    readonly label = 'in-memory rows',
  ) {}
  describe(): string {
    return this.label;
  }
  async load(ref: DatasetRef): Promise<LoadedSplit> {
    const key = `${ref.path}${ref.name ? `/${ref.name}` : ''}:${ref.split}`;
    const rows = this.splits[key];
    if (!rows) throw new DatasetNotFoundError(`${this.label}: no split ${key}; have ${Object.keys(this.splits).join(', ') || 'none'}`);
    return { rows, files: [`<${this.label}: ${key}>`] };
  }
}

/** `file:line` (JSONL, one file) or `files row i` for error messages about a loaded row. */
export function rowLocator(split: LoadedSplit): (i: number) => string {
  if (split.files.length === 1 && split.files[0].endsWith('.jsonl') && existsSync(split.files[0])) {
    const f = split.files[0];
    let lines: number[] | null = null;
    return (i) => {
      if (!lines) {
        lines = [];
        const text = readFileSync(f, 'utf8');
        text.split('\n').forEach((l, n) => {
          if (l.trim() !== '') lines!.push(n + 1);
        });
      }
      return `${f}:${lines[i] ?? `row ${i}`}`;
    };
  }
  return (i) => `${split.files.join(', ')} row ${i}`;
}

// ---------------------------------------------------------------------------------------------------------
// Statistics

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Pearson's r; NaN with fewer than 2 pairs or a constant series. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`pearson: ${x.length} vs ${y.length} values`);
  if (x.length < 2) return NaN;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/** Ranks 1..n with ties given their average rank (as scipy.stats.rankdata 'average'). */
export function averageRanks(x: readonly number[]): number[] {
  const idx = x.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const r = new Array<number>(x.length);
  for (let s = 0; s < idx.length; ) {
    let e = s;
    while (e + 1 < idx.length && idx[e + 1].v === idx[s].v) e++;
    const avg = (s + e) / 2 + 1;
    for (let k = s; k <= e; k++) r[idx[k].i] = avg;
    s = e + 1;
  }
  return r;
}

/** Spearman's ρ: Pearson's r of the average ranks (scipy.stats.spearmanr). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(averageRanks(x), averageRanks(y));
}

/** Distinct-n: unique word n-grams over all n-grams of the texts (lower-cased, split on non-word runs). */
export function distinctN(texts: readonly string[], n: number): number {
  let total = 0;
  const seen = new Set<string>();
  for (const t of texts) {
    const w = t.toLowerCase().split(/[^\p{L}\p{N}']+/u).filter((x) => x !== '');
    for (let i = 0; i + n <= w.length; i++) {
      seen.add(w.slice(i, i + n).join(' '));
      total++;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}
