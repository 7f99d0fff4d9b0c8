// The chat-generation kind of task (Digital Socrates, δ-RoT, Proc2PDDL): chat-format generate_until requests (one
// per sample), per-doc scores from the completions, and corpus-level metrics (correlations, rates over problem
// files or actions, corpus diversity).
//
// The runner's task metric is the mean, per metric key, over the docs that carry that key (metrics.ts meanMetrics).
// Corpus metrics are computed when the last doc of a round is scored and attached to that doc's metrics only, so
// meanMetrics returns exactly the corpus value. Outputs, caching and resume are the runner's, unchanged.
import type { DatasetSource } from '../data/source.ts';
import { OLMES_SUBSAMPLE_SEED, selectInstances } from '../selection.ts';
import { copyWithConfig, requireExtra, type DocPrediction, type Task, type TaskConfig } from '../task.ts';
import type { TaskResolver } from '../registry.ts';
import { TaskIdError } from '../task-id.ts';
import type { Doc, GenerateUntilRequest, GenerationKwargs, RequestInstance, RequestResult } from '../types.ts';

/**
 * A generate_until request. `context` is the text a completion backend continues; chat backends should send
 * `messages` (when present) instead. Both are part of the request-cache key.
 */
export type ChatGenerateRequest = GenerateUntilRequest;

/** A doc of a chat-generation task: the Doc fields the output files use, plus the task's own data in `extra`. */
export interface GenDoc<E = Record<string, unknown>> extends Doc {
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

/**
 * A registry family for a map of generation tasks (`name::olmes`, `name::olmes:full`; no rc/mc format). `stages`
 * are tasks only a two-model mode makes (their docs come from a first stage's outputs), rebuilt by task_name when a
 * run is rescored.
 */
export function generationResolver(
  describe: string,
  factories: Record<string, GenerationTaskFactory>,
  stages: Record<string, (config: GenerationTaskConfig) => Task> = {},
): TaskResolver {
  return {
    describe,
    restore: (saved) => stages[saved.task_name]?.(saved as GenerationTaskConfig),
    resolve(id, plan) {
      const f = factories[id.name];
      if (!f) return false;
      const text = `${id.name}${id.format ? ':' + id.format : ''}::${id.regime}`;
      if (id.format)
        throw new TaskIdError(
          `task id ${JSON.stringify(text)}: ${id.name} is a generation task and has no :${id.format} format; use ${id.name}::${id.regime}`,
        );
      const applyRegime = GENERATION_REGIMES[id.regime];
      if (!applyRegime)
        throw new TaskIdError(
          `task id ${JSON.stringify(text)}: unknown regime ${JSON.stringify(id.regime)}; ${id.name} knows ${Object.keys(GENERATION_REGIMES).join(', ')}`,
        );
      plan.addTask(f({ regime: id.regime, overrides: plan.overrides, applyRegime }));
      return true;
    },
    listIds() {
      return Object.keys(factories).map((n) => `${n}::olmes`);
    },
  };
}

export abstract class ChatGenerationTask<D extends GenDoc = GenDoc> implements Task {
  private docs: D[] | null = null;
  private round = new Map<number, ScoredDoc>();

  constructor(readonly config: GenerationTaskConfig) {}

  withConfig(config: TaskConfig): this {
    return copyWithConfig(this, config);
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

  async loadEvalDocs(source: DatasetSource): Promise<{ docs: D[]; total: number }> {
    const all = await this.loadDocs(source);
    const docs = selectInstances(all, this.config.limit, this.config.random_subsample_seed);
    this.setDocs(docs);
    return { docs, total: all.length };
  }

  async loadFewshotDocs(): Promise<D[]> {
    return [];
  }

  buildInstances(doc: D, docId: number): RequestInstance[] {
    return this.requests(doc, docId).map((request, idx) => ({
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
  restoreDocs(docs: readonly D[]): void {
    requireExtra(this.config.alias, docs);
    this.setDocs([...docs]);
  }

  scoreDoc(
    _doc: D,
    docId: number,
    instances: readonly RequestInstance[],
    results: readonly RequestResult[],
  ): DocPrediction {
    const docs = this.evalDocs;
    const doc = docs[docId];
    if (!doc) throw new Error(`${this.config.alias}: no doc ${docId} (${docs.length} docs loaded)`);
    const outputs = results.map((r, i) => {
      if (typeof r !== 'string')
        throw new Error(`${this.config.alias} doc ${docId} request ${i}: expected a generated string, got ${typeof r}`);
      return r;
    });
    const order = instances.map((inst, i) => ({ idx: inst.idx, out: outputs[i] })).sort((a, b) => a.idx - b.idx);
    const scored = this.score(
      doc,
      order.map((o) => o.out),
    );
    const metrics = { ...scored.metrics };
    if (this.round.has(docId)) this.round = new Map();
    this.round.set(docId, scored);
    if (this.corpus && this.round.size === docs.length) {
      const all = docs.map((_, i) => this.round.get(i)!);
      Object.assign(metrics, this.corpus(all, docs));
    }
    return { doc_id: docId, native_id: doc.native_id, metrics, model_output: scored.outputs, label: doc.gold };
  }
}
