// Heuristic planner: greedy best-first search (GBFS) or A* over the grounded task, guided by h_add, h_max or
// h_FF computed on the delete relaxation (negative preconditions ignored; each unmet negative goal counts 1).
// Plans use the same semantics as the official BFS, so they validate under validatePlan; they are not
// guaranteed to be the ones the official planner prints (use planBfs for that).

import type { GroundTask } from './ground.ts';
import { applicable, applyInto, hasAll, hasNone, StateStore, toSteps } from './search-common.ts';
import type { PlanResult, SearchLimits } from './search-common.ts';
import { groundForSearch, startSearch } from './search-setup.ts';
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
    this.preferred = new Uint8Array(task.actions.length);
    this.queue = new Int32Array(this.nAtoms + 1);
  }

  /** Relaxed-plan actions applicable in the last evaluated state (helpful actions), by action index. */
  readonly preferred: Uint8Array = new Uint8Array(0);
  private readonly queue: Int32Array = new Int32Array(0);

  /** Heuristic value of a state (Infinity for a relaxed dead end); also fills `preferred`. */
  evaluate(s: Uint32Array): number {
    const { task, cost, supporter, counter, actCost, done } = this;
    const kind = this.kind;
    cost.fill(Infinity);
    supporter.fill(-1);
    done.fill(0);
    counter.set(this.npre);
    actCost.fill(0);
    const goals = task.goalPos;
    let goalsLeft = 0;
    // Unit-cost h_max (used by h_FF, as in FF's planning graph) is a FIFO breadth-first fixpoint; h_add needs
    // a priority queue. Atoms true in the state have cost 0 and are processed first.
    const fifo = this.queue;
    let qh = 0;
    let qt = 0;
    const heap = kind === 'add' ? new Heap() : null;
    for (let a = 0; a < this.nAtoms; a++) {
      if ((s[a >>> 5] >>> (a & 31)) & 1) {
        cost[a] = 0;
        fifo[qt++] = a;
      }
    }
    for (let i = 0; i < goals.length; i++) if (cost[goals[i]] !== 0) goalsLeft++;
    const fire = (ai: number): void => {
      const c = actCost[ai] + 1;
      const add = task.actions[ai].add;
      for (let i = 0; i < add.length; i++) {
        const q = add[i];
        if (c < cost[q]) {
          if (heap) heap.push(c, q, q);
          else if (cost[q] === Infinity) fifo[qt++] = q;
          else continue;
          cost[q] = c;
          supporter[q] = ai;
        }
      }
    };
    for (const ai of this.noPre) fire(ai);
    while (goalsLeft > 0) {
      let p: number;
      let c: number;
      if (qh < qt) {
        p = fifo[qh++];
        c = cost[p];
      } else if (heap && heap.size) {
        const top = heap.pop();
        c = top[0];
        p = top[1];
        if (c > cost[p]) continue;
      } else break;
      if (done[p]) continue;
      done[p] = 1;
      if (c !== 0) for (let i = 0; i < goals.length; i++) if (goals[i] === p) goalsLeft--;
      const us = this.preUsers[p];
      for (let i = 0; i < us.length; i++) {
        const ai = us[i];
        actCost[ai] = kind === 'add' ? actCost[ai] + c : Math.max(actCost[ai], c);
        if (--counter[ai] === 0) fire(ai);
      }
    }
    let negUnmet = 0;
    for (let i = 0; i < task.goalNeg.length; i++) {
      const a = task.goalNeg[i];
      if ((s[a >>> 5] >>> (a & 31)) & 1) negUnmet++;
    }
    let hAdd = 0;
    let hMax = 0;
    for (let i = 0; i < goals.length; i++) {
      const c = cost[goals[i]];
      if (c === Infinity) return Infinity;
      hAdd += c;
      hMax = Math.max(hMax, c);
    }
    // Relaxed plan through the best supporters: its size is h_FF; its actions applicable now are preferred.
    const { mark, inPlan, preferred } = this;
    mark.fill(0);
    inPlan.fill(0);
    preferred.fill(0);
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
      let now = true;
      for (let i = 0; i < p.length; i++) {
        stack.push(p[i]);
        if (cost[p[i]] !== 0) now = false;
      }
      if (now) preferred[ai] = 1;
    }
    if (kind === 'max') return Math.max(hMax, negUnmet > 0 ? 1 : 0);
    if (kind === 'add') return hAdd + negUnmet;
    return n + negUnmet;
  }
}

export function planHeuristic(domain: Domain, problem: Problem, opts: HeuristicOptions = {}): PlanResult {
  const run = startSearch(opts);
  const { deadline, stats, done } = run;
  const algorithm = opts.algorithm ?? 'gbfs';
  const grounded = groundForSearch(run, domain, problem);
  if (!('task' in grounded)) return grounded;
  const { task, W, init } = grounded;
  const isGoal = (s: Uint32Array) => hasAll(s, task.goalPos) && hasNone(s, task.goalNeg);
  if (isGoal(init)) return done({ status: 'goal-already-satisfied', plan: [] });
  const h = new RelaxedHeuristic(task, opts.heuristic ?? 'ff');
  const store = new StateStore(W);
  const perState = store.bytesPerState + 64; // + open-list entries, g value, flags
  store.add(init, store.key(init), -1, -1);
  stats.stored = 1;
  let gval = new Int32Array(1024);
  let closed = new Uint8Array(1024);
  const grow = (id: number): void => {
    if (id < gval.length) return;
    const g2 = new Int32Array(gval.length * 2);
    g2.set(gval);
    gval = g2;
    const c2 = new Uint8Array(closed.length * 2);
    c2.set(closed);
    closed = c2;
  };
  const cur = new Uint32Array(W);
  const next = new Uint32Array(W);

  if (algorithm === 'gbfs') {
    // Lazy GBFS with preferred operators (helpful actions) in a second, boosted open list.
    const openAll = new Heap();
    const openPref = new Heap();
    let tie = 0;
    let prioAll = 0;
    let prioPref = 0;
    let best = Infinity;
    openAll.push(0, tie++, 0);
    while (openAll.size || openPref.size) {
      const usePref = openPref.size > 0 && (openAll.size === 0 || prioPref <= prioAll);
      const [, node] = usePref ? openPref.pop() : openAll.pop();
      if (usePref) prioPref++;
      else prioAll++;
      if (closed[node]) continue;
      closed[node] = 1;
      cur.set(store.state(node));
      const hv = h.evaluate(cur);
      stats.expanded++;
      if (hv === Infinity) continue;
      if (hv < best) {
        best = hv;
        prioPref -= 1000;
      }
      for (let ai = 0; ai < task.actions.length; ai++) {
        const a = task.actions[ai];
        if (!applicable(cur, a)) continue;
        applyInto(cur, a, next);
        stats.generated++;
        const key = store.key(next);
        if (store.lookup(key) !== undefined) continue;
        const id = store.add(next, key, node, ai);
        grow(id);
        const lim2 = run.overLimit(store.size, perState);
        if (lim2) return lim2;
        if (isGoal(next)) return done({ status: 'solved', plan: toSteps(task, store.path(id)) });
        const t = tie++;
        openAll.push(hv, t, id);
        if (h.preferred[ai]) openPref.push(hv, t, id);
      }
      if ((stats.expanded & 15) === 0 && performance.now() > deadline) return run.timeout();
    }
    return done({ status: 'unsolvable' });
  }

  // A*: f = g + h with reopening of states reached more cheaply.
  const h0 = h.evaluate(init);
  if (h0 === Infinity) return done({ status: 'unsolvable', message: 'the goal is unreachable even ignoring deletes' });
  const open = new Heap();
  open.push(h0, h0, 0);
  let sinceCheck = 0;
  while (open.size) {
    const [, node] = open.pop();
    stats.expanded++;
    cur.set(store.state(node));
    if (isGoal(cur)) return done({ status: 'solved', plan: toSteps(task, store.path(node)) });
    const gn = gval[node] + 1;
    for (let ai = 0; ai < task.actions.length; ai++) {
      const a = task.actions[ai];
      if (!applicable(cur, a)) continue;
      applyInto(cur, a, next);
      stats.generated++;
      const key = store.key(next);
      const seen = store.lookup(key);
      let id: number;
      if (seen !== undefined) {
        if (gn >= gval[seen]) continue;
        id = seen;
        store.relink(seen, node, ai);
      } else {
        id = store.add(next, key, node, ai);
        grow(id);
        const lim2 = run.overLimit(store.size, perState);
        if (lim2) return lim2;
      }
      gval[id] = gn;
      const hv = h.evaluate(next);
      if (hv !== Infinity) open.push(gn + hv, hv, id);
      if (++sinceCheck >= 64) {
        sinceCheck = 0;
        if (performance.now() > deadline) return run.timeout();
      }
    }
    if (performance.now() > deadline) return run.timeout();
  }
  return done({ status: 'unsolvable' });
}
