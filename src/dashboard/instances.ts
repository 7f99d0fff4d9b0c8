// Per-instance results of one eval task, joined from its two files: requests.jsonl (each request exactly as scored:
// context + continuation per choice; unconditioned requests carry doc_id + 1,000,000) and predictions.jsonl (per
// doc the metrics and one model_output per choice: sum_logits, logits_per_token/char, bits_per_byte, is_greedy,
// sum_logits_uncond). Correctness is the task's primary metric on the doc (0 or 1); the paired comparison of two
// evals uses it on the docs both scored (src/stats: exact sign test).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pairedComparison } from '../stats/paired.ts';
import type {
  CompareResponse,
  CompareTask,
  Instance,
  InstanceChoice,
  InstancesResponse,
  JsonValue,
  Problem,
} from './api-types.ts';
import type { DashboardData } from './context.ts';
import { evalDetail, taskFilePrefixes } from './evals.ts';
import { isObject, numberOrNull, stringOrNull } from './files.ts';
import { parseMetricLines } from './metrics-lines.ts';
import { HttpError, joinRel } from './paths.ts';

const UNCOND_OFFSET = 1_000_000;
type Obj = { [key: string]: JsonValue };

function readJsonl(abs: string, shown: string, problems: Problem[]): Obj[] {
  let buf: Buffer;
  try {
    buf = readFileSync(abs);
  } catch (err) {
    problems.push({ file: shown, message: `cannot be read: ${(err as Error).message}` });
    return [];
  }
  // a file written by the runner ends with a newline; one that does not was cut short: read its last line too
  const p = parseMetricLines(buf.at(-1) === 0x0a ? buf : Buffer.concat([buf, Buffer.from('\n')]), 1);
  for (const q of p.problems) problems.push({ file: shown, line: q.line, message: q.problem });
  return p.rows;
}

interface TaskFiles {
  primary: string | null;
  requests: Obj[];
  predictions: Obj[];
  problems: Problem[];
}

function taskFiles(data: DashboardData, id: string, task: string, withRequests: boolean): TaskFiles {
  const { ref, abs } = data.folder(id, 'evals');
  const detail = evalDetail(data, id);
  const t = detail.tasks.find((x) => x.alias === task);
  if (!t) throw new HttpError(404, `eval ${detail.summary.name} has no task ${JSON.stringify(task)}`);
  const problems: Problem[] = [];
  const prefix = taskFilePrefixes(abs, ref.rel, problems).get(task);
  if (!prefix)
    throw new HttpError(404, `eval ${detail.summary.name}: task ${task} has no per-instance files (a suite?)`);
  const file = (suffix: string) => join(abs, `${prefix}-${suffix}`);
  const shown = (suffix: string) => joinRel(ref.rel, `${prefix}-${suffix}`);
  return {
    primary: t.primaryMetric,
    requests: withRequests ? readJsonl(file('requests.jsonl'), shown('requests.jsonl'), problems) : [],
    predictions: readJsonl(file('predictions.jsonl'), shown('predictions.jsonl'), problems),
    problems,
  };
}

function metricsOf(p: Obj): { [key: string]: number } {
  const out: { [key: string]: number } = {};
  if (isObject(p.metrics)) for (const [k, v] of Object.entries(p.metrics)) if (typeof v === 'number') out[k] = v;
  return out;
}

/** Right or wrong by the primary metric (null when it is not a 0/1 score on this doc). */
function correctness(metrics: { [key: string]: number }, primary: string | null): boolean | null {
  const v = primary === null ? undefined : metrics[primary];
  return v === 1 ? true : v === 0 ? false : null;
}

const SCORE_KEYS = ['sum_logits', 'logits_per_token', 'logits_per_char', 'bits_per_byte', 'num_tokens', 'num_chars'];

function choiceOf(req: Obj, out: Obj | undefined, index: number, uncond: boolean): InstanceChoice {
  const r = isObject(req.request) ? req.request : {};
  const scores: { [key: string]: number } = {};
  if (out && !uncond) for (const k of SCORE_KEYS) if (typeof out[k] === 'number') scores[k] = out[k];
  return {
    index,
    context: stringOrNull(r.context) ?? '',
    continuation: stringOrNull(r.continuation) ?? '',
    logLikelihood: numberOrNull(uncond ? out?.sum_logits_uncond : out?.sum_logits),
    isGreedy: !uncond && typeof out?.is_greedy === 'boolean' ? out.is_greedy : null,
    scores,
    ...(uncond ? { unconditioned: true } : {}),
  };
}

function instanceOf(docId: number, reqs: Obj[], pred: Obj | undefined, primary: string | null): Instance {
  const metrics = pred ? metricsOf(pred) : {};
  const outputs = pred && Array.isArray(pred.model_output) ? pred.model_output.filter(isObject) : [];
  const first = reqs[0] ?? {};
  const doc = isObject(first.doc) ? first.doc : {};
  const type = stringOrNull(first.request_type);
  const cond = reqs.filter((r) => (numberOrNull(r.doc_id) ?? 0) < UNCOND_OFFSET);
  const uncond = reqs.filter((r) => (numberOrNull(r.doc_id) ?? 0) >= UNCOND_OFFSET);
  const generative = type !== null && type !== 'loglikelihood';
  const suffix = primary?.startsWith('acc_') ? primary.slice(4) : null;
  const genOut = outputs[0] ? (stringOrNull(outputs[0].answer) ?? stringOrNull(outputs[0].continuation)) : null;
  const predicted = suffix !== null ? numberOrNull(metrics[`predicted_index_${suffix}`]) : null;
  const label = pred?.label ?? first.label;
  return {
    docId,
    nativeId: typeof pred?.native_id === 'string' || typeof pred?.native_id === 'number' ? pred.native_id : null,
    query: stringOrNull(doc.query),
    requestType: type,
    choices: generative
      ? []
      : [
          ...cond.map((r, i) => choiceOf(r, outputs[i], i, false)),
          ...uncond.map((r, i) => choiceOf(r, outputs[i], i, true)),
        ],
    generation: generative
      ? { context: stringOrNull(isObject(first.request) ? first.request.context : null) ?? '', output: genOut }
      : null,
    prediction: generative ? genOut : predicted,
    gold: typeof label === 'number' || typeof label === 'string' ? label : null,
    correct: correctness(metrics, primary),
    metrics,
  };
}

export interface InstanceQuery {
  task: string;
  wrongOnly: boolean;
  offset: number;
  limit: number;
}

export function evalInstances(data: DashboardData, id: string, q: InstanceQuery): InstancesResponse {
  const f = taskFiles(data, id, q.task, true);
  const byDoc = new Map<number, Obj[]>();
  for (const r of f.requests) {
    const d = numberOrNull(r.doc_id);
    if (d === null) continue;
    const key = d >= UNCOND_OFFSET ? d - UNCOND_OFFSET : d;
    (byDoc.get(key) ?? byDoc.set(key, []).get(key)!).push(r);
  }
  for (const reqs of byDoc.values()) reqs.sort((a, b) => (numberOrNull(a.idx) ?? 0) - (numberOrNull(b.idx) ?? 0));
  const preds = new Map(f.predictions.map((p) => [numberOrNull(p.doc_id), p]));
  const docIds = [...new Set([...byDoc.keys(), ...[...preds.keys()].filter((k): k is number => k !== null)])].sort(
    (a, b) => a - b,
  );
  const all = docIds.map((d) => instanceOf(d, byDoc.get(d) ?? [], preds.get(d), f.primary));
  const kept = q.wrongOnly ? all.filter((i) => i.correct === false) : all;
  return {
    id,
    task: q.task,
    total: kept.length,
    totalAll: all.length,
    offset: q.offset,
    limit: q.limit,
    instances: kept.slice(q.offset, q.offset + q.limit),
    problems: f.problems,
  };
}

/** doc key → correct, for the docs whose primary metric is 0/1. */
function outcomes(f: TaskFiles): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const p of f.predictions) {
    const c = correctness(metricsOf(p), f.primary);
    if (c !== null) out.set(`${String(p.doc_id)}\u0000${String(p.native_id)}`, c);
  }
  return out;
}

function compareTask(data: DashboardData, ids: readonly string[], task: string): CompareTask {
  const details = ids.map((id) => evalDetail(data, id));
  const entries = details.map((d) => d.tasks.find((t) => t.alias === task));
  const problems: Problem[] = [];
  const files = ids.map((id, i) => (entries[i]?.hasPredictions ? taskFiles(data, id, task, false) : null));
  for (const f of files) if (f) problems.push(...f.problems);
  const pairs: CompareTask['pairs'] = [];
  const base = files[0] ? outcomes(files[0]) : null;
  for (let i = 1; i < ids.length && base; i++) {
    if (!files[i]) continue;
    const other = outcomes(files[i]!);
    const shared = [...base.keys()].filter((k) => other.has(k));
    const c = pairedComparison(
      shared.map((k) => base.get(k)!),
      shared.map((k) => other.get(k)!),
    );
    pairs.push({
      baseline: ids[0],
      other: ids[i],
      shared: c.n,
      fixed: c.fixed,
      broken: c.broken,
      before: c.before,
      after: c.after,
      pValue: c.pValue,
    });
  }
  return {
    task,
    primaryMetric: entries.find((e) => e)?.primaryMetric ?? null,
    scores: entries.map((e) => e?.score ?? null),
    pairs,
    problems,
  };
}

/** Scores per task of two or more evals, each later one paired with the first on their shared instances. */
export function compareEvals(data: DashboardData, ids: readonly string[], task: string | null): CompareResponse {
  if (ids.length < 2) throw new HttpError(400, `compare: give at least two eval ids in ids=A,B (got ${ids.length})`);
  const details = ids.map((id) => evalDetail(data, id));
  const aliases = task !== null ? [task] : [...new Set(details.flatMap((d) => d.tasks.map((t) => t.alias)))];
  if (task !== null && !details.some((d) => d.tasks.some((t) => t.alias === task)))
    throw new HttpError(404, `compare: no eval among ${ids.join(', ')} has task ${JSON.stringify(task)}`);
  return {
    ids: [...ids],
    names: details.map((d) => d.summary.name),
    tasks: aliases.map((a) => compareTask(data, ids, a)),
  };
}
