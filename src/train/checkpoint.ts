// Training checkpoints, one format for every stage (pretraining, SFT, DPO, RLVR): checkpoints/step-N/ holds the
// model as an HF folder (loadable by `olmo generate` and transformers), the AdamW moments (safetensors), any files
// the stage adds (RLVR's value head), checksums.json over the files beside the model, and train_state.json — a
// typed state: the stage kind, steps, the run's resolved config, the loop's records and the stage's own state
// (data position, …). Each is written into a temporary folder renamed into place when complete, the state file
// last, and only then are old checkpoints pruned, so a crash at any moment leaves the last complete one intact.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomically } from '../io/atomic.ts';
import { CHECKSUMS_FILE, saveChecksums, verifyFolder } from '../io/checksums.ts';
import { loadSafetensors, saveSafetensors, type TensorToWrite } from '../io/safetensors.ts';
import { loadModel, saveModel, type CausalLM } from '../models/index.ts';
import type { AdamW } from './optim.ts';

export const TRAIN_STATE_FILE = 'train_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FORMAT = 'olmo-ts-train-state';
export const STATE_VERSION = 2;

export type StageKind = 'pretrain' | 'sft' | 'dpo' | 'rlvr';

/** What a run records about itself: its resolved config, package version, git commit and thread count. */
export interface RunInfo {
  config: Record<string, unknown>;
  version: string;
  commit: string | null;
  threads: number;
}

/** The loop's own records: the evaluation before training and the callbacks' states (the bad-step policy's). */
export interface LoopState {
  before: unknown;
  callbacks: Record<string, unknown>;
}

/** train_state.json: the same envelope for every stage; `stage` is the stage's own state. */
export interface CheckpointState<S = unknown> {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  kind: StageKind;
  /** Steps completed in the whole run (optimizer steps; RLVR: rollout batches). */
  step: number;
  /** Optimizer updates completed (RLVR makes several per step). */
  optimizerStep: number;
  run: RunInfo;
  loop: LoopState;
  stage: S;
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

export interface CheckpointContents<S> {
  model: CausalLM;
  opt: AdamW;
  state: CheckpointState<S>;
  /** Tokenizer files copied into the model folder. */
  tokenizerFrom?: string;
  /** Writes the stage's extra files into the checkpoint folder (RLVR: the value head). */
  extraFiles?: (dir: string) => void;
}

/** Writes checkpoints/step-N/ atomically, then keeps only the newest `keepLast`. Returns the folder. */
export function saveCheckpoint<S>(runDir: string, c: CheckpointContents<S>, keepLast: number): string {
  const dir = join(runDir, 'checkpoints');
  mkdirSync(dir, { recursive: true });
  const final = join(dir, checkpointName(c.state.step));
  writeDirAtomically(final, (tmp) => {
    saveModel(c.model, join(tmp, 'model'), { tokenizerFrom: c.tokenizerFrom });
    const moments: [string, TensorToWrite][] = [];
    for (const [name, m] of c.opt.stateTensors()) {
      moments.push([`m.${name}`, { dtype: 'F32', shape: [m.m.length], data: m.m }]);
      moments.push([`v.${name}`, { dtype: 'F32', shape: [m.v.length], data: m.v }]);
    }
    saveSafetensors(join(tmp, OPTIMIZER_FILE), moments, { format: 'olmo-ts-adamw' });
    c.extraFiles?.(tmp);
    writeFileSync(join(tmp, TRAIN_STATE_FILE), `${JSON.stringify(c.state, null, 2)}\n`);
    // Model folders carry their own checksums; these cover the optimizer, train-state and extra files.
    saveChecksums(
      tmp,
      readdirSync(tmp).filter((n) => n !== CHECKSUMS_FILE && statSync(join(tmp, n)).isFile()),
    );
  });
  const all = listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - keepLast))) rmSync(old, { recursive: true, force: true });
  return final;
}

export interface LoadedCheckpoint<S = unknown> {
  dir: string;
  model: CausalLM;
  state: CheckpointState<S>;
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
}

/** Reads and checks train_state.json: the format, the stage kind and the step counters. */
export function readCheckpointState<S>(dir: string, kind: StageKind): CheckpointState<S> {
  const statePath = join(dir, TRAIN_STATE_FILE);
  if (!existsSync(statePath))
    throw new CheckpointCorruptError(`${dir}: incomplete checkpoint (no ${TRAIN_STATE_FILE})`);
  let state: CheckpointState<S>;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as CheckpointState<S>;
  } catch (err) {
    throw new CheckpointCorruptError(`${statePath}: unreadable (${(err as Error).message})`);
  }
  if (state === null || typeof state !== 'object' || state.format !== STATE_FORMAT || state.version !== STATE_VERSION) {
    const v = (state as { version?: unknown } | null)?.version;
    throw new CheckpointCorruptError(
      `${statePath}: not an olmo-ts training state of format ${STATE_FORMAT} version ${STATE_VERSION} (version ${JSON.stringify(v)}; a checkpoint of an older olmo-ts cannot be resumed)`,
    );
  }
  if (state.kind !== kind)
    throw new CheckpointCorruptError(`${statePath}: a ${state.kind} checkpoint, expected ${kind}`);
  if (!Number.isInteger(state.step) || !Number.isInteger(state.optimizerStep) || !state.run || !state.loop) {
    throw new CheckpointCorruptError(`${statePath}: step, optimizerStep, run or loop is missing or malformed`);
  }
  return state;
}

/** Loads and checks a checkpoint folder; anything missing, inconsistent or altered is a CheckpointCorruptError naming it. */
export function loadCheckpoint<S>(dir: string, kind: StageKind): LoadedCheckpoint<S> {
  let manifest: ReturnType<typeof verifyFolder>;
  try {
    manifest = verifyFolder(dir);
  } catch (err) {
    throw new CheckpointCorruptError((err as Error).message);
  }
  if (!manifest) throw new CheckpointCorruptError(`${dir}: no ${CHECKSUMS_FILE} (every complete checkpoint has one)`);
  const state = readCheckpointState<S>(dir, kind);
  let model: CausalLM;
  try {
    model = loadModel(join(dir, 'model'));
  } catch (err) {
    throw new CheckpointCorruptError(`${dir}: the model cannot be loaded: ${(err as Error).message}`);
  }
  let moments: Map<string, { m: Float32Array; v: Float32Array }>;
  try {
    moments = readMoments(join(dir, OPTIMIZER_FILE), model);
  } catch (err) {
    throw new CheckpointCorruptError(`${join(dir, OPTIMIZER_FILE)}: ${(err as Error).message}`);
  }
  return { dir, model, state, moments };
}

/** The m./v. moment pairs of optimizer.safetensors; those of the model's parameters must match their sizes. */
function readMoments(path: string, model: CausalLM): Map<string, { m: Float32Array; v: Float32Array }> {
  const { tensors } = loadSafetensors(path);
  const sizes = new Map([...model.namedParameters()].map(([name, p]) => [name, p.size]));
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  for (const key of tensors.keys()) {
    if (!key.startsWith('m.')) continue;
    const name = key.slice(2);
    const m = tensors.get(key)!;
    const v = tensors.get(`v.${name}`);
    const size = sizes.get(name);
    if (!v || m.data.length !== v.data.length || (size !== undefined && m.data.length !== size)) {
      throw new Error(`moments of ${name} are missing or have the wrong size`);
    }
    moments.set(name, { m: (m.data as Float32Array).slice(), v: (v.data as Float32Array).slice() });
  }
  for (const key of tensors.keys())
    if (key.startsWith('v.') && !moments.has(key.slice(2)))
      throw new Error(`moments of ${key.slice(2)} are missing or have the wrong size`);
  return moments;
}
