// Shared pieces of the planners: limits, results, bitset states and a compact state store.

import type { PddlParseError } from './errors.ts';
import type { GroundAction, GroundTask } from './ground.ts';
import type { PlanStep } from './types.ts';

export interface SearchLimits {
  /** Wall-clock limit in milliseconds for grounding plus search (default 30 000, the official alarm). */
  timeLimitMs?: number;
  /** Maximum number of stored (visited) states (default 5 000 000). */
  maxStates?: number;
  /** Maximum estimated bytes for stored states and search bookkeeping (default 1 GiB). */
  maxBytes?: number;
}

export type PlanStatus =
  | 'solved' // a non-empty plan was found
  | 'goal-already-satisfied' // the initial state satisfies the goal: empty plan (officially counted as unsolved)
  | 'unsolvable' // search space exhausted without reaching the goal
  | 'timeout'
  | 'memory-limit'
  | 'error'; // the official planner raises (see error.pyClass)

export interface SearchStats {
  groundActions: number;
  /** Assignments enumerated by grounding (before dropping never-applicable actions). */
  enumerated: number;
  expanded: number;
  generated: number;
  stored: number;
  bytesEstimate: number;
  elapsedMs: number;
}

export interface PlanResult {
  status: PlanStatus;
  /** The plan for 'solved' (and [] for 'goal-already-satisfied'). */
  plan?: PlanStep[];
  /** Human-readable reason for timeout / memory-limit / error. */
  message?: string;
  error?: PddlParseError;
  stats: SearchStats;
}

export const DEFAULT_LIMITS = { timeLimitMs: 30_000, maxStates: 5_000_000, maxBytes: 1024 * 1024 * 1024 } as const;

export function resolveLimits(l: SearchLimits = {}): Required<SearchLimits> {
  return {
    timeLimitMs: l.timeLimitMs ?? DEFAULT_LIMITS.timeLimitMs,
    maxStates: l.maxStates ?? DEFAULT_LIMITS.maxStates,
    maxBytes: l.maxBytes ?? DEFAULT_LIMITS.maxBytes,
  };
}

export function emptyStats(): SearchStats {
  return { groundActions: 0, enumerated: 0, expanded: 0, generated: 0, stored: 0, bytesEstimate: 0, elapsedMs: 0 };
}

export function hasAll(s: Uint32Array, ids: Int32Array): boolean {
  for (let i = 0; i < ids.length; i++) {
    const a = ids[i];
    if (((s[a >>> 5] >>> (a & 31)) & 1) === 0) return false;
  }
  return true;
}

export function hasNone(s: Uint32Array, ids: Int32Array): boolean {
  for (let i = 0; i < ids.length; i++) {
    const a = ids[i];
    if (((s[a >>> 5] >>> (a & 31)) & 1) !== 0) return false;
  }
  return true;
}

export function applicable(s: Uint32Array, a: GroundAction): boolean {
  return hasAll(s, a.pre) && hasNone(s, a.neg);
}

/** (state − del) ∪ add, written into `out`. */
export function applyInto(s: Uint32Array, a: GroundAction, out: Uint32Array): void {
  out.set(s);
  for (let i = 0; i < a.del.length; i++) {
    const x = a.del[i];
    out[x >>> 5] &= ~(1 << (x & 31));
  }
  for (let i = 0; i < a.add.length; i++) {
    const x = a.add[i];
    out[x >>> 5] |= 1 << (x & 31);
  }
}

export function stateFromIds(words: number, ids: ArrayLike<number>): Uint32Array {
  const s = new Uint32Array(words);
  for (let i = 0; i < ids.length; i++) s[ids[i] >>> 5] |= 1 << (ids[i] & 31);
  return s;
}

export function wordsFor(task: GroundTask): number {
  return Math.max(1, Math.ceil(task.atoms.length / 32));
}

/**
 * Visited states: the bitsets live in one growable Uint32Array; a hash map keyed by a compact string view of
 * the bits gives each state its index. Parent links make plan extraction cheap.
 */
export class StateStore {
  private pool: Uint32Array;
  private parents: Int32Array;
  private actions: Int32Array;
  private readonly index = new Map<string, number>();
  size = 0;

  constructor(readonly words: number) {
    this.pool = new Uint32Array(words * 1024);
    this.parents = new Int32Array(1024);
    this.actions = new Int32Array(1024);
  }

  /** Estimated bytes per stored state (pool + key string + map entry + links). */
  get bytesPerState(): number {
    return this.words * 4 + (this.words * 4 + 40) + 64 + 8;
  }

  key(s: Uint32Array): string {
    const u16 = new Uint16Array(s.buffer, s.byteOffset, s.length * 2);
    let out = '';
    for (let i = 0; i < u16.length; i += 4096) {
      out += String.fromCharCode.apply(null, Array.from(u16.subarray(i, Math.min(u16.length, i + 4096))));
    }
    return out;
  }

  lookup(key: string): number | undefined {
    return this.index.get(key);
  }

  add(s: Uint32Array, key: string, parent: number, action: number): number {
    const i = this.size++;
    if (i * this.words + this.words > this.pool.length) {
      const grown = new Uint32Array(Math.max(this.pool.length * 2, (i + 1) * this.words));
      grown.set(this.pool);
      this.pool = grown;
    }
    if (i >= this.parents.length) {
      const p = new Int32Array(this.parents.length * 2);
      p.set(this.parents);
      this.parents = p;
      const a = new Int32Array(this.actions.length * 2);
      a.set(this.actions);
      this.actions = a;
    }
    this.pool.set(s, i * this.words);
    this.parents[i] = parent;
    this.actions[i] = action;
    this.index.set(key, i);
    return i;
  }

  /** A view of the stored state (valid until the next add). */
  state(i: number): Uint32Array {
    return this.pool.subarray(i * this.words, (i + 1) * this.words);
  }

  /** Re-links a stored state to a cheaper parent (A* reopening). */
  relink(i: number, parent: number, action: number): void {
    this.parents[i] = parent;
    this.actions[i] = action;
  }

  parentOf(i: number): number {
    return this.parents[i];
  }

  /** Action indices from the root to state i. */
  path(i: number): number[] {
    const out: number[] = [];
    while (this.parents[i] >= 0) {
      out.push(this.actions[i]);
      i = this.parents[i];
    }
    return out.reverse();
  }
}

export function toSteps(task: GroundTask, path: number[]): PlanStep[] {
  return path.map((i) => ({ action: task.actions[i].name, args: [...task.actions[i].args] }));
}
