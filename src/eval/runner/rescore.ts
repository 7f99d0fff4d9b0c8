// `olmo eval --rescore DIR`: recompute every metric of a finished run from its saved per-request records, with no
// model and no data. Each task is rebuilt from its saved task_config (TaskRegistry.fromConfig), given back its docs
// as the run saved them (predictions' `doc`), and each request of requests.jsonl is paired with its saved result
// (predictions' `raw_results`); then the task scores the docs through the same function the runner uses
// (run.ts scorePredictions), and the task, suite and run metrics are rewritten. A run that saved no raw results
// (written by an older version) can still be rescored when it is log-likelihood only, from model_output.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { McModelOutput } from '../kinds/multiple-choice.ts';
import { TASKS, type SuiteSpec, type TaskRegistry } from '../registry.ts';
import { UNCOND_DOC_ID_OFFSET, type Task, type TaskConfig } from '../task.ts';
import type { Doc, EvalRequest, LoglikelihoodResult, RequestInstance, RequestResult, RequestType } from '../types.ts';
import { computeSuites, scorePredictions, taskMetrics, writeRunFiles } from './run.ts';
import { readJsonLines } from '../../io/jsonl.ts';
import {
  jsonl,
  writeAtomic,
  type PredictionRecord,
  type RequestRecord,
  type RunMetricsFile,
  type TaskMetricsFile,
} from './outputs.ts';

function readJsonl<T>(path: string): T[] {
  if (!existsSync(path)) throw new Error(`rescore: missing ${path}`);
  return readJsonLines<T>(path, 'rescore: ');
}

/** A request instance as the runner built it, from its requests.jsonl line. */
export function instanceFromRecord(r: RequestRecord): RequestInstance {
  const uncond = r.doc_id >= UNCOND_DOC_ID_OFFSET;
  return {
    request_type: r.request_type as RequestType,
    request: { type: r.request_type, ...r.request } as EvalRequest,
    task_name: r.task_name,
    doc_id: uncond ? r.doc_id - UNCOND_DOC_ID_OFFSET : r.doc_id,
    native_id: r.native_id,
    idx: r.idx,
    label: r.label,
    uncond,
  };
}

/** Older runs: the loglikelihood results of an MC doc, read back from its model_output (one entry per choice). */
function mcResultsFromModelOutput(
  p: PredictionRecord,
  insts: readonly RequestInstance[],
  where: string,
): RequestResult[] {
  return insts.map((inst) => {
    if (inst.request_type !== 'loglikelihood') {
      throw new Error(
        `rescore: ${where}: the predictions have no raw_results (written by an older version) and this task is not log-likelihood only; rerun olmo eval with the same --output (the request cache answers every request) to rewrite them`,
      );
    }
    const out = p.model_output[inst.idx] as McModelOutput | undefined;
    if (!out) throw new Error(`rescore: ${where}: no model_output for choice ${inst.idx}`);
    const logprob = inst.uncond ? out.sum_logits_uncond : out.sum_logits;
    if (typeof logprob !== 'number')
      throw new Error(
        `rescore: ${where}: choice ${inst.idx} has no ${inst.uncond ? 'sum_logits_uncond' : 'sum_logits'}`,
      );
    const r: LoglikelihoodResult = { logprob, numTokens: out.num_tokens, isGreedy: out.is_greedy };
    if (out.num_tokens_all !== undefined) r.numTokensAll = out.num_tokens_all;
    return r;
  });
}

export interface RescoreOptions {
  /**
   * Tasks to score with instead of rebuilding them from the registry, matched by alias (library users' own task
   * classes); the saved config is put in place of theirs.
   */
  tasks?: readonly Task[];
  /** the registry that rebuilds the other tasks (default: the built-in tasks) */
  registry?: TaskRegistry;
}

/** Rescore one task's files (task-NNN-<name>-{metrics.json,requests.jsonl,predictions.jsonl}) in place. */
function rescoreTask(dir: string, metricsFile: string, opts: RescoreOptions): TaskMetricsFile {
  const base = metricsFile.slice(0, -'metrics.json'.length);
  const at = join(dir, base);
  const file = JSON.parse(readFileSync(join(dir, metricsFile), 'utf8')) as TaskMetricsFile;
  const { metadata: _metadata, ...config } = file.task_config as TaskConfig & { metadata?: unknown };
  const own = opts.tasks?.find((t) => t.config.alias === config.alias);
  const task = own ? own.withConfig(config) : (opts.registry ?? TASKS).fromConfig(config);

  const records = readJsonl<RequestRecord>(at + 'requests.jsonl');
  const preds = readJsonl<PredictionRecord>(at + 'predictions.jsonl');
  if (preds.length !== file.num_instances)
    throw new Error(
      `rescore: ${at}predictions.jsonl has ${preds.length} lines, metrics.json says ${file.num_instances} instances`,
    );
  const byDoc = new Map<number, { inst: RequestInstance; rec: RequestRecord }[]>();
  for (const rec of records) {
    const inst = instanceFromRecord(rec);
    byDoc.set(inst.doc_id, [...(byDoc.get(inst.doc_id) ?? []), { inst, rec }]);
  }
  preds.forEach((p, i) => {
    if (p.doc_id !== i)
      throw new Error(
        `rescore: ${at}predictions.jsonl line ${i + 1}: doc_id ${p.doc_id}, expected ${i} (one line per doc, in order)`,
      );
  });
  const stray = [...byDoc.keys()].filter((d) => !Number.isInteger(d) || d < 0 || d >= preds.length);
  if (stray.length)
    throw new Error(`rescore: ${at}requests.jsonl has requests of doc ${stray[0]}, which has no prediction`);

  const docs: Doc[] = preds.map((p, d) => {
    if (p.doc) return p.doc;
    // older runs: the requests file's doc (enough for plain MC tasks; tasks that need more say so in restoreDocs)
    const r = byDoc.get(d)?.[0]?.rec;
    if (!r) throw new Error(`rescore: ${at}… doc ${d}: no saved doc and no requests`);
    return { index: r.doc.index, native_id: r.doc.id, query: r.doc.query, choices: r.doc.choices, gold: r.doc.gold };
  });
  task.restoreDocs(docs);
  const perDoc = preds.map((_, d) => (byDoc.get(d) ?? []).map((x) => x.inst));
  const results = preds.map((p, d) => {
    const where = `${at}… doc ${d}`;
    const raw = p.raw_results ?? mcResultsFromModelOutput(p, perDoc[d], where);
    if (raw.length !== perDoc[d].length)
      throw new Error(
        `rescore: ${where}: ${perDoc[d].length} requests in requests.jsonl but ${raw.length} saved results`,
      );
    return raw;
  });
  const newPreds = scorePredictions(task, docs, perDoc, results, {
    task_hash: file.task_hash,
    model_hash: file.model_hash,
  });
  const updated: TaskMetricsFile = {
    ...file,
    metrics: taskMetrics(
      newPreds.map((p) => p.metrics),
      config.primary_metric,
      config.alias,
    ),
  };
  writeAtomic(at + 'predictions.jsonl', jsonl(newPreds));
  writeAtomic(join(dir, metricsFile), JSON.stringify(updated, null, 2) + '\n');
  return updated;
}

const TASK_METRICS = /^task-\d{3}-.*-metrics\.json$/;

export async function rescore(dir: string, opts: RescoreOptions = {}): Promise<RunMetricsFile> {
  const metricFiles = readdirSync(dir)
    .filter((f) => TASK_METRICS.test(f))
    .sort();
  if (metricFiles.length === 0) throw new Error(`rescore: no task-NNN-*-metrics.json files in ${dir}`);
  const tasks = metricFiles.map((mf) => rescoreTask(dir, mf, opts));
  const runPath = join(dir, 'metrics.json');
  if (!existsSync(runPath)) throw new Error(`rescore: missing ${runPath}`);
  const oldRun = JSON.parse(readFileSync(runPath, 'utf8')) as RunMetricsFile;
  const specs: SuiteSpec[] = oldRun.tasks
    .filter((t) => (t.task_config as { aggregation?: string }).aggregation !== undefined)
    .map((t) => {
      const c = t.task_config as { aggregation: SuiteSpec['how']; members: string[] };
      return { alias: t.alias, how: c.aggregation, members: c.members };
    });
  const leaves = new Map(
    tasks.map((f) => [
      f.task_config.alias,
      { primary_score: f.metrics.primary_score as number, num_instances: f.num_instances },
    ]),
  );
  return writeRunFiles(dir, tasks, computeSuites(specs, leaves), oldRun.model_config);
}

/**
 * The run folders under `dir` (itself and sub-folders, up to `depth` levels down, in path order) that hold task
 * metrics files: a two-model run (critic or judged mode) keeps one run per stage in `<out>/<mode>/<stage>/`.
 */
export function runFolders(dir: string, depth = 2): string[] {
  const out: string[] = [];
  const visit = (d: string, left: number): void => {
    const names = readdirSync(d).sort();
    if (names.some((f) => TASK_METRICS.test(f))) out.push(d);
    if (left === 0) return;
    for (const n of names) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) visit(p, left - 1);
    }
  };
  visit(dir, depth);
  return out;
}

/** Rescore every run folder under `dir` (see runFolders). */
export async function rescoreAll(
  dir: string,
  opts: RescoreOptions = {},
): Promise<{ dir: string; run: RunMetricsFile }[]> {
  const dirs = runFolders(dir);
  if (dirs.length === 0) throw new Error(`rescore: no task-NNN-*-metrics.json files in ${dir} or its sub-folders`);
  const out: { dir: string; run: RunMetricsFile }[] = [];
  for (const d of dirs) out.push({ dir: d, run: await rescore(d, opts) });
  return out;
}
