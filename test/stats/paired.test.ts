// The paired comparison of two models on the same items: counts of fixed and broken items and the exact sign test,
// checked against exact integer sums: min(1, 2·Σ_{i≤min(k,m)} C(k+m, i) / 2^(k+m)) with Python's math.comb.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedComparison, signTestPValue } from '../../src/stats/paired.ts';

test('sign test p-values match the exact binomial test', () => {
  assert.equal(signTestPValue(0, 0), 1);
  assert.equal(signTestPValue(3, 3), 1); // a symmetric split is capped at 1
  assert.ok(Math.abs(signTestPValue(5, 0) - 0.0625) < 1e-12); // 2 · 2^-5
  assert.ok(Math.abs(signTestPValue(0, 5) - 0.0625) < 1e-12);
  assert.ok(Math.abs(signTestPValue(8, 2) - 0.109375) < 1e-12); // 2 · (1 + 10 + 45) / 1024
  assert.ok(Math.abs(signTestPValue(40, 20) - 0.0134893) < 1e-6);
  assert.ok(Math.abs(signTestPValue(300, 240) - 0.0110505) < 1e-6); // large n: no underflow
});

test('paired comparison counts fixed and broken items and the accuracies', () => {
  const before = [true, true, false, false, false, true];
  const after = [true, false, true, true, false, true];
  const c = pairedComparison(before, after);
  assert.deepEqual(
    { n: c.n, fixed: c.fixed, broken: c.broken, before: c.before, after: c.after },
    { n: 6, fixed: 2, broken: 1, before: 0.5, after: 4 / 6 },
  );
  assert.equal(c.pValue, 1);
  assert.throws(() => pairedComparison([true], [true, false]), /1 outcomes before but 2 after/);
});
