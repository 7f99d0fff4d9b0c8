// Shared setup of the planners: limits and timing, grounding into a bitset start state, and the result
// messages both searches report (memory limit, timeout).

import { groundTask, type GroundTask } from './ground.ts';
import type { Domain, Problem } from './types.ts';
import {
  emptyStats,
  resolveLimits,
  stateFromIds,
  wordsFor,
  type PlanResult,
  type SearchLimits,
  type SearchStats,
} from './search-common.ts';

export interface SearchRun {
  lim: Required<SearchLimits>;
  deadline: number;
  stats: SearchStats;
  /** Stamps the elapsed time into the stats and attaches them to the result. */
  done(r: Omit<PlanResult, 'stats'>): PlanResult;
  /**
   * Records `stored` states at `perState` estimated bytes each in the stats; returns the 'memory-limit' result
   * once the state or byte limit is exceeded, otherwise null.
   */
  overLimit(stored: number, perState: number): PlanResult | null;
  /** The 'timeout' result. */
  timeout(): PlanResult;
}

/** Starts the clock (grounding counts against the time limit) and resolves the limits. */
export function startSearch(limits: SearchLimits = {}): SearchRun {
  const lim = resolveLimits(limits);
  const t0 = performance.now();
  const deadline = t0 + lim.timeLimitMs;
  const stats = emptyStats();
  const done = (r: Omit<PlanResult, 'stats'>): PlanResult => {
    stats.elapsedMs = performance.now() - t0;
    return { ...r, stats };
  };
  return {
    lim,
    deadline,
    stats,
    done,
    overLimit: (stored, perState) => {
      stats.stored = stored;
      stats.bytesEstimate = stored * perState;
      if (stored > lim.maxStates || stats.bytesEstimate > lim.maxBytes) {
        return done({
          status: 'memory-limit',
          message: `stored ${stored} states (~${Math.round(stats.bytesEstimate / 1048576)} MiB) without reaching the goal`,
        });
      }
      return null;
    },
    timeout: () => done({ status: 'timeout', message: `no plan within ${lim.timeLimitMs} ms` }),
  };
}

export interface GroundedSearch {
  task: GroundTask;
  /** Words per bitset state. */
  W: number;
  init: Uint32Array;
}

/**
 * Grounds the task within the run's deadline and ground-action budget and fills the grounding stats; returns
 * the finished result when grounding fails, times out or runs out of memory.
 */
export function groundForSearch(
  run: SearchRun,
  domain: Domain,
  problem: Problem,
  prune: { pruneStatic?: boolean; reachability?: boolean } = {},
): GroundedSearch | PlanResult {
  const { lim, stats, done } = run;
  const g = groundTask(domain, problem, {
    deadline: run.deadline,
    maxGroundActions: Math.max(1000, Math.floor(lim.maxBytes / 256)),
    pruneStatic: prune.pruneStatic,
    reachability: prune.reachability,
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
  return { task, W, init: stateFromIds(W, task.init) };
}
