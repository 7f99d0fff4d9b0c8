// Row gather / scatter-add: js against hand-computed and naive results, native against js bit for bit (the
// scatter is deterministic: same order of additions on every path), and index / argument validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsIndexing } from '../../../src/tensor/kernels/js/indexing.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import type { IndexingKernels } from '../../../src/tensor/kernels/types.ts';
import { nativeAddonOrNull, nativeSkipReason, randInts, randn } from '../../helpers.ts';
import { testBothPaths } from './kernel-test-utils.ts';

test('gatherRows / scatterAddRows (js): hand-computed', () => {
  const src = Float32Array.of(0, 1, 10, 11, 20, 21); // 3 rows of 2
  const out = new Float32Array(8);
  jsIndexing.gatherRows(src, Int32Array.of(2, 0, 2, 1), out, 4, 2, 3);
  assert.deepEqual([...out], [20, 21, 0, 1, 20, 21, 10, 11]);

  const acc = Float32Array.of(100, 100, 100, 100, 100, 100);
  jsIndexing.scatterAddRows(Float32Array.of(1, 2, 3, 4, 5, 6), Int32Array.of(2, 0, 2), acc, 3, 2, 3);
  assert.deepEqual([...acc], [103, 104, 100, 100, 106, 108]); // repeated index 2 accumulates
});

test('scatterAddRows is the adjoint of gatherRows (js): ⟨gather(x), y⟩ = ⟨x, scatter(y)⟩', () => {
  const rows = 13;
  const rs = 5;
  const n = 40;
  const x = randn(rows * rs, 1);
  const y = randn(n * rs, 2);
  const idx = randInts(n, 0, rows, 3);
  const gx = new Float32Array(n * rs);
  jsIndexing.gatherRows(x, idx, gx, n, rs, rows);
  const sy = new Float32Array(rows * rs);
  jsIndexing.scatterAddRows(y, idx, sy, n, rs, rows);
  let lhs = 0;
  let rhs = 0;
  for (let i = 0; i < n * rs; i++) lhs += gx[i] * y[i];
  for (let i = 0; i < rows * rs; i++) rhs += x[i] * sy[i];
  assert.ok(Math.abs(lhs - rhs) < 1e-4 * (1 + Math.abs(lhs)), `${lhs} vs ${rhs}`);
});

function checkIndexErrors(k: IndexingKernels, prefix: RegExp): void {
  const src = new Float32Array(6);
  const out = new Float32Array(6).fill(7);
  assert.throws(
    () => k.gatherRows(src, Int32Array.of(0, 3, 1), out, 3, 2, 3),
    (e: Error) => {
      return prefix.test(e.message) && /gatherRows/.test(e.message) && /idx\[1\] = 3/.test(e.message);
    },
  );
  assert.throws(
    () => k.scatterAddRows(src, Int32Array.of(0, 1, -1), out, 3, 2, 3),
    (e: Error) => {
      return /scatterAddRows/.test(e.message) && /idx\[2\] = -1/.test(e.message);
    },
  );
  assert.deepEqual([...out], [7, 7, 7, 7, 7, 7], 'a rejected call writes nothing');
}

test('out-of-range indices throw naming position and value (js)', () => checkIndexErrors(jsIndexing, /./));

const addon = nativeAddonOrNull();

testBothPaths('native matches js bit for bit', '_indexingForceScalar', () => {
  const nat = createNativeKernels(addon!);
  // (n, rowSize, rows): empty, tiny, odd widths, narrow rows with many indices (row-range threading),
  // wide rows (column-block threading), many repeats into few rows.
  const cases: [number, number, number][] = [
    [0, 4, 3],
    [1, 1, 1],
    [7, 7, 5],
    [9, 8, 9],
    [33, 31, 4],
    [1000, 9, 50],
    [100000, 3, 1000],
    [300, 1000, 17],
    [2000, 64, 3],
    [5, 0, 2],
  ];
  for (const [n, rs, rows] of cases) {
    const table = randn(rows * rs, n + rs);
    const idx = randInts(n, 0, rows, n + 1);
    const a = new Float32Array(n * rs + 3).fill(-1);
    const b = new Float32Array(n * rs + 3).fill(-1);
    nat.gatherRows(table, idx, a, n, rs, rows);
    jsIndexing.gatherRows(table, idx, b, n, rs, rows);
    assert.deepEqual(a, b, `gatherRows n=${n} rowSize=${rs} rows=${rows}`);

    const src = randn(n * rs, n + 7);
    const oa = randn(rows * rs, rows);
    const ob = Float32Array.from(oa);
    nat.scatterAddRows(src, idx, oa, n, rs, rows);
    jsIndexing.scatterAddRows(src, idx, ob, n, rs, rows);
    for (let i = 0; i < oa.length; i++) {
      if (!Object.is(oa[i], ob[i])) assert.fail(`scatterAddRows n=${n} rs=${rs} i=${i}: ${oa[i]} vs ${ob[i]}`);
    }
  }
});

test('native: out-of-range indices throw naming position and value', { skip: nativeSkipReason() }, () => {
  checkIndexErrors(createNativeKernels(addon!), /olmo native/);
});

test('native validates its arguments', { skip: nativeSkipReason() }, () => {
  const nat = createNativeKernels(addon!);
  const bad = nat as unknown as Record<string, (...a: unknown[]) => void>;
  const f = (n: number) => new Float32Array(n);
  const idx = Int32Array.of(0, 1);
  assert.throws(() => nat.gatherRows(f(5), idx, f(4), 2, 2, 3), /gatherRows.*'src'/);
  assert.throws(() => nat.gatherRows(f(6), idx, f(3), 2, 2, 3), /gatherRows.*'out'/);
  assert.throws(() => nat.gatherRows(f(6), Int32Array.of(0), f(4), 2, 2, 3), /gatherRows.*'idx'/);
  assert.throws(() => bad.gatherRows(f(6), Float32Array.of(0, 1), f(4), 2, 2, 3), /gatherRows.*Int32Array/);
  assert.throws(() => nat.gatherRows(f(6), idx, f(4), -2, 2, 3), /gatherRows.*'n'/);
  assert.throws(() => nat.scatterAddRows(f(4), idx, f(6), 2, 2.5, 3), /scatterAddRows.*'rowSize'/);
  assert.throws(() => nat.scatterAddRows(f(4), idx, f(5), 2, 2, 3), /scatterAddRows.*'out'/);
  assert.throws(() => bad.scatterAddRows(new Float64Array(4), idx, f(6), 2, 2, 3), /scatterAddRows.*'src'/);
  assert.throws(() => bad.scatterAddRows(f(4), idx, f(6), 2, 2), /scatterAddRows/);
});
