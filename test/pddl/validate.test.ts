import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDomain, parsePlan, parseProblem, PlanSyntaxError, validatePlan } from '../../src/pddl/index.ts';
import { ROOMS_DOMAIN, ROOMS_PROBLEM } from './fixtures.ts';

const d = parseDomain(ROOMS_DOMAIN);
const p = parseProblem(ROOMS_PROBLEM, d);

test('validator accepts a correct plan in PDDL format', () => {
  const plan = parsePlan(`; a plan
(move bob hall kitchen)
(take bob master kitchen)
(unlock bob vault)
(move bob kitchen vault)
(take bob coin vault)
(move bob vault kitchen)
(MOVE bob kitchen hall)
; cost = 7`);
  const v = validatePlan(d, p, plan);
  assert.equal(v.valid, true, v.failure?.message);
  assert.equal(v.stepsApplied, 7);
});

test('validator reports the first failing step and why', () => {
  const neg = validatePlan(d, p, parsePlan('(move bob hall kitchen)\n(move bob kitchen vault)'));
  assert.equal(neg.valid, false);
  assert.equal(neg.failure?.step, 2);
  assert.equal(neg.failure?.reason, 'precondition-false');
  assert.deepEqual(neg.failure?.unsatisfied, ['(not (locked vault))']);
  assert.equal(neg.stepsApplied, 1);

  const pos = validatePlan(d, p, parsePlan("take ('bob', 'coin', 'vault')"));
  assert.equal(pos.failure?.step, 1);
  assert.deepEqual(pos.failure?.unsatisfied, ['(at bob vault)']);

  assert.equal(validatePlan(d, p, parsePlan('(fly bob hall)')).failure?.reason, 'unknown-action');
  assert.equal(validatePlan(d, p, parsePlan('(move bob hall)')).failure?.reason, 'wrong-arity');
  assert.equal(validatePlan(d, p, parsePlan('(move bob hall attic)')).failure?.reason, 'unknown-object');
  const typed = validatePlan(d, p, parsePlan('(move bob hall coin)'));
  assert.equal(typed.failure?.reason, 'type-mismatch');
  assert.match(typed.failure!.message, /'coin' is not of type 'room'/);

  const short = validatePlan(d, p, parsePlan('(move bob hall kitchen)'));
  assert.equal(short.failure?.reason, 'goal-not-reached');
  assert.equal(short.failure?.step, 2);
  assert.deepEqual(short.failure?.unsatisfied, ['(holding bob coin)', '(at bob hall)']);
});

test('argOrder "any" replays steps whose arguments are permuted', () => {
  const permuted = parsePlan('(move hall kitchen bob)');
  assert.equal(validatePlan(d, p, permuted).failure?.reason, 'type-mismatch');
  const v = validatePlan(d, p, permuted, { argOrder: 'any' });
  assert.equal(v.failure?.reason, 'goal-not-reached');
  assert.deepEqual(v.boundArgs, [['bob', 'hall', 'kitchen']]);
});

test('plan reader rejects plan files without a plan and bad lines, with line numbers', () => {
  assert.throws(() => parsePlan('No solution'), PlanSyntaxError);
  assert.throws(() => parsePlan("go ('a', b)\n"), /<plan>:1: expected a quoted argument/);
  assert.throws(() => parsePlan('\n(go a'), /<plan>:2:/);
});
