// The official Proc2PDDL breadth-first planner (spec §3.4), reproduced exactly:
// - if the initial state satisfies the goal, return the empty plan (before grounding);
// - ground in the official order; BFS with a visited set seeded with the initial state; pop FIFO; for each
//   ground action in order that applies, compute the successor; if it is new, test the goal at generation
//   time and return at the first hit, otherwise mark it visited and enqueue it.
// Limits: wall-clock time (grounding included), stored states, estimated bytes.

import { groundTask } from './ground.ts';
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
  const lim = resolveLimits(limits);
  const t0 = performance.now();
  const deadline = t0 + lim.timeLimitMs;
  const stats = emptyStats();
  const done = (r: Omit<PlanResult, 'stats'>): PlanResult => {
    stats.elapsedMs = performance.now() - t0;
    return { ...r, stats };
  };

  if (holds(problem.init, problem.goalPos, problem.goalNeg)) {
    return done({ status: 'goal-already-satisfied', plan: [] });
  }
  const g = groundTask(domain, problem, {
    deadline,
    maxGroundActions: Math.max(1000, Math.floor(lim.maxBytes / 256)),
    pruneStatic: limits.pruneStatic,
    reachability: limits.reachability,
  });
  if (g.status === 'error') return done({ status: 'error', error: g.error, message: g.error.message });
  if (g.status !== 'ok') {
    stats.enumerated = g.enumerated;
    return done({ status: g.status, message: g.message });
  }
  const task = g.task;
  stats.groundActions = task.actions.length;
  stats.enumerated = task.enumerated;
  const W = wordsFor(task);
  const store = new StateStore(W);
  const init = stateFromIds(W, task.init);
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
      stats.stored = store.size;
      stats.bytesEstimate = store.size * perState;
      if (store.size > lim.maxStates || stats.bytesEstimate > lim.maxBytes) {
        return done({
          status: 'memory-limit',
          message: `stored ${store.size} states (~${Math.round(stats.bytesEstimate / 1048576)} MiB) without reaching the goal`,
        });
      }
    }
    work += acts.length + 1;
    if (work >= 20_000) {
      work = 0;
      if (performance.now() > deadline) {
        return done({ status: 'timeout', message: `no plan within ${lim.timeLimitMs} ms` });
      }
    }
  }
  return done({ status: 'unsolvable' });
}
