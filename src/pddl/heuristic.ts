// Heuristic planner: greedy best-first search (GBFS) or A* over the grounded task, guided by h_add, h_max or
// h_FF computed on the delete relaxation (negative preconditions ignored; each unmet negative goal counts 1).
// Plans use the same semantics as the official BFS, so they validate under validatePlan; they are not
// guaranteed to be the ones the official planner prints (use planBfs for that).

import { groundTask, type GroundTask } from './ground.ts';
import {
  applicable,
  applyInto,
  emptyStats,
  hasAll,
  hasNone,
  resolveLimits,
  StateStore,
  stateFromIds,
  toSteps,
  wordsFor,
  type PlanResult,
  type SearchLimits,
} from './search-common.ts';
import type { Domain, Problem } from './types.ts';

export type HeuristicName = 'ff' | 'add' | 'max';

export interface HeuristicOptions extends SearchLimits {
  /** 'gbfs' (default): fastest, plans not optimal. 'astar': f = g + h (optimal only with 'max'). */
  algorithm?: 'gbfs' | 'astar';
  heuristic?: HeuristicName;
}

/** Min-heap on (k1, k2) with integer payloads. */
class Heap {
  private k1: number[] = [];
  private k2: number[] = [];
  private v: number[] = [];
  get size(): number {
    return this.v.length;
  }
  private less(i: number, j: number): boolean {
    return this.k1[i] < this.k1[j] || (this.k1[i] === this.k1[j] && this.k2[i] < this.k2[j]);
  }
  private swap(i: number, j: number): void {
    [this.k1[i], this.k1[j]] = [this.k1[j], this.k1[i]];
    [this.k2[i], this.k2[j]] = [this.k2[j], this.k2[i]];
    [this.v[i], this.v[j]] = [this.v[j], this.v[i]];
  }
  push(k1: number, k2: number, v: number): void {
    this.k1.push(k1);
    this.k2.push(k2);
    this.v.push(v);
    let i = this.v.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  /** Returns [k1, value] of the minimum and removes it. */
  pop(): [number, number] {
    const top: [number, number] = [this.k1[0], this.v[0]];
    const last = this.v.length - 1;
    this.swap(0, last);
    this.k1.pop();
    this.k2.pop();
    this.v.pop();
    let i = 0;
    const n = this.v.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

/** Delete-relaxation heuristics over a grounded task. */
export class RelaxedHeuristic {
  private readonly nAtoms: number;
  private readonly preUsers: Int32Array[];
  private readonly npre: Int32Array;
  private readonly pre: Int32Array[];
  private readonly noPre: number[];
  private readonly cost: Float64Array;
  private readonly supporter: Int32Array;
  private readonly counter: Int32Array;
  private readonly actCost: Float64Array;
  private readonly done: Uint8Array;
  private readonly mark: Uint8Array;
  private readonly inPlan: Uint8Array;

  constructor(
    private readonly task: GroundTask,
    readonly kind: HeuristicName,
  ) {
    this.nAtoms = task.atoms.length;
    const users: number[][] = Array.from({ length: this.nAtoms }, () => []);
    this.pre = task.actions.map((a) => Int32Array.from(new Set(a.pre)));
    this.npre = Int32Array.from(this.pre.map((p) => p.length));
    this.noPre = [];
    this.pre.forEach((p, ai) => {
      if (p.length === 0) this.noPre.push(ai);
      for (const x of p) users[x].push(ai);
    });
    this.preUsers = users.map((u) => Int32Array.from(u));
    this.cost = new Float64Array(this.nAtoms);
    this.supporter = new Int32Array(this.nAtoms);
    this.counter = new Int32Array(task.actions.length);
    this.actCost = new Float64Array(task.actions.length);
    this.done = new Uint8Array(this.nAtoms);
    this.mark = new Uint8Array(this.nAtoms);
    this.inPlan = new Uint8Array(task.actions.length);
  }

  /** Heuristic value of a state (Infinity for a relaxed dead end). */
  evaluate(s: Uint32Array): number {
    const { task, cost, supporter, counter, actCost, done } = this;
    const isMax = this.kind === 'max';
    cost.fill(Infinity);
    supporter.fill(-1);
    done.fill(0);
    counter.set(this.npre);
    actCost.fill(0);
    const heap = new Heap();
    for (let a = 0; a < this.nAtoms; a++) {
      if ((s[a >>> 5] >>> (a & 31)) & 1) {
        cost[a] = 0;
        heap.push(0, a, a);
      }
    }
    const fire = (ai: number): void => {
      const c = actCost[ai] + 1;
      const add = task.actions[ai].add;
      for (let i = 0; i < add.length; i++) {
        const q = add[i];
        if (c < cost[q]) {
          cost[q] = c;
          supporter[q] = ai;
          heap.push(c, q, q);
        }
      }
    };
    for (const ai of this.noPre) fire(ai);
    let goalsLeft = 0;
    const goals = task.goalPos;
    for (let i = 0; i < goals.length; i++) if (cost[goals[i]] !== 0) goalsLeft++;
    while (heap.size && goalsLeft > 0) {
      const [c, p] = heap.pop();
      if (done[p] || c > cost[p]) continue;
      done[p] = 1;
      for (let i = 0; i < goals.length; i++) if (goals[i] === p && c !== 0) goalsLeft--;
      const us = this.preUsers[p];
      for (let i = 0; i < us.length; i++) {
        const ai = us[i];
        actCost[ai] = isMax ? Math.max(actCost[ai], c) : actCost[ai] + c;
        if (--counter[ai] === 0) fire(ai);
      }
    }
    let negUnmet = 0;
    for (let i = 0; i < task.goalNeg.length; i++) {
      const a = task.goalNeg[i];
      if ((s[a >>> 5] >>> (a & 31)) & 1) negUnmet++;
    }
    let h = 0;
    for (let i = 0; i < goals.length; i++) {
      const c = cost[goals[i]];
      if (c === Infinity) return Infinity;
      h = isMax ? Math.max(h, c) : h + c;
    }
    if (this.kind !== 'ff') return isMax ? Math.max(h, negUnmet > 0 ? 1 : 0) : h + negUnmet;
    // h_FF: size of a relaxed plan extracted through the h_add best supporters.
    const { mark, inPlan } = this;
    mark.fill(0);
    inPlan.fill(0);
    let n = 0;
    const stack: number[] = [];
    for (let i = 0; i < goals.length; i++) stack.push(goals[i]);
    while (stack.length) {
      const g = stack.pop()!;
      if (mark[g]) continue;
      mark[g] = 1;
      if (cost[g] === 0) continue;
      const ai = supporter[g];
      if (inPlan[ai]) continue;
      inPlan[ai] = 1;
      n++;
      const p = this.pre[ai];
      for (let i = 0; i < p.length; i++) stack.push(p[i]);
    }
    return n + negUnmet;
  }
}

export function planHeuristic(domain: Domain, problem: Problem, opts: HeuristicOptions = {}): PlanResult {
  const lim = resolveLimits(opts);
  const algorithm = opts.algorithm ?? 'gbfs';
  const t0 = performance.now();
  const deadline = t0 + lim.timeLimitMs;
  const stats = emptyStats();
  const done = (r: Omit<PlanResult, 'stats'>): PlanResult => {
    stats.elapsedMs = performance.now() - t0;
    return { ...r, stats };
  };
  const g = groundTask(domain, problem, { deadline, maxGroundActions: Math.max(1000, Math.floor(lim.maxBytes / 256)) });
  if (g.status === 'error') return done({ status: 'error', error: g.error, message: g.error.message });
  if (g.status !== 'ok') {
    stats.enumerated = g.enumerated;
    return done({ status: g.status, message: g.message });
  }
  const task = g.task;
  stats.groundActions = task.actions.length;
  stats.enumerated = task.enumerated;
  const W = wordsFor(task);
  const init = stateFromIds(W, task.init);
  const isGoal = (s: Uint32Array) => hasAll(s, task.goalPos) && hasNone(s, task.goalNeg);
  if (isGoal(init)) return done({ status: 'goal-already-satisfied', plan: [] });
  const h = new RelaxedHeuristic(task, opts.heuristic ?? 'ff');
  const store = new StateStore(W);
  const perState = store.bytesPerState + 48; // + heap entry and g value
  const h0 = h.evaluate(init);
  if (h0 === Infinity) return done({ status: 'unsolvable', message: 'the goal is unreachable even ignoring deletes' });
  store.add(init, store.key(init), -1, -1);
  let gval = new Int32Array(1024);
  const open = new Heap();
  let tie = 0;
  open.push(algorithm === 'astar' ? h0 : h0, 0, 0);
  const cur = new Uint32Array(W);
  const next = new Uint32Array(W);
  let sinceCheck = 0;
  while (open.size) {
    const [, node] = open.pop();
    stats.expanded++;
    cur.set(store.state(node));
    if (algorithm === 'astar' && isGoal(cur)) {
      return done({ status: 'solved', plan: toSteps(task, store.path(node)) });
    }
    const gn = gval[node] + 1;
    for (let ai = 0; ai < task.actions.length; ai++) {
      const a = task.actions[ai];
      if (!applicable(cur, a)) continue;
      applyInto(cur, a, next);
      stats.generated++;
      const key = store.key(next);
      const seen = store.lookup(key);
      if (seen !== undefined) {
        if (algorithm === 'astar' && gn < gval[seen]) {
          gval[seen] = gn;
          store.relink(seen, node, ai);
          const hv = h.evaluate(next);
          if (hv !== Infinity) open.push(gn + hv, hv, seen);
        }
        continue;
      }
      const id = store.add(next, key, node, ai);
      if (id >= gval.length) {
        const grown = new Int32Array(gval.length * 2);
        grown.set(gval);
        gval = grown;
      }
      gval[id] = gn;
      stats.stored = store.size;
      stats.bytesEstimate = store.size * perState;
      if (store.size > lim.maxStates || stats.bytesEstimate > lim.maxBytes) {
        return done({
          status: 'memory-limit',
          message: `stored ${store.size} states (~${Math.round(stats.bytesEstimate / 1048576)} MiB) without reaching the goal`,
        });
      }
      if (algorithm === 'gbfs' && isGoal(next)) {
        return done({ status: 'solved', plan: toSteps(task, store.path(id)) });
      }
      const hv = h.evaluate(next);
      if (hv === Infinity) continue;
      open.push(algorithm === 'astar' ? gn + hv : hv, algorithm === 'astar' ? hv : ++tie, id);
      if (++sinceCheck >= 64) {
        sinceCheck = 0;
        if (performance.now() > deadline) return done({ status: 'timeout', message: `no plan within ${lim.timeLimitMs} ms` });
      }
    }
    if (performance.now() > deadline) return done({ status: 'timeout', message: `no plan within ${lim.timeLimitMs} ms` });
  }
  return done({ status: 'unsolvable' });
}
