// Training runs as the dashboard shows them: every stage writes the same folder layout (metrics.jsonl,
// config.resolved.json, checkpoints/step-N/ with train_state.json, final/), distillation adds rounds.jsonl. The stage
// is read from the newest checkpoint's train_state.json, else recognised by its config's fields, else by its rows.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { LOCK_FILE } from '../io/lock.ts';
import { findRun, listCheckpoints, METRICS_FILE, TRAIN_STATE_FILE } from '../train/index.ts';
import type {
  CheckpointInfo,
  JsonValue,
  MetricRow,
  Problem,
  RunDetail,
  RunKind,
  RunStatus,
  RunSummary,
  StageBoundary,
  TrainStateInfo,
} from './api-types.ts';
import type { DashboardData } from './context.ts';
import { isObject, modifiedIso, mtimeMs, numberOrNull, readJsonObject, stringOrNull } from './files.ts';
import { parseMetricLines, type ParsedLines } from './metrics-lines.ts';
import { joinRel, type FolderRef } from './paths.ts';
import { enclosing } from './scan.ts';

export const CONFIG_FILE = 'config.resolved.json';
export const ROUNDS_FILE = 'rounds.jsonl';

/** The history file a run appends to: metrics.jsonl, or rounds.jsonl for iterative distillation. */
export function historyFile(abs: string): string {
  return existsSync(join(abs, ROUNDS_FILE)) && !existsSync(join(abs, METRICS_FILE))
    ? join(abs, ROUNDS_FILE)
    : join(abs, METRICS_FILE);
}

/** Distillation's rounds have no `step`: its round stands for one, so that every history charts against step. */
export function rowSteps(file: string): (rows: MetricRow[]) => void {
  if (basename(file) !== ROUNDS_FILE) return () => {};
  return (rows) => {
    for (const r of rows) if (r.step === undefined) r.step = r.round ?? null;
  };
}

const parsedCache = new Map<string, { mtimeMs: number; size: number; parsed: ParsedLines }>();

/** Every complete line of a run's history file (cached until the file changes); null when it has none. */
export function readHistory(file: string): ParsedLines | null {
  let size: number;
  let mtime: number;
  try {
    const st = statSync(file);
    size = st.size;
    mtime = st.mtimeMs;
  } catch {
    return null;
  }
  const hit = parsedCache.get(file);
  if (hit && hit.size === size && hit.mtimeMs === mtime) return hit.parsed;
  const parsed = parseMetricLines(readFileSync(file), 1);
  rowSteps(file)(parsed.rows);
  parsedCache.set(file, { mtimeMs: mtime, size, parsed });
  return parsed;
}

function newestTrainState(abs: string, rel: string): { state: TrainStateInfo | null; problem: Problem | null } {
  const ckpts = listCheckpoints(abs);
  const newest = ckpts.at(-1);
  if (!newest) return { state: null, problem: null };
  const name = basename(newest);
  const shown = joinRel(rel, `checkpoints/${name}/${TRAIN_STATE_FILE}`);
  const r = readJsonObject(join(newest, TRAIN_STATE_FILE), shown);
  if (r.problem) return { state: null, problem: r.problem };
  const s = r.value;
  const run = isObject(s.run) ? s.run : {};
  return {
    state: {
      checkpoint: name,
      kind: stringOrNull(s.kind) ?? 'unknown',
      step: numberOrNull(s.step) ?? 0,
      optimizerStep: numberOrNull(s.optimizerStep) ?? 0,
      version: stringOrNull(run.version),
      commit: stringOrNull(run.commit),
      threads: numberOrNull(run.threads),
      stage: s.stage ?? null,
    },
    problem: null,
  };
}

/** The stage a run belongs to: train_state's kind, else the config's telltale fields, else the rows' keys. */
function kindOf(
  abs: string,
  stateKind: string | null,
  config: { [k: string]: JsonValue } | null,
  row?: MetricRow,
): RunKind {
  if (existsSync(join(abs, ROUNDS_FILE))) return 'distill';
  if (stateKind === 'pretrain' || stateKind === 'sft' || stateKind === 'dpo' || stateKind === 'rlvr') return stateKind;
  const has = (k: string) => (config !== null && k in config) || (row !== undefined && k in row);
  if (has('samplesPerPrompt') || has('verified_rate') || has('eval_verified_rate')) return 'rlvr';
  if (has('beta') || has('reward_margin')) return 'dpo';
  if (has('packing') || has('label_tokens')) return 'sft';
  if (has('globalBatchTokens') || has('z_loss')) return 'pretrain';
  return 'unknown';
}

function readConfig(abs: string, rel: string) {
  const shown = joinRel(rel, CONFIG_FILE);
  if (!existsSync(join(abs, CONFIG_FILE)))
    return {
      config: null,
      recorded: null,
      problem: {
        file: shown,
        message: `no ${CONFIG_FILE}: the run's config is unknown (a run not written by olmo-ts, or one that failed before it started)`,
      },
    };
  const r = readJsonObject(join(abs, CONFIG_FILE), shown);
  if (r.problem) return { config: null, recorded: null, problem: r.problem };
  const config = isObject(r.value.config) ? r.value.config : null;
  const recorded = {
    version: stringOrNull(r.value.version),
    commit: stringOrNull(r.value.commit),
    threads: numberOrNull(r.value.threads),
  };
  if (!config) return { config: null, recorded, problem: { file: shown, message: 'has no "config" object' } };
  return { config, recorded, problem: null };
}

/** Whether another process holds the folder's lock (src/io/lock.ts) and is alive on this host. */
function lockHeld(abs: string): boolean {
  try {
    const holder = JSON.parse(readFileSync(join(abs, LOCK_FILE), 'utf8')) as { pid?: unknown; host?: unknown };
    if (typeof holder.pid !== 'number' || holder.host !== hostname()) return false;
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function statusOf(
  abs: string,
  file: string,
  lastStep: number | null,
  totalSteps: number | null,
  windowS: number,
): RunStatus {
  if (lockHeld(abs)) return 'running';
  if (existsSync(join(abs, 'final')) || (lastStep !== null && totalSteps !== null && lastStep >= totalSteps))
    return 'finished';
  const m = mtimeMs(file);
  if (m !== null && Date.now() - m < windowS * 1000) return 'running';
  return 'unknown';
}

function lastLoggedStep(rows: readonly MetricRow[]): number | null {
  let last: number | null = null;
  for (const r of rows) if (typeof r.step === 'number' && (last === null || r.step > last)) last = r.step;
  return last;
}

interface RunParts {
  summary: RunSummary;
  config: ReturnType<typeof readConfig>;
  state: ReturnType<typeof newestTrainState>;
  history: ParsedLines | null;
}

function readRun(data: DashboardData, ref: FolderRef, abs: string): RunParts {
  const config = readConfig(abs, ref.rel);
  const state = newestTrainState(abs, ref.rel);
  const file = historyFile(abs);
  const history = readHistory(file);
  const problems: Problem[] = [];
  if (config.problem) problems.push(config.problem);
  if (state.problem) problems.push(state.problem);
  const shownHistory = joinRel(ref.rel, basename(file));
  for (const p of history?.problems ?? []) problems.push({ file: shownHistory, line: p.line, message: p.problem });
  const lastStep = history ? lastLoggedStep(history.rows) : (findRun(abs)?.lastStep ?? null);
  const totalSteps = numberOrNull(config.config?.steps);
  const quickstart = enclosing(data.found().quickstarts, ref);
  const times = [mtimeMs(file), ...listCheckpoints(abs).map(mtimeMs)].filter((t): t is number => t !== null);
  const summary: RunSummary = {
    id: data.id(ref),
    root: ref.root,
    path: ref.rel,
    name: data.name(ref),
    kind: kindOf(
      abs,
      state.state?.kind ?? null,
      config.config,
      history?.rows.find((r) => !('val_loss' in r)),
    ),
    status: statusOf(abs, file, lastStep, totalSteps, data.runningWindowSeconds),
    lastStep,
    totalSteps,
    modified: times.length ? new Date(Math.max(...times)).toISOString() : null,
    checkpoints: listCheckpoints(abs).length,
    quickstart: quickstart ? data.id(quickstart) : null,
    problems,
  };
  return { summary, config, state, history };
}

export function listRuns(data: DashboardData): RunSummary[] {
  return data.each('runs', (ref, abs) => readRun(data, ref, abs).summary);
}

/** First step of each stage, from the rows' `stage` field (pretrain → anneal). */
export function stageBoundaries(rows: readonly MetricRow[]): StageBoundary[] {
  const out: StageBoundary[] = [];
  for (const r of rows) {
    if (typeof r.stage !== 'string' || typeof r.step !== 'number') continue;
    if (out.at(-1)?.stage === r.stage) continue;
    out.push({ stage: r.stage, step: r.step, tokens: numberOrNull(r.tokens) });
  }
  return out;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += folderBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

function checkpointInfos(data: DashboardData, ref: FolderRef, abs: string): CheckpointInfo[] {
  const models = data.found().models;
  return listCheckpoints(abs).map((dir) => {
    const name = basename(dir);
    const path = joinRel(ref.rel, `checkpoints/${name}`);
    const model = models.find((m) => m.root === ref.root && m.rel === `${path}/model`);
    return {
      name,
      step: Number(name.slice('step-'.length)),
      path,
      modelId: model ? data.id(model) : null,
      bytes: folderBytes(dir),
      modified: modifiedIso(join(dir, TRAIN_STATE_FILE)) ?? '',
    };
  });
}

/** Files beside the history worth opening: JSON summaries and the config history. */
function runFiles(abs: string): string[] {
  const skip = new Set([METRICS_FILE, ROUNDS_FILE, CONFIG_FILE]);
  return readdirSync(abs, { withFileTypes: true })
    .filter(
      (e) => e.isFile() && !e.name.startsWith('.') && !skip.has(e.name) && /\.(json|jsonl|yaml|md|txt)$/.test(e.name),
    )
    .map((e) => e.name)
    .sort();
}

export function runDetail(data: DashboardData, id: string): RunDetail {
  const { ref, abs } = data.folder(id, 'runs');
  const run = readRun(data, ref, abs);
  return {
    summary: run.summary,
    config: run.config.config,
    configFile: run.config.config ? joinRel(ref.rel, CONFIG_FILE) : null,
    configProblem: run.config.problem,
    recorded: run.config.recorded,
    trainState: run.state.state,
    checkpoints: checkpointInfos(data, ref, abs),
    stages: stageBoundaries(run.history?.rows ?? []),
    files: runFiles(abs),
  };
}
