// The official Proc2PDDL breadth-first planner (evaluate_scripts/ of zharry29/proc2pddl,
// https://github.com/zharry29/proc2pddl), reproduced exactly:
// - if the initial state satisfies the goal, return the empty plan (before grounding);
// - ground in the official order; BFS with a visited set seeded with the initial state; pop FIFO; for each
//   ground action in order that applies, compute the successor; if it is new, test the goal at generation
//   time and return at the first hit, otherwise mark it visited and enqueue it.
// Limits: wall-clock time (grounding included), stored states, estimated bytes.

import { applicable, applyInto, hasAll, hasNone, StateStore, toSteps } from './search-common.ts';
import type { PlanResult, SearchLimits } from './search-common.ts';
import { groundForSearch, startSearch } from './search-setup.ts';
import type { Atom, Domain, Problem } from './types.ts';

function holds(init: Atom[], pos: Atom[], neg: Atom[]): boolean {
  const s = new Set(init.map((a) => a.join(' ')));
  return pos.every((a) => s.has(a.join(' '))) && neg.every((a) => !s.has(a.join(' ')));
}

export interface BfsOptions extends SearchLimits {
  /** Grounding pruning switches (both on by default; turning them off never changes the plan, only speed). */
  pruneStatic?: boolean;
  reachability?: boolean;
}

export function planBfs(domain: Domain, problem: Problem, limits: BfsOptions = {}): PlanResult {
  const run = startSearch(limits);
  const { deadline, stats, done } = run;

  if (holds(problem.init, problem.goalPos, problem.goalNeg)) {
    return done({ status: 'goal-already-satisfied', plan: [] });
  }
  const grounded = groundForSearch(run, domain, problem, limits);
  if (!('task' in grounded)) return grounded;
  const { task, W, init } = grounded;
  const store = new StateStore(W);
  store.add(init, store.key(init), -1, -1);
  stats.stored = 1;
  const acts = task.actions;
  const next = new Uint32Array(W);
  const cur = new Uint32Array(W);
  let head = 0; // FIFO = store order: states are stored exactly when enqueued
  let work = 0;
  const perState = store.bytesPerState;
  while (head < store.size) {
    cur.set(store.state(head));
    const parent = head++;
    stats.expanded++;
    for (let ai = 0; ai < acts.length; ai++) {
      const a = acts[ai];
      if (!applicable(cur, a)) continue;
      applyInto(cur, a, next);
      stats.generated++;
      work += W;
      const key = store.key(next);
      if (store.lookup(key) !== undefined) continue;
      if (hasAll(next, task.goalPos) && hasNone(next, task.goalNeg)) {
        const path = store.path(parent);
        path.push(ai);
        return done({ status: 'solved', plan: toSteps(task, path) });
      }
      store.add(next, key, parent, ai);
      const over = run.overLimit(store.size, perState);
      if (over) return over;
    }
    work += acts.length + 1;
    if (work >= 20_000) {
      work = 0;
      if (performance.now() > deadline) {
        return run.timeout();
      }
    }
  }
  return done({ status: 'unsolvable' });
}
