// Strict checks (parse option `strict`, what `olmo pddl` uses by default): undeclared predicates, wrong arity and
// undeclared objects or variables are errors with file, line and column. Without `strict` (Proc2PDDL scoring) the
// files read as the official tooling reads them: the same input plans to "unsolvable", not to an error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  evaluateProblem,
  parseDomain,
  parseProblem,
  PddlCheckError,
  planBfs,
  type PddlIssue,
} from '../../src/pddl/index.ts';
import { ROOMS_DOMAIN, ROOMS_PROBLEM } from './fixtures.ts';

function issues(fn: () => unknown): PddlIssue[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PddlCheckError, `expected PddlCheckError, got ${e}`);
    return e.issues;
  }
  assert.fail('expected a PddlCheckError');
}

const domain = parseDomain(ROOMS_DOMAIN, { source: 'rooms.pddl', strict: true });
const problem = (init: string, goal = '(and (holding bob coin) (at bob hall))') =>
  `(define (problem fetch)
  (:domain rooms)
  (:objects bob - agent hall kitchen vault - room coin - item)
  (:init ${init})
  (:goal ${goal}))
`;

test('the well-formed fixtures pass the strict checks', () => {
  assert.equal(parseProblem(ROOMS_PROBLEM, domain, { strict: true }).init.length, 8);
});

test(':init with an undeclared predicate and a wrong arity: each named with line and column', () => {
  const text = problem('(at bob hall)\n         (holdng bob coin) (door hall)');
  const found = issues(() => parseProblem(text, domain, { source: 'p.pddl', strict: true }));
  assert.equal(found.length, 2);
  const [undeclared, arity] = found;
  assert.equal(undeclared.kind, 'undeclared-predicate');
  assert.equal(undeclared.predicate, 'holdng');
  assert.deepEqual([undeclared.line, undeclared.column], [5, 10]);
  assert.match(
    undeclared.message,
    /^p\.pddl:5:10: expected a predicate declared in the domain's :predicates, found undeclared predicate 'holdng' in \(holdng bob coin\) in :init$/,
  );
  assert.equal(arity.kind, 'wrong-arity');
  assert.deepEqual([arity.line, arity.column, arity.expectedArity, arity.actualArity], [5, 28, 2, 1]);
  assert.match(
    arity.message,
    /^p\.pddl:5:28: expected 2 argument\(s\) for predicate 'door' \(declared \(door \?a \?b\)\), found 1 in \(door hall\) in :init$/,
  );
  // The official reading accepts the same file.
  assert.equal(parseProblem(text, domain).init.length, 3);
});

test('an undeclared object in :init or :goal is an error at the object; the official reading makes it unsolvable', () => {
  const text = problem('(at bob hall) (at coin hall)', '(and (holding bob coins))');
  const found = issues(() => parseProblem(text, domain, { source: 'p.pddl', strict: true }));
  assert.deepEqual(
    found.map((i) => [i.kind, i.name, i.line, i.column]),
    [['undeclared-object', 'coins', 5, 28]],
  );
  assert.match(
    found[0].message,
    /^p\.pddl:5:28: expected an object declared in :objects or a domain constant, found undeclared object 'coins' in \(holding bob coins\) in :goal$/,
  );
  // What happened before: no error, the planner just cannot reach the goal.
  const lenient = parseProblem(text, domain);
  assert.equal(planBfs(domain, lenient, { timeLimitMs: 5000 }).status, 'unsolvable');
});

test(':goal with a wrong arity inside (not ...)', () => {
  const found = issues(() =>
    parseProblem(problem('(at bob hall)', '(and (at bob hall) (not (locked vault hall)))'), domain, { strict: true }),
  );
  assert.deepEqual(
    found.map((i) => [i.kind, i.predicate, i.expectedArity, i.actualArity, i.line, i.column]),
    [['wrong-arity', 'locked', 1, 2, 5, 34]],
  );
});

test('actions: undeclared predicate, wrong arity, unknown variable and unknown constant, in preconditions and effects', () => {
  const text = ROOMS_DOMAIN.replace(
    ':precondition (and (at ?a ?r) (at ?i ?r))\n    :effect (and (holding ?a ?i) (not (at ?i ?r))))',
    ':precondition (and (at ?a ?r) (near ?i ?r) (locked ?r ?a))\n    :effect (and (holding ?a ?x) (not (at ?i cellar))))',
  );
  const found = issues(() => parseDomain(text, { source: 'd.pddl', strict: true }));
  assert.deepEqual(
    found.map((i) => [i.kind, i.predicate, i.name ?? null, i.line, i.column]),
    [
      ['undeclared-predicate', 'near', null, 13, 35],
      ['wrong-arity', 'locked', null, 13, 48],
      ['undeclared-variable', 'holding', '?x', 14, 30],
      ['undeclared-object', 'at', 'cellar', 14, 46],
    ],
  );
  assert.match(
    found[2].message,
    /^d\.pddl:14:30: expected a parameter of action take, found undeclared variable '\?x' in \(holding \?a \?x\) in the effect of action take$/,
  );
  assert.doesNotThrow(() => parseDomain(text));
});

test('"?x -type" in :predicates (a type written without the space) does not count as an argument', () => {
  const d = parseDomain(
    `(define (domain w) (:requirements :strips :typing) (:types t)
      (:predicates (wet ?x -t))
      (:action dry :parameters (?x - t) :precondition (wet ?x) :effect (not (wet ?x))))`,
    { strict: true },
  );
  assert.equal(d.actions.length, 1);
});

test('Proc2PDDL scoring reads such files as the official evaluation does: unsolved, not a parse error', () => {
  const text = problem('(at bob hall) (at coin hall) (door hall kitchen)', '(and (holding bob coins))');
  const ev = evaluateProblem(ROOMS_DOMAIN, text, { timeLimitMs: 5000 });
  assert.equal(ev.outcome, 'unsolved');
  assert.equal(ev.error, undefined);
});
