// A multiple-choice task in one format (RC or MC): how rows become docs, docs become few-shot examples and
// loglikelihood requests, and per-choice results become OLMES metrics. Task families (tasks/*.ts) provide the
// per-dataset parts; this file holds what every OLMES MC task shares (base_task.py MultipleChoiceTask).
import { checkIndex, type RowWhere } from './data/fields.ts';
import { resolveFewshotRows } from './data/fewshot-sources.ts';
import { describeRef, type DatasetSource } from './data/source.ts';
import { mcDocMetrics, type ChoiceScore, type McMetricName, bitsPerByte, charCount, byteCount } from './metrics.ts';
import { fewshotContext, UNCONDITIONED_CONTEXT, type FewshotExample } from './prompts.ts';
import { selectInstances } from './selection.ts';
import type { LoglikelihoodRequest, LoglikelihoodResult, McDoc, RequestInstance, RequestResult, Row } from './types.ts';

export type Format = 'rc' | 'mc';
/** A task config's `format`: RC or MC, or 'gen' for the seed benchmarks' generation tasks (the OLMES generative tasks write none). */
export type TaskFormat = Format | 'gen';

/** The per-format behaviour a task family supplies. */
export interface FormatDefinition {
  /** raw row → processed doc; must validate the fields it reads and throw RowError naming `where` */
  processDoc(row: Row, index: number, where: RowWhere): McDoc;
  /** one of mcDocMetrics' keys (McMetricName) */
  primaryMetric: McMetricName;
  /** whether PMI's unconditioned requests (context "Answer:") are made */
  uncond: boolean;
  /** doc_to_text; default doc.query */
  docToText?(doc: McDoc): string;
  /** doc_to_target; default " " + choices[gold] */
  docToTarget?(doc: McDoc): string;
  /** the (context, continuation) per choice given the few-shot context; default (ctx, " " + choice) */
  choiceRequests?(doc: McDoc, ctx: string): { context: string; continuation: string }[];
}

export interface TaskFamily {
  /** oe-eval task_name, e.g. "arc_challenge", "mmlu_anatomy" */
  name: string;
  datasetPath: string;
  datasetName?: string;
  evalSplit: string;
  fewshotSplit: string;
  /** curated source name (OLMES:…), or null for "the first num_shots rows of fewshotSplit" (MMLU) */
  fewshotSource: string | null;
  numShots: number;
  /** OLMES limit: 1000 for splits over 1,500 docs, else null (all) */
  limit: number | null;
  /** the field giving native_id; null → the row index */
  nativeIdField: string | null;
  /** text before the first shot (MMLU's header) */
  description?: string;
  formats: Record<Format, FormatDefinition>;
}

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

export const UNCOND_DOC_ID_OFFSET = 1_000_000;

/** model_output entry of one choice of a log-likelihood (MC/RC) doc, with oe-eval's field names. */
export interface McModelOutput {
  sum_logits: number;
  num_tokens: number;
  num_tokens_all?: number;
  is_greedy: boolean;
  num_chars: number;
  num_bytes: number;
  logits_per_token: number;
  logits_per_char: number;
  bits_per_byte: number;
  sum_logits_uncond?: number;
}

/**
 * model_output entry: per choice of an MC doc, or per request of a generation doc a record with at least
 * `continuation` (the raw generation, as oe-eval writes it) plus whatever the task parsed from it.
 */
export type ModelOutput = McModelOutput | Record<string, unknown>;

export interface DocPrediction {
  doc_id: number;
  native_id: string | number;
  metrics: Record<string, number>;
  model_output: ModelOutput[];
  /** the gold index (MC), or the task's label (e.g. GSM8K's short answer) */
  label: number | string;
}

/** A loglikelihood result, or an error naming the request when a backend result is of another kind. */
export function asLoglikelihood(r: RequestResult, where: string): LoglikelihoodResult {
  if (typeof r !== 'object' || r === null || typeof r.logprob !== 'number' || typeof (r as LoglikelihoodResult).isGreedy !== 'boolean') {
    throw new Error(`${where}: expected a loglikelihood result {logprob, isGreedy, numTokens}, got ${JSON.stringify(r)?.slice(0, 80)}`);
  }
  return r as LoglikelihoodResult;
}

/** A family for a task that builds its docs itself (no MC format): every format hook throws. */
export function configFamily(cfg: TaskConfig, why = 'it builds its docs itself and has no multiple-choice format'): TaskFamily {
  const def: FormatDefinition = {
    primaryMetric: 'acc_raw', // never used: these formats make no docs
    uncond: false,
    processDoc(): McDoc {
      throw new Error(`${cfg.alias}: ${why}`);
    },
  };
  return {
    name: cfg.task_name,
    datasetPath: cfg.dataset_path,
    ...(cfg.dataset_name !== null ? { datasetName: cfg.dataset_name } : {}),
    evalSplit: cfg.split,
    fewshotSplit: cfg.fewshot_split,
    fewshotSource: cfg.fewshot_source,
    numShots: cfg.num_shots,
    limit: cfg.limit,
    nativeIdField: cfg.native_id_field,
    formats: { rc: def, mc: def },
  };
}

export class Task {
  constructor(
    readonly family: TaskFamily,
    readonly config: TaskConfig,
  ) {}

  get def(): FormatDefinition {
    const f = this.config.format;
    if (f !== 'rc' && f !== 'mc') throw new Error(`${this.config.alias}: not a multiple-choice task (format ${JSON.stringify(f)})`);
    return this.family.formats[f];
  }

  /**
   * This task with another config (rescore puts a run's saved task_config in place of the one the registry makes
   * today, so that scoring uses exactly the settings the run used).
   */
  withConfig(config: TaskConfig): this {
    const t = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(t, this, { config });
    return t;
  }

  /**
   * Reinstate what scoring needs from the evaluated docs, as a run saved them in its predictions (`doc`), in doc_id
   * order; called by rescore instead of loading data. A task whose scoring reads more than the requests and results
   * keeps that in `doc.extra` and restores it here.
   */
  restoreDocs(_docs: readonly McDoc[]): void {}

  private where(split: string, i: number): string {
    return `${describeRef({ path: this.config.dataset_path, name: this.config.dataset_name ?? undefined, split })} row ${i}`;
  }

  processRows(rows: readonly Row[], split: string): McDoc[] {
    return rows.map((r, i) => this.def.processDoc(r, i, this.where(split, i)));
  }

  /** All docs of the eval split, then OLMES's selection (random.Random(seed).sample when over the limit). */
  async loadEvalDocs(source: DatasetSource): Promise<{ docs: McDoc[]; total: number }> {
    const { rows } = await source.load({ path: this.config.dataset_path, name: this.config.dataset_name ?? undefined, split: this.config.split });
    const all = this.processRows(rows, this.config.split);
    return { docs: selectInstances(all, this.config.limit, this.config.random_subsample_seed), total: all.length };
  }

  /** The few-shot docs: the curated rows resolved from the training split, or the first k rows of it (MMLU dev). */
  async loadFewshotDocs(source: DatasetSource): Promise<McDoc[]> {
    const k = this.config.num_shots;
    if (k === 0) return [];
    const ref = { path: this.config.dataset_path, name: this.config.dataset_name ?? undefined, split: this.config.fewshot_split };
    const { rows, files } = await source.load(ref);
    let picked: Row[];
    if (this.config.fewshot_source) {
      picked = resolveFewshotRows(this.config.fewshot_source, rows, k, `${describeRef(ref)} (${files.join(', ')})`);
    } else {
      if (rows.length < k) throw new Error(`${describeRef(ref)}: ${rows.length} rows, ${k} few-shot examples needed`);
      picked = rows.slice(0, k);
    }
    return picked.map((r, i) => this.def.processDoc(r, i, `few-shot example ${i} from ${describeRef(ref)}`));
  }

  docToText(doc: McDoc): string {
    return this.def.docToText ? this.def.docToText(doc) : doc.query;
  }

  docToTarget(doc: McDoc): string {
    return this.def.docToTarget ? this.def.docToTarget(doc) : ' ' + doc.choices[doc.gold];
  }

  fewshotExamples(shots: readonly McDoc[]): FewshotExample[] {
    return shots.map((d) => ({ text: this.docToText(d), target: this.docToTarget(d) }));
  }

  /** The full context for a doc: description + shots + query. */
  context(doc: McDoc, shots: readonly McDoc[]): string {
    return fewshotContext(this.docToText(doc), this.fewshotExamples(shots), this.family.description ?? '');
  }

  /** One loglikelihood request per choice, then (PMI) one unconditioned request per choice. */
  buildInstances(doc: McDoc, docId: number, shots: readonly McDoc[]): RequestInstance[] {
    const ctx = this.context(doc, shots);
    const pairs = this.def.choiceRequests
      ? this.def.choiceRequests(doc, ctx)
      : doc.choices.map((c) => ({ context: ctx, continuation: ' ' + c }));
    const mk = (p: { context: string; continuation: string }, idx: number, uncond: boolean): RequestInstance => ({
      request_type: 'loglikelihood',
      request: { type: 'loglikelihood', context: p.context, continuation: p.continuation },
      task_name: this.config.task_name,
      doc_id: docId,
      native_id: doc.native_id,
      idx,
      label: doc.gold,
      uncond,
    });
    const out = pairs.map((p, i) => mk(p, i, false));
    if (this.config.uncond) pairs.forEach((p, i) => out.push(mk({ context: UNCONDITIONED_CONTEXT, continuation: p.continuation }, i, true)));
    return out;
  }

  /**
   * Per-doc metrics and model_output from the doc's request instances (as built) and their results (in the same
   * order). The runner and rescore both score through this, so a rescored run cannot drift from the run.
   */
  scoreDoc(docId: number, nativeId: string | number, gold: number, instances: readonly RequestInstance[], results: readonly RequestResult[]): DocPrediction {
    const where = `${this.config.alias} doc ${docId}`;
    return scoreMcDoc(where, docId, nativeId, gold, instances, results.map((r, i) => asLoglikelihood(r, `${where} request ${i}`)));
  }
}

/**
 * Per-doc MC metrics and model_output from a doc's loglikelihood instances and their results: conditioned requests
 * ordered by choice index, PMI's unconditioned ones paired with them by index (as MCAccuracy does by position).
 */
export function scoreMcDoc(
  where: string,
  docId: number,
  nativeId: string | number,
  gold: number,
  instances: readonly RequestInstance[],
  results: readonly LoglikelihoodResult[],
): DocPrediction {
  const cond = instances.map((inst, i) => ({ inst, res: results[i] })).filter((x) => !x.inst.uncond);
  const unc = instances.map((inst, i) => ({ inst, res: results[i] })).filter((x) => x.inst.uncond);
  cond.sort((a, b) => a.inst.idx - b.inst.idx);
  unc.sort((a, b) => a.inst.idx - b.inst.idx);
  if (unc.length > 0 && unc.length !== cond.length) {
    throw new Error(`${where}: ${cond.length} conditioned but ${unc.length} unconditioned requests`);
  }
  checkIndex(gold, cond.length, where, 'gold index');
  const choices: ChoiceScore[] = cond.map(({ inst, res }, i) => ({
    logprob: res.logprob,
    numTokens: res.numTokens,
    continuation: (inst.request as LoglikelihoodRequest).continuation,
    uncondLogprob: unc.length > 0 ? unc[i].res.logprob : undefined,
  }));
  const model_output: McModelOutput[] = cond.map(({ res }, i) => {
    const c = choices[i];
    const o: McModelOutput = {
      sum_logits: res.logprob,
      num_tokens: res.numTokens,
      ...(res.numTokensAll !== undefined ? { num_tokens_all: res.numTokensAll } : {}),
      is_greedy: res.isGreedy,
      num_chars: charCount(c.continuation),
      num_bytes: byteCount(c.continuation),
      logits_per_token: res.logprob / Math.max(1, res.numTokens),
      logits_per_char: res.logprob / charCount(c.continuation),
      bits_per_byte: bitsPerByte(res.logprob, c.continuation),
    };
    if (c.uncondLogprob !== undefined) o.sum_logits_uncond = c.uncondLogprob;
    return o;
  });
  return { doc_id: docId, native_id: nativeId, metrics: mcDocMetrics(choices, gold), model_output, label: gold };
}
