// oe-eval's output files: per task `task-{idx:03d}-{task_name}-metrics.json`, `-predictions.jsonl`,
// `-requests.jsonl`; per run `metrics.json` ({all_primary_scores, tasks, model_config}) and `metrics-all.jsonl`.
// Every file is written to a temporary name and renamed into place.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UNCOND_DOC_ID_OFFSET, type DocPrediction, type TaskConfig } from '../task.ts';
import type { Doc, RequestInstance, RequestResult } from '../types.ts';

export function taskFileName(
  idx: number,
  taskName: string,
  suffix: 'metrics.json' | 'predictions.jsonl' | 'requests.jsonl',
): string {
  return `task-${String(idx).padStart(3, '0')}-${taskName}-${suffix}`;
}

export { writeTextAtomically as writeAtomic } from '../../io/atomic.ts';

export function jsonl(records: readonly unknown[]): string {
  return records.map((r) => JSON.stringify(r) + '\n').join('');
}

/** One line of requests.jsonl (oe-eval field names; unconditioned requests carry doc_id + 1,000,000). */
export interface RequestRecord {
  request_type: string;
  doc: { id: string | number; index: number; query: string; choices: string[]; gold: number };
  request: Record<string, unknown>;
  idx: number;
  task_name: string;
  doc_id: number;
  native_id: string | number;
  label: number | string;
}

export function requestRecord(inst: RequestInstance, doc: Doc): RequestRecord {
  const { type: _type, ...request } = inst.request;
  return {
    request_type: inst.request_type,
    doc: { id: doc.native_id, index: doc.index, query: doc.query, choices: doc.choices, gold: doc.gold },
    request,
    idx: inst.idx,
    task_name: inst.task_name,
    doc_id: inst.uncond ? inst.doc_id + UNCOND_DOC_ID_OFFSET : inst.doc_id,
    native_id: inst.native_id,
    label: inst.label,
  };
}

export interface TaskMetricsFile {
  task_name: string;
  task_hash: string;
  model_hash: string;
  model_config: Record<string, unknown>;
  task_config: TaskConfig & { metadata: { alias: string } };
  compute_config: Record<string, unknown>;
  processing_time: number;
  current_date: string;
  num_instances: number;
  task_idx: number;
  metrics: Record<string, unknown>;
}

/**
 * One line of predictions.jsonl: oe-eval's fields, then what rescore needs to recompute every metric without data
 * or a model: `doc`, the evaluated doc with the task's own fields (`extra`), and `raw_results`, each request's result
 * as the backend returned it (log-prob record or generated text), in the order of the doc's lines in requests.jsonl.
 * Both are absent from files written before they were added; such MC runs still rescore from model_output.
 */
export interface PredictionRecord extends DocPrediction {
  task_hash: string;
  model_hash: string;
  doc?: Doc;
  raw_results?: RequestResult[];
}

export interface SuiteRecord {
  task_name: string;
  metrics: { primary_score: number; used_mc_or_rc?: string };
  num_instances: number;
  num_tasks: number;
  task_config: { metadata: { alias: string }; aggregation: string; members: string[] };
}

export interface RunMetricsFile {
  all_primary_scores: string[];
  tasks: {
    alias: string;
    metrics: Record<string, unknown>;
    num_instances: number;
    processing_time: number | null;
    task_config: Record<string, unknown>;
  }[];
  model_config: Record<string, unknown>;
}

/** Python's f"{x:.6}" (6 significant digits, shortest form, ".0" kept for integral values). */
export function pyFormat6(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0.0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split('e');
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const en = parseInt(e, 10);
    return `${mant}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  let s = x.toPrecision(6);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '.0');
  else s += '.0';
  return s;
}

/** Run-level metrics.json from the per-task files and the suite scores. */
export function runMetrics(
  tasks: readonly TaskMetricsFile[],
  suites: readonly SuiteRecord[],
  modelConfig: Record<string, unknown>,
): RunMetricsFile {
  const entries: RunMetricsFile['tasks'] = [
    ...suites.map((s) => ({
      alias: s.task_config.metadata.alias,
      metrics: s.metrics,
      num_instances: s.num_instances,
      processing_time: null,
      task_config: s.task_config,
    })),
    ...tasks.map((t) => ({
      alias: t.task_config.metadata.alias,
      metrics: t.metrics,
      num_instances: t.num_instances,
      processing_time: t.processing_time,
      task_config: nonDefaultConfig(t.task_config),
    })),
  ];
  return {
    all_primary_scores: entries.map((e) => `${e.alias}: ${pyFormat6(e.metrics.primary_score as number)}`),
    tasks: entries,
    model_config: modelConfig,
  };
}

/** The keys of a task config that identify it in the run summary (oe-eval writes non-default keys only). */
function nonDefaultConfig(c: TaskConfig & { metadata: { alias: string } }): Record<string, unknown> {
  const { task_name, split, num_shots, limit, primary_metric, fewshot_source, dataset_path, dataset_name, metadata } =
    c;
  return { task_name, split, num_shots, limit, primary_metric, fewshot_source, dataset_path, dataset_name, metadata };
}

/** The printed results table: alias, primary metric, score, instances. */
export function resultsTable(run: RunMetricsFile): string {
  const rows = run.tasks.map((t) => [
    t.alias,
    String(
      (t.task_config as { primary_metric?: string }).primary_metric ??
        (t.task_config as { aggregation?: string }).aggregation ??
        '',
    ),
    (t.metrics.primary_score as number).toFixed(4),
    String(t.num_instances),
  ]);
  const head = ['task', 'metric', 'score', 'n'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n') + '\n';
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

export function outPath(dir: string, name: string): string {
  return join(dir, name);
}
