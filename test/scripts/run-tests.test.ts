// The test runner's CI guard: skipped tests are read from the TAP stream, and only a shared-fixture skip where
// ../shared is absent (or a listed, explained one) passes in CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOWED_CI_SKIPS, isCi, tapSkips, unexpectedSkips } from '../../scripts/run-tests.mjs';

const TAP = [
  'TAP version 13',
  '# Subtest: math works',
  'ok 1 - math works',
  '  ---',
  '  duration_ms: 1.2',
  '  ...',
  'ok 2 - native attention matches js # SKIP native addon unavailable: not built',
  '    ok 1 - nested case \\# 2 # SKIP Proc2PDDL samples not found at /x (they live in the shared workspace)',
  'not ok 3 - broken',
  'ok 4 - report opens # SKIP Chromium not found at /usr/bin/chromium',
  'ok 5 - shared δ-RoT sample rows parse in the critic-gold schema # SKIP no δ-RoT sample rows',
].join('\n');

test('tapSkips reads every skipped test with its reason, nested ones and escaped # included', () => {
  assert.deepEqual(tapSkips(TAP), [
    { name: 'native attention matches js', reason: 'native addon unavailable: not built' },
    { name: 'nested case # 2', reason: 'Proc2PDDL samples not found at /x (they live in the shared workspace)' },
    { name: 'report opens', reason: 'Chromium not found at /usr/bin/chromium' },
    { name: 'shared δ-RoT sample rows parse in the critic-gold schema', reason: 'no δ-RoT sample rows' },
  ]);
  assert.deepEqual(tapSkips('ok 1 - fine\nnot ok 2 - failed'), []);
});

test('in CI, a shared-fixture skip passes only when ../shared is absent; native and browser skips never do', () => {
  const skips = tapSkips(TAP);
  const names = (present: boolean) => unexpectedSkips(skips, present).map((s) => s.name);
  assert.deepEqual(names(true), ['native attention matches js', 'nested case # 2', 'report opens']);
  assert.deepEqual(names(false), ['native attention matches js', 'report opens']);
  for (const a of ALLOWED_CI_SKIPS) assert.ok(a.why.length > 20, `allowed skip ${a.test} must say why`);
});

test('isCi accepts the usual CI values', () => {
  for (const v of ['true', '1', 'TRUE', 'yes']) assert.equal(isCi(v), true, v);
  for (const v of [undefined, '', '0', 'false', 'False']) assert.equal(isCi(v), false, String(v));
});
