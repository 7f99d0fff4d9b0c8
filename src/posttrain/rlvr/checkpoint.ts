// RLVR checkpoints: checkpoints/step-N/ with the policy as an HF folder (model/), the AdamW moments of every
// trained parameter (policy and value model), the value head (PPO) and rlvr_state.json. Written into a temporary
// folder renamed into place when complete (the state file last), then older ones are pruned.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors, type TensorToWrite } from '../../io/safetensors.ts';
import { loadModel, saveModel, type CausalLM } from '../../models/index.ts';
import type { AdamW } from '../../train/index.ts';
import { ValueModel } from './value.ts';

export const RLVR_STATE_FILE = 'rlvr_state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';

export interface RlvrState {
  kind: 'rlvr';
  version: 1;
  /** Rollout batches (steps) completed. */
  step: number;
  /** Optimizer updates completed. */
  optimizerStep: number;
  run: Record<string, unknown>;
}

const stepName = (step: number) => `step-${String(step).padStart(7, '0')}`;

export function listRlvrCheckpoints(runDir: string): string[] {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^step-\d{7}$/.test(n) && existsSync(join(dir, n, RLVR_STATE_FILE)))
    .sort()
    .map((n) => join(dir, n));
}

export function saveRlvrCheckpoint(
  runDir: string,
  policy: CausalLM,
  value: ValueModel | null,
  opt: AdamW,
  state: RlvrState,
  keepLast: number,
  tokenizerFrom?: string,
): string {
  const dir = join(runDir, 'checkpoints');
  mkdirSync(dir, { recursive: true });
  const final = join(dir, stepName(state.step));
  const tmp = join(dir, `.tmp-${stepName(state.step)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  saveModel(policy, join(tmp, 'model'), { tokenizerFrom });
  value?.save(tmp);
  const moments: [string, TensorToWrite][] = [];
  for (const [name, m] of opt.stateTensors()) {
    moments.push([`m.${name}`, { dtype: 'F32', shape: [m.m.length], data: m.m }]);
    moments.push([`v.${name}`, { dtype: 'F32', shape: [m.v.length], data: m.v }]);
  }
  saveSafetensors(join(tmp, OPTIMIZER_FILE), moments, { format: 'olmo-ts-adamw' });
  writeFileSync(join(tmp, RLVR_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  const all = listRlvrCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - keepLast))) rmSync(old, { recursive: true, force: true });
  return final;
}

export interface LoadedRlvrCheckpoint {
  policy: CausalLM;
  value: ValueModel | null;
  state: RlvrState;
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
}

export function loadRlvrCheckpoint(dir: string, seed: number): LoadedRlvrCheckpoint {
  const statePath = join(dir, RLVR_STATE_FILE);
  let state: RlvrState;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as RlvrState;
  } catch (err) {
    throw new Error(`${statePath}: cannot read the RLVR state (${(err as Error).message})`);
  }
  if (state?.kind !== 'rlvr' || state.version !== 1 || !Number.isInteger(state.step)) throw new Error(`${statePath}: not an RLVR state of version 1`);
  const policy = loadModel(join(dir, 'model'));
  const value = existsSync(join(dir, 'value_head.safetensors')) ? ValueModel.load(dir, policy.config.hiddenSize, seed) : null;
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  const { tensors } = loadSafetensors(join(dir, OPTIMIZER_FILE));
  for (const [key, t] of tensors) {
    const kind = key.slice(0, 2);
    const name = key.slice(2);
    const entry = moments.get(name) ?? { m: new Float32Array(0), v: new Float32Array(0) };
    const data = (t.data as Float32Array).slice();
    if (kind === 'm.') entry.m = data;
    else if (kind === 'v.') entry.v = data;
    else continue;
    moments.set(name, entry);
  }
  return { policy, value, state, moments };
}
