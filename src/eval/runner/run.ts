// The backend-agnostic evaluation runner: task ids → docs and few-shot examples → requests → (cached, batched)
// backend calls → OLMES metrics → oe-eval output files and a results table. An interrupted run resumes from the
// request cache with nothing recomputed; outputs are written only when every request has a result, so they never
// hold duplicated or missing predictions. Metrics depend only on per-request results, never on batch size.
import { join } from 'node:path';
import { aggregateScores, type SuiteScore } from '../aggregate.ts';
import { CachingSource, type DatasetSource } from '../data/source.ts';
import { meanMetrics } from '../metrics.ts';
import { planTasks, type ConfigOverrides, type EvalPlan, type SuiteSpec } from '../registry.ts';
import type { Task } from '../task.ts';
import type { Doc, EvalRequest, LoglikelihoodResult, RequestInstance, RequestResult, RollingResult } from '../types.ts';
import { modelConfigOf, type Backend } from './backend.ts';
import { cacheIdentityOf, RequestCache, requestKey } from './cache.ts';
import { lockFolder } from '../../io/lock.ts';
import { hashDict } from './hash.ts';
import {
  ensureDir,
  jsonl,
  requestRecord,
  resultsTable,
  runMetrics,
  taskFileName,
  writeAtomic,
  type PredictionRecord,
  type RunMetricsFile,
  type SuiteRecord,
  type TaskMetricsFile,
} from './outputs.ts';

export interface EvalProgress {
  phase: 'build' | 'model' | 'write';
  done: number;
  total: number;
  /** task alias during 'build' */
  task?: string;
}

export interface EvalOptions {
  /** task ids (name[:format]::regime, suites included) or a plan made with planTasks */
  tasks: readonly string[] | EvalPlan;
  source: DatasetSource;
  outputDir: string;
  overrides?: ConfigOverrides;
  onProgress?: (p: EvalProgress) => void;
}

export interface RunOptions extends EvalOptions {
  backend: Backend;
  /** requests per backend call (default 32); metrics do not depend on it */
  batchSize?: number;
  /** default `<outputDir>/request-cache.jsonl` */
  cachePath?: string;
  /** receives the results table (e.g. console.log); nothing is printed when absent */
  log?: (text: string) => void;
  /** provenance written as compute_config (package version, git commit, …) */
  computeConfig?: Record<string, unknown>;
}

export interface BuiltTask {
  task: Task;
  idx: number;
  docs: Doc[];
  /** per doc, its request instances in build order */
  perDoc: RequestInstance[][];
  buildSeconds: number;
}

export interface EvalRunResult {
  metrics: RunMetricsFile;
  tasks: TaskMetricsFile[];
  suites: SuiteRecord[];
  table: string;
  /** requests sent to the backend in this run (0 when everything came from the cache) */
  computed: number;
  cached: number;
}

function resolvePlan(tasks: readonly string[] | EvalPlan, overrides?: ConfigOverrides): EvalPlan {
  return Array.isArray(tasks) ? planTasks(tasks as readonly string[], overrides) : (tasks as EvalPlan);
}

/** Load data and build every request of every task in the plan. */
export async function buildAll(
  plan: EvalPlan,
  dataSource: DatasetSource,
  onProgress?: (p: EvalProgress) => void,
): Promise<BuiltTask[]> {
  // MC and RC variants (and MMLU subjects' shots) share splits: read each once.
  const source = dataSource instanceof CachingSource ? dataSource : new CachingSource(dataSource);
  const out: BuiltTask[] = [];
  for (const [idx, task] of plan.tasks.entries()) {
    onProgress?.({ phase: 'build', done: idx, total: plan.tasks.length, task: task.config.alias });
    const t0 = performance.now();
    const { docs } = await task.loadEvalDocs(source);
    const shots = await task.loadFewshotDocs(source);
    const perDoc = docs.map((d, docId) => task.buildInstances(d, docId, shots));
    out.push({ task, idx, docs, perDoc, buildSeconds: (performance.now() - t0) / 1000 });
  }
  onProgress?.({ phase: 'build', done: plan.tasks.length, total: plan.tasks.length });
  return out;
}

function writeRequests(dir: string, b: BuiltTask): string {
  const recs = b.perDoc.flatMap((insts, i) => insts.map((inst) => requestRecord(inst, b.docs[i])));
  const path = join(dir, taskFileName(b.idx, b.task.config.task_name, 'requests.jsonl'));
  writeAtomic(path, jsonl(recs));
  return path;
}

/** --dry-run: write every task's requests.jsonl (each context and continuation) without a model. */
export async function dryRun(opts: EvalOptions): Promise<{ files: string[]; numRequests: number; tasks: BuiltTask[] }> {
  const plan = resolvePlan(opts.tasks, opts.overrides);
  const built = await buildAll(plan, opts.source, opts.onProgress);
  ensureDir(opts.outputDir);
  const files = built.map((b) => writeRequests(opts.outputDir, b));
  return {
    files,
    numRequests: built.reduce((a, b) => a + b.perDoc.reduce((x, d) => x + d.length, 0), 0),
    tasks: built,
  };
}

function checkResult(req: EvalRequest, r: unknown, where: string): RequestResult {
  if (req.type === 'generate_until') {
    if (typeof r !== 'string') throw new Error(`${where}: generate_until must return a string, got ${typeof r}`);
    return r;
  }
  const o = r as Partial<LoglikelihoodResult & RollingResult>;
  if (!o || typeof o.logprob !== 'number' || !Number.isFinite(o.logprob)) {
    throw new Error(`${where}: log-prob must be a finite number, got ${JSON.stringify(o?.logprob)}`);
  }
  if (typeof o.numTokens !== 'number' || !Number.isInteger(o.numTokens) || o.numTokens < 0) {
    throw new Error(`${where}: numTokens must be a non-negative integer, got ${JSON.stringify(o?.numTokens)}`);
  }
  if (req.type === 'loglikelihood' && typeof o.isGreedy !== 'boolean') {
    throw new Error(`${where}: isGreedy must be a boolean, got ${JSON.stringify(o?.isGreedy)}`);
  }
  return r as RequestResult;
}

async function callBackend(backend: Backend, batch: EvalRequest[]): Promise<unknown[]> {
  const type = batch[0].type;
  if (type === 'loglikelihood') return backend.loglikelihood(batch as never);
  if (type === 'loglikelihood_rolling') return backend.loglikelihoodRolling(batch as never);
  return backend.generateUntil(batch as never);
}

/** Every request without a cached result goes to the backend, grouped by type, in batches; each batch is cached. */
async function computeMissing(
  backend: Backend,
  cache: RequestCache,
  pending: Map<string, EvalRequest>,
  batchSize: number,
  onProgress?: (p: EvalProgress) => void,
): Promise<number> {
  const byType = new Map<string, [string, EvalRequest][]>();
  for (const [k, r] of pending) {
    if (cache.has(k)) continue;
    const list = byType.get(r.type) ?? [];
    list.push([k, r]);
    byType.set(r.type, list);
  }
  const total = [...byType.values()].reduce((a, l) => a + l.length, 0);
  let done = 0;
  onProgress?.({ phase: 'model', done, total });
  for (const list of byType.values()) {
    for (let i = 0; i < list.length; i += batchSize) {
      const batch = list.slice(i, i + batchSize);
      const reqs = batch.map(([, r]) => r);
      const res = await callBackend(backend, reqs);
      if (!Array.isArray(res) || res.length !== batch.length) {
        throw new Error(
          `backend ${backend.name}: ${reqs[0].type} returned ${Array.isArray(res) ? res.length : typeof res} results for ${batch.length} requests`,
        );
      }
      const entries = batch.map(
        ([k, r], j) =>
          [
            k,
            checkResult(r, res[j], `backend ${backend.name}, ${r.type} request ${JSON.stringify(r).slice(0, 120)}`),
          ] as [string, RequestResult],
      );
      cache.appendBatch(entries);
      done += batch.length;
      onProgress?.({ phase: 'model', done, total });
    }
  }
  return total;
}

/**
 * A task's prediction records: each doc scored by the task from its request instances and their results (one list
 * per doc, in build order). runEval and rescore both score through here, so they cannot drift apart.
 */
export function scorePredictions(
  task: Task,
  docs: readonly Doc[],
  perDoc: readonly (readonly RequestInstance[])[],
  results: readonly (readonly RequestResult[])[],
  hashes: { task_hash: string; model_hash: string },
): PredictionRecord[] {
  return docs.map((doc, d) => {
    if (results[d].length !== perDoc[d].length)
      throw new Error(`${task.config.alias} doc ${d}: ${perDoc[d].length} requests but ${results[d].length} results`);
    return { ...task.scoreDoc(doc, d, perDoc[d], results[d]), ...hashes, doc, raw_results: [...results[d]] };
  });
}

/** Per-task metrics object (metrics.json's `metrics`) from per-doc metrics. */
export function taskMetrics(
  perDoc: readonly Record<string, number>[],
  primaryMetric: string,
  where: string,
): Record<string, number> {
  const m = meanMetrics(perDoc);
  if (m[primaryMetric] === undefined) throw new Error(`${where}: primary metric ${primaryMetric} was not computed`);
  return { ...m, primary_score: m[primaryMetric] };
}

/** Suite records from leaf primary scores, in plan order (members before the suites that use them). */
export function computeSuites(
  specs: readonly SuiteSpec[],
  leaves: ReadonlyMap<string, { primary_score: number; num_instances: number }>,
): SuiteRecord[] {
  const known = new Map(leaves);
  const out: SuiteRecord[] = [];
  for (const s of specs) {
    const members = s.members.map((a) => {
      const m = known.get(a);
      if (!m) throw new Error(`suite ${s.alias}: member ${a} has no score`);
      return { alias: a, primary_score: m.primary_score, num_instances: m.num_instances };
    });
    const r: SuiteScore = aggregateScores(s.alias, s.how, members);
    known.set(s.alias, r);
    out.push({
      task_name: s.alias,
      metrics: { primary_score: r.primary_score, ...(r.used_mc_or_rc ? { used_mc_or_rc: r.used_mc_or_rc } : {}) },
      num_instances: r.num_instances,
      num_tasks: r.num_tasks,
      task_config: { metadata: { alias: s.alias }, aggregation: s.how, members: s.members },
    });
  }
  return out;
}

export function writeRunFiles(
  dir: string,
  tasks: readonly TaskMetricsFile[],
  suites: readonly SuiteRecord[],
  modelConfig: Record<string, unknown>,
): RunMetricsFile {
  const run = runMetrics(tasks, suites, modelConfig);
  writeAtomic(join(dir, 'metrics-all.jsonl'), jsonl([...tasks, ...suites]));
  writeAtomic(join(dir, 'metrics.json'), JSON.stringify(run, null, 2) + '\n');
  return run;
}

/**
 * Run an evaluation end to end. The output folder is locked for the run (src/io/lock.ts): a second run into it
 * fails at once, naming the holder, rather than interleaving its files with this one's.
 */
export async function runEval(opts: RunOptions): Promise<EvalRunResult> {
  const release = lockFolder(opts.outputDir, 'olmo eval', { warn: (m) => process.stderr.write(`${m}\n`) });
  try {
    return await evaluate(opts);
  } finally {
    release();
  }
}

async function evaluate(opts: RunOptions): Promise<EvalRunResult> {
  const { backend, outputDir, onProgress } = opts;
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const plan = resolvePlan(opts.tasks, opts.overrides);
  const built = await buildAll(plan, opts.source, onProgress);
  ensureDir(outputDir);

  const cacheIdentity = await cacheIdentityOf(backend);
  const keys = built.map((b) => b.perDoc.map((insts) => insts.map((i) => requestKey(cacheIdentity, i.request))));
  const pending = new Map<string, EvalRequest>();
  built.forEach((b, t) =>
    b.perDoc.forEach((insts, d) => insts.forEach((inst, j) => pending.set(keys[t][d][j], inst.request))),
  );

  const cache = RequestCache.open(opts.cachePath ?? join(outputDir, 'request-cache.jsonl'));
  let computed: number;
  const tModel = performance.now();
  try {
    computed = await computeMissing(backend, cache, pending, batchSize, onProgress);
  } finally {
    cache.close();
  }
  const modelSeconds = (performance.now() - tModel) / 1000;
  const totalRequests = built.reduce((a, b) => a + b.perDoc.reduce((x, d) => x + d.length, 0), 0);

  const modelConfig = modelConfigOf(backend);
  const modelHash = hashDict(modelConfig);
  const date = new Date().toISOString();
  const taskFiles: TaskMetricsFile[] = [];
  for (const [t, b] of built.entries()) {
    onProgress?.({ phase: 'write', done: t, total: built.length });
    const ts = performance.now();
    const cfg = { ...b.task.config, metadata: { alias: b.task.config.alias } };
    const taskHash = hashDict(cfg);
    const results = b.perDoc.map((insts, d) => insts.map((_, j) => cache.get(keys[t][d][j])!));
    const preds = scorePredictions(b.task, b.docs, b.perDoc, results, { task_hash: taskHash, model_hash: modelHash });
    const nReq = b.perDoc.reduce((x, dd) => x + dd.length, 0);
    const file: TaskMetricsFile = {
      task_name: b.task.config.task_name,
      task_hash: taskHash,
      model_hash: modelHash,
      model_config: modelConfig,
      task_config: cfg,
      compute_config: { batch_size: batchSize, ...(opts.computeConfig ?? {}) },
      processing_time:
        b.buildSeconds + (performance.now() - ts) / 1000 + (totalRequests ? (modelSeconds * nReq) / totalRequests : 0),
      current_date: date,
      num_instances: b.docs.length,
      task_idx: b.idx,
      metrics: taskMetrics(
        preds.map((p) => p.metrics),
        b.task.config.primary_metric,
        b.task.config.alias,
      ),
    };
    writeRequests(outputDir, b);
    writeAtomic(join(outputDir, taskFileName(b.idx, file.task_name, 'predictions.jsonl')), jsonl(preds));
    writeAtomic(
      join(outputDir, taskFileName(b.idx, file.task_name, 'metrics.json')),
      JSON.stringify(file, null, 2) + '\n',
    );
    taskFiles.push(file);
  }
  const leaves = new Map(
    taskFiles.map((f) => [
      f.task_config.alias,
      { primary_score: f.metrics.primary_score as number, num_instances: f.num_instances },
    ]),
  );
  const suites = computeSuites(plan.suites, leaves);
  const run = writeRunFiles(outputDir, taskFiles, suites, modelConfig);
  onProgress?.({ phase: 'write', done: built.length, total: built.length });
  const table = resultsTable(run);
  opts.log?.(table);
  return { metrics: run, tasks: taskFiles, suites, table, computed, cached: pending.size - computed };
}
