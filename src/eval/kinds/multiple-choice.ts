// The multiple-choice kind of task, in one format (RC or MC): how rows become docs, docs become few-shot examples
// and loglikelihood requests, and per-choice results become OLMES metrics. Task families (tasks/*.ts) provide the
// per-dataset parts as an `McTaskFamily`; this file holds what every OLMES MC task shares (olmes base_task.py
// MultipleChoiceTask), and the making of a family's task config under a regime.
import { checkIndex, type RowWhere } from '../data/fields.ts';
import { resolveFewshotRows } from '../data/fewshot-sources.ts';
import { describeRef, type DatasetSource } from '../data/source.ts';
import { mcDocMetrics, type ChoiceScore, type McMetricName, bitsPerByte, charCount, byteCount } from '../metrics.ts';
import { fewshotContext, UNCONDITIONED_CONTEXT, type FewshotExample } from '../prompts.ts';
import { OLMES_SUBSAMPLE_SEED } from '../selection.ts';
import { formatTaskId } from '../task-id.ts';
import {
  copyWithConfig,
  loadSelectedDocs,
  splitRef,
  type DocPrediction,
  type Format,
  type Task,
  type TaskConfig,
} from '../task.ts';
import type {
  LoglikelihoodRequest,
  LoglikelihoodResult,
  McDoc,
  RequestInstance,
  RequestResult,
  Row,
} from '../types.ts';

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

export interface McTaskFamily {
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

/** A loglikelihood result, or an error naming the request when a backend result is of another kind. */
export function asLoglikelihood(r: RequestResult, where: string): LoglikelihoodResult {
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.logprob !== 'number' ||
    typeof (r as LoglikelihoodResult).isGreedy !== 'boolean'
  ) {
    throw new Error(
      `${where}: expected a loglikelihood result {logprob, isGreedy, numTokens}, got ${JSON.stringify(r)?.slice(0, 80)}`,
    );
  }
  return r as LoglikelihoodResult;
}

/**
 * The family of an MC task rebuilt from a run's saved config alone (rescore of a task the registry no longer knows
 * by name, e.g. a local_mc:NAME registered at run time): scoring needs no family, so loading docs throws.
 */
function savedConfigFamily(cfg: TaskConfig): McTaskFamily {
  const def: FormatDefinition = {
    primaryMetric: 'acc_raw', // never used: scoring reads the saved config
    uncond: false,
    processDoc(): McDoc {
      throw new Error(`${cfg.alias}: rebuilt from a saved config to rescore; it cannot load data`);
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

export class MultipleChoiceTask implements Task {
  constructor(
    readonly family: McTaskFamily,
    readonly config: TaskConfig,
  ) {}

  /** An MC task from a run's saved config alone (rescore; see savedConfigFamily). */
  static fromSavedConfig(config: TaskConfig): MultipleChoiceTask {
    return new MultipleChoiceTask(savedConfigFamily(config), config);
  }

  get def(): FormatDefinition {
    const f = this.config.format;
    if (f !== 'rc' && f !== 'mc')
      throw new Error(`${this.config.alias}: not a multiple-choice task (format ${JSON.stringify(f)})`);
    return this.family.formats[f];
  }

  withConfig(config: TaskConfig): this {
    return copyWithConfig(this, config);
  }

  /** Scoring reads only the requests and their results; a subclass that reads `extra` checks it here. */
  restoreDocs(_docs: readonly McDoc[]): void {}

  processRows(rows: readonly Row[], split: string): McDoc[] {
    return rows.map((r, i) => this.def.processDoc(r, i, `${describeRef(splitRef(this.config, split))} row ${i}`));
  }

  /** All docs of the eval split, then OLMES's selection (random.Random(seed).sample when over the limit). */
  loadEvalDocs(source: DatasetSource): Promise<{ docs: McDoc[]; total: number }> {
    return loadSelectedDocs(this.config, source, (r, i, where) => this.def.processDoc(r, i, where));
  }

  /** The few-shot docs: the curated rows resolved from the training split, or the first k rows of it (MMLU dev). */
  async loadFewshotDocs(source: DatasetSource): Promise<McDoc[]> {
    const k = this.config.num_shots;
    if (k === 0) return [];
    const ref = splitRef(this.config, this.config.fewshot_split);
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
    if (this.config.uncond)
      pairs.forEach((p, i) => out.push(mk({ context: UNCONDITIONED_CONTEXT, continuation: p.continuation }, i, true)));
    return out;
  }

  scoreDoc(
    doc: McDoc,
    docId: number,
    instances: readonly RequestInstance[],
    results: readonly RequestResult[],
  ): DocPrediction {
    const where = `${this.config.alias} doc ${docId}`;
    return scoreMcDoc(
      where,
      docId,
      doc.native_id,
      doc.gold,
      instances,
      results.map((r, i) => asLoglikelihood(r, `${where} request ${i}`)),
    );
  }
}

/** The config of a family's task in one format under a regime, with the command line's overrides. */
export function mcTaskConfig(
  f: McTaskFamily,
  format: Format,
  regime: string,
  applyRegime: (c: TaskConfig) => TaskConfig,
  overrides: { limit?: number | null; num_shots?: number } = {},
): TaskConfig {
  const def = f.formats[format];
  let cfg: TaskConfig = {
    task_name: f.name,
    task_core: f.name,
    alias: formatTaskId({ name: f.name, format, regime }),
    format,
    regime,
    dataset_path: f.datasetPath,
    dataset_name: f.datasetName ?? null,
    split: f.evalSplit,
    fewshot_split: f.fewshotSplit,
    num_shots: f.numShots,
    fewshot_source: f.fewshotSource,
    fewshot_seed: 1234,
    primary_metric: def.primaryMetric,
    limit: f.limit,
    random_subsample_seed: OLMES_SUBSAMPLE_SEED,
    native_id_field: f.nativeIdField,
    uncond: def.uncond,
    version: 0,
  };
  cfg = applyRegime(cfg);
  if (overrides.limit !== undefined) cfg = { ...cfg, limit: overrides.limit };
  if (overrides.num_shots !== undefined) cfg = { ...cfg, num_shots: overrides.num_shots };
  return cfg;
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
