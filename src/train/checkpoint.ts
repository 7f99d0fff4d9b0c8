// Training checkpoints: the model as an HF folder (loadable by `olmo generate` and transformers) plus the
// training state — optimizer moments (safetensors), schedule and data positions, skip history and the
// resolved config (JSON). Each is written into a temporary folder that is renamed into place when complete,
// and only then are old checkpoints pruned, so a crash at any moment leaves the last complete one intact.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomically } from '../io/atomic.ts';
import { loadSafetensors, saveSafetensors, type TensorToWrite } from '../io/safetensors.ts';
import { loadModel, saveModel, type CausalLM } from '../models/index.ts';
import type { DataPosition } from '../data/index.ts';
import type { AdamW } from './optim.ts';

export const TRAIN_STATE_FILE = 'train_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
const STATE_VERSION = 1;

export interface TrainState {
  version: number;
  /** Optimizer steps completed in the whole run. */
  step: number;
  /** Steps completed in the current stage, and the stage's index. */
  stage: number;
  stageStep: number;
  /** LR the previous stage ended at (for a stage whose LR starts from it). */
  previousStageFinalLr: number | null;
  data: DataPosition;
  tokensSeen: number;
  skippedSteps: number;
  consecutiveSkips: number;
  /** Recent (loss, grad norm) of accepted steps, for spike detection. */
  history: { loss: number[]; gradNorm: number[] };
  optimizerStep: number;
  /** Resolved config, package version, git commit. */
  run: Record<string, unknown>;
}

export class CheckpointCorruptError extends Error {
  override name = 'CheckpointCorruptError';
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(7, '0')}`;
}

/** Complete checkpoints of a run (folders named step-NNNNNNN with a train_state.json), oldest first. */
export function listCheckpoints(runDir: string): string[] {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^step-\d{7}$/.test(n) && existsSync(join(dir, n, TRAIN_STATE_FILE)))
    .sort()
    .map((n) => join(dir, n));
}

export function saveCheckpoint(runDir: string, model: CausalLM, opt: AdamW, state: TrainState, keepLast: number, tokenizerFrom?: string): string {
  return saveRunCheckpoint(runDir, model, opt, state, keepLast, tokenizerFrom);
}

/**
 * saveCheckpoint for any run state with a `step` (post-training keeps its own state shape): the same folder
 * layout, atomic rename and pruning.
 */
export function saveRunCheckpoint(runDir: string, model: CausalLM, opt: AdamW, state: { step: number }, keepLast: number, tokenizerFrom?: string): string {
  const dir = join(runDir, 'checkpoints');
  mkdirSync(dir, { recursive: true });
  const final = join(dir, checkpointName(state.step));
  writeDirAtomically(final, (tmp) => {
    saveModel(model, join(tmp, 'model'), { tokenizerFrom });
    const moments: [string, TensorToWrite][] = [];
    for (const [name, m] of opt.stateTensors()) {
      moments.push([`m.${name}`, { dtype: 'F32', shape: [m.m.length], data: m.m }]);
      moments.push([`v.${name}`, { dtype: 'F32', shape: [m.v.length], data: m.v }]);
    }
    saveSafetensors(join(tmp, OPTIMIZER_FILE), moments, { format: 'olmo-ts-adamw' });
    // The state file is written last: a folder without it is never taken for a checkpoint.
    writeFileSync(join(tmp, TRAIN_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  });
  const all = listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - keepLast))) rmSync(old, { recursive: true, force: true });
  return final;
}

export interface LoadedCheckpoint {
  dir: string;
  model: CausalLM;
  state: TrainState;
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
}

/** Loads and checks a checkpoint folder; anything missing or inconsistent is a CheckpointCorruptError naming it. */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  return loadRunCheckpoint(dir, (s): s is TrainState => {
    const state = s as TrainState;
    return state.version === STATE_VERSION && Number.isInteger(state.step) && !!state.data && !!state.history;
  });
}

/** loadCheckpoint for any run state; `isState` says whether the JSON state is of the expected kind. */
export function loadRunCheckpoint<S extends { step: number }>(dir: string, isState: (value: unknown) => value is S): Omit<LoadedCheckpoint, 'state'> & { state: S } {
  const statePath = join(dir, TRAIN_STATE_FILE);
  if (!existsSync(statePath)) throw new CheckpointCorruptError(`${dir}: incomplete checkpoint (no ${TRAIN_STATE_FILE})`);
  let state: S;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as S;
  } catch (err) {
    throw new CheckpointCorruptError(`${statePath}: unreadable (${(err as Error).message})`);
  }
  if (state === null || typeof state !== 'object' || !isState(state)) {
    throw new CheckpointCorruptError(`${statePath}: not an olmo-ts training state of the expected kind (version ${(state as { version?: unknown } | null)?.version})`);
  }
  let model: CausalLM;
  try {
    model = loadModel(join(dir, 'model'));
  } catch (err) {
    throw new CheckpointCorruptError(`${dir}: the model cannot be loaded: ${(err as Error).message}`);
  }
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  try {
    const { tensors } = loadSafetensors(join(dir, OPTIMIZER_FILE));
    for (const [name, p] of model.namedParameters()) {
      const m = tensors.get(`m.${name}`);
      const v = tensors.get(`v.${name}`);
      if (!m && !v) continue;
      if (!m || !v || m.data.length !== p.size || v.data.length !== p.size) {
        throw new Error(`moments of ${name} are missing or have the wrong size`);
      }
      moments.set(name, { m: (m.data as Float32Array).slice(), v: (v.data as Float32Array).slice() });
    }
  } catch (err) {
    throw new CheckpointCorruptError(`${join(dir, OPTIMIZER_FILE)}: ${(err as Error).message}`);
  }
  return { dir, model, state, moments };
}
