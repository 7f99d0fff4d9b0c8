import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BLOCKSWORLD_DOMAIN,
  blocksworldProblem,
  formatOfficialPlanFile,
  formatPlan,
  groundTask,
  parseDomain,
  parsePlan,
  parseProblem,
  plan,
  planBfs,
  planHeuristic,
  validatePlan,
} from '../../src/pddl/index.ts';
import { ROOMS_DOMAIN, ROOMS_PROBLEM } from './fixtures.ts';

test('official grounding order: LIFO type walk, last parameter fastest, constants first', () => {
  const d = parseDomain(`(define (domain g) (:requirements :typing)
    (:types t u - object  a b - t  c - a)
    (:constants k - c)
    (:action x :parameters (?p - t ?q - u) :precondition () :effect (done ?p ?q)))`);
  const p = parseProblem(
    `(define (problem g) (:domain g)
    (:objects a1 - a b1 b2 - b c1 - c t1 - t u1 u2 - u) (:init) (:goal (done zz zz)))`,
    d,
  );
  const g = groundTask(d, p);
  assert.equal(g.status, 'ok');
  if (g.status !== 'ok') return;
  // stack [t] -> t1, push [a, b]; pop b -> b1 b2; pop a -> a1, push [c]; pop c -> k (constant), c1
  assert.deepEqual(
    g.task.actions.map((a) => a.args.join(',')),
    ['t1,u1', 't1,u2', 'b1,u1', 'b1,u2', 'b2,u1', 'b2,u2', 'a1,u1', 'a1,u2', 'k,u1', 'k,u2', 'c1,u1', 'c1,u2'],
  );
});

test('BFS: finds the shortest plan, official format, and pruning does not change it', () => {
  const d = parseDomain(ROOMS_DOMAIN);
  const p = parseProblem(ROOMS_PROBLEM, d);
  const r = planBfs(d, p);
  assert.equal(r.status, 'solved');
  const text = formatPlan(r.plan!);
  assert.equal(
    text,
    [
      "move ('bob', 'hall', 'kitchen')",
      "take ('bob', 'master', 'kitchen')",
      "unlock ('bob', 'vault')",
      "move ('bob', 'kitchen', 'vault')",
      "take ('bob', 'coin', 'vault')",
      "move ('bob', 'vault', 'kitchen')",
      "move ('bob', 'kitchen', 'hall')",
      '',
    ].join('\n'),
  );
  assert.ok(validatePlan(d, p, r.plan!).valid);
  assert.deepEqual(
    parsePlan(text),
    r.plan!.map((s, i) => ({ ...s, line: i + 1 })),
  );
  const g1 = groundTask(d, p);
  const g2 = groundTask(d, p, { pruneStatic: false, reachability: false });
  assert.ok(g1.status === 'ok' && g2.status === 'ok');
  assert.ok(g1.task.actions.length < g2.task.actions.length);
});

test('BFS: goal already true gives an empty plan that the official format reports as No solution', () => {
  const d = parseDomain(ROOMS_DOMAIN);
  const p = parseProblem(ROOMS_PROBLEM.replace('(holding bob coin) (at bob hall)', '(at bob hall)'), d);
  const r = planBfs(d, p);
  assert.equal(r.status, 'goal-already-satisfied');
  assert.deepEqual(r.plan, []);
  assert.equal(formatOfficialPlanFile(r), 'No solution');
  const unsolvable = planBfs(d, parseProblem(ROOMS_PROBLEM.replace('(door kitchen vault)', ''), d));
  assert.equal(unsolvable.status, 'unsolvable');
  assert.equal(formatOfficialPlanFile(unsolvable), 'No solution');
});

test("zero-parameter actions print as name ('')", () => {
  const d = parseDomain('(define (domain z) (:action go :parameters () :precondition (not (done)) :effect (done)))');
  const p = parseProblem('(define (problem z) (:domain z) (:init) (:goal (done)))', d);
  const r = planBfs(d, p);
  assert.equal(formatOfficialPlanFile(r), "go ('')\n");
  assert.deepEqual(parsePlan("go ('')"), [{ action: 'go', args: [], line: 1 }]);
});

test('limits: a BFS that would blow up stops at the time limit or the state limit', () => {
  const d = parseDomain(BLOCKSWORLD_DOMAIN);
  const p = parseProblem(blocksworldProblem(14, 3), d);
  const t0 = performance.now();
  const r = planBfs(d, p, { timeLimitMs: 500 });
  const elapsed = performance.now() - t0;
  assert.equal(r.status, 'timeout');
  assert.ok(elapsed < 1500, `returned after ${elapsed.toFixed(0)} ms`);
  assert.equal(formatOfficialPlanFile(r), 'Error: Running time exceeds 30 seconds');

  const m = planBfs(d, p, { maxStates: 2000, timeLimitMs: 60_000 });
  assert.equal(m.status, 'memory-limit');
  assert.ok(m.stats.stored <= 2001);
  const b = planBfs(d, p, { maxBytes: 200_000, timeLimitMs: 60_000 });
  assert.equal(b.status, 'memory-limit');
  assert.ok(b.stats.bytesEstimate <= 200_000 + 1000);

  const h = planHeuristic(d, parseProblem(blocksworldProblem(40, 2), d), { heuristic: 'add', timeLimitMs: 200 });
  assert.equal(h.status, 'timeout');
  assert.ok(h.stats.elapsedMs < 1000);
});

test('a cyclic type hierarchy is reported as a timeout, not a hang', () => {
  // the only cycle the official parser lets through is a type declared as its own parent
  const d = parseDomain('(define (domain c) (:types a - a) (:action x :parameters (?v - a) :effect (p ?v)))');
  const p = parseProblem('(define (problem c) (:domain c) (:objects o - a) (:init) (:goal (p o)))', d);
  const r = planBfs(d, p, { timeLimitMs: 1000 });
  assert.equal(r.status, 'timeout');
  assert.match(r.message ?? '', /cycle/);
});

test('heuristic planner solves generated blocksworld with 12+ blocks; plans validate', () => {
  const d = parseDomain(BLOCKSWORLD_DOMAIN);
  for (const [n, seed] of [
    [12, 1],
    [12, 2],
    [12, 3],
    [16, 4],
    [20, 5],
  ]) {
    const p = parseProblem(blocksworldProblem(n, seed), d);
    const r = plan(d, p, { planner: 'gbfs', timeLimitMs: 10_000 });
    assert.equal(r.status, 'solved', `${n} blocks seed ${seed}: ${r.status} ${r.message ?? ''}`);
    assert.ok(r.stats.elapsedMs < 10_000);
    const v = validatePlan(d, p, r.plan!);
    assert.ok(v.valid, `${n} blocks seed ${seed}: ${v.failure?.message}`);
  }
});

test('A* with h_max is optimal on small problems (matches BFS length)', () => {
  const d = parseDomain(BLOCKSWORLD_DOMAIN);
  for (const seed of [1, 2]) {
    const p = parseProblem(blocksworldProblem(5, seed), d);
    const bfs = planBfs(d, p);
    const astar = planHeuristic(d, p, { algorithm: 'astar', heuristic: 'max' });
    assert.equal(astar.status, 'solved');
    assert.equal(astar.plan!.length, bfs.plan!.length);
    assert.ok(validatePlan(d, p, astar.plan!).valid);
  }
  const r = planHeuristic(parseDomain(ROOMS_DOMAIN), parseProblem(ROOMS_PROBLEM, parseDomain(ROOMS_DOMAIN)));
  assert.equal(r.status, 'solved');
});
