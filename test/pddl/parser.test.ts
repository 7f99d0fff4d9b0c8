import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PddlParseError, parseDomain, parseProblem, readSExpr } from '../../src/pddl/index.ts';
import { ROOMS_DOMAIN, ROOMS_PROBLEM } from './fixtures.ts';

function parseError(fn: () => unknown): PddlParseError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PddlParseError, `expected PddlParseError, got ${e}`);
    return e;
  }
  assert.fail('expected a parse error');
}

test('parses typed domain: hierarchy, constants, lower-casing, comments, negative preconditions', () => {
  const d = parseDomain(ROOMS_DOMAIN.replace('(:action move', '(:ACTION Move ; comment ) ('));
  assert.equal(d.name, 'rooms');
  assert.deepEqual(
    [...d.types.entries()],
    [
      ['object', ['item', 'agent', 'room']],
      ['item', ['key']],
    ],
  );
  assert.deepEqual([...d.constants.entries()], [['key', ['master']]]);
  const move = d.actions[0];
  assert.equal(move.name, 'move');
  assert.deepEqual(move.parameters, [
    { name: '?a', type: 'agent' },
    { name: '?from', type: 'room' },
    { name: '?to', type: 'room' },
  ]);
  assert.deepEqual(move.neg, [['locked', '?to']]);
  assert.deepEqual(move.del, [['at', '?a', '?from']]);
  // a single literal without (and ...)
  assert.deepEqual(d.actions[2].del, [['locked', '?r']]);
  const p = parseProblem(ROOMS_PROBLEM, d);
  assert.deepEqual(p.objects.get('key'), ['master']); // constants first
  assert.deepEqual(p.objects.get('room'), ['hall', 'kitchen', 'vault']);
  assert.equal(p.init.length, 8);
  assert.deepEqual(p.goalPos, [
    ['holding', 'bob', 'coin'],
    ['at', 'bob', 'hall'],
  ]);
});

test('official quirks: "?p -player" makes -player a parameter; bare words become character atoms', () => {
  const d = parseDomain(`(define (domain q) (:requirements :strips)
    (:action a :parameters (?p -player ?l - location) :precondition (and (at ?p ?l) ab) :effect (and (done))))`);
  assert.deepEqual(d.actions[0].parameters, [
    { name: '?p', type: 'location' },
    { name: '-player', type: 'location' },
    { name: '?l', type: 'location' },
  ]);
  assert.deepEqual(d.actions[0].pos[1], ['a', 'b']);
  assert.ok(d.warnings.some((w) => w.message.includes("'-player'")));
});

test('malformed PDDL: errors give line, column and what was expected', () => {
  const unclosed = parseError(() => parseDomain('(define (domain x)\n  (:requirements :strips)\n  (:action a'));
  assert.equal(unclosed.line, 3);
  assert.match(unclosed.message, /expected '\)' to close the '\(' opened at 3:3/);
  assert.equal(unclosed.pyClass, 'ValueError');

  const extra = parseError(() => readSExpr('(a)\n (b)) ', 'f.pddl'));
  assert.equal(extra.line, 2);
  assert.equal(extra.column, 5);
  assert.match(extra.message, /^f\.pddl:2:5: /);

  const req = parseError(() => parseDomain('(define (domain x)\n (:requirements :strips :adl))'));
  assert.deepEqual([req.line, req.column], [2, 25]);
  assert.equal(req.officialMessage, 'Requirement :adl not supported');

  const orCond = parseError(() =>
    parseDomain('(define (domain x)\n (:action a :parameters ()\n   :precondition (or (p) (q)) :effect (r)))'),
  );
  assert.deepEqual([orCond.line, orCond.column], [3, 22]);
  assert.equal(orCond.pyClass, 'TypeError');
  assert.match(orCond.message, /expected a predicate argument/);

  const notArity = parseError(() => parseDomain('(define (domain x) (:action a :effect (not (p) (q))))'));
  assert.equal(notArity.officialMessage, 'Unexpected not in a effects');

  const hyphen = parseError(() => parseDomain('(define (domain x)\n(:types - t))'));
  assert.deepEqual([hyphen.line, hyphen.column, hyphen.officialMessage], [2, 9, 'Unexpected hyphen in types']);

  const redefined = parseError(() => parseDomain('(define (domain x) (:types a - t t - object))'));
  assert.equal(redefined.officialMessage, 'Redefined supertype of t');

  const notDefine = parseError(() => parseDomain('(domain x)'));
  assert.match(notDefine.message, /expected 'define', found 'domain'/);

  const d = parseDomain(ROOMS_DOMAIN);
  const wrongDomain = parseError(() =>
    parseProblem('(define (problem p)\n  (:domain other))', d, { source: 'p.pddl' }),
  );
  assert.match(wrongDomain.message, /^p\.pddl:2:12: expected the domain name 'rooms', found 'other'/);
  assert.equal(wrongDomain.officialMessage, 'Different domain specified in problem file');
});
