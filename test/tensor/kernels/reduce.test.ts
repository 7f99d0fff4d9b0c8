// Reduce kernels: the js reference against float64 formulas and hand-computed values, backward kernels
// against finite differences, native against js on awkward sizes (AVX2 and scalar paths), validation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsReduce } from '../../../src/tensor/kernels/js/reduce.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import type { ReduceKernels } from '../../../src/tensor/kernels/types.ts';
import { assertClose, nativeAddonOrNull, nativeSkipReason, randn, rng } from '../../helpers.ts';
import { expectNativeError, expectJsError, fdGrad, withScalarPaths } from './kernel-test-utils.ts';

const COLS = [1, 3, 7, 8, 9, 17, 33, 100, 257, 1000];
const ROWS = [0, 1, 5];

/** Independent float64 softmax of one row (no max shift: inputs kept moderate). */
function softmax64(row: ArrayLike<number>): number[] {
  const e = Array.from(row, (v) => Math.exp(v));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function logSoftmax64(row: ArrayLike<number>): number[] {
  const s = Array.from(row, (v) => Math.exp(v)).reduce((a, b) => a + b, 0);
  return Array.from(row, (v) => v - Math.log(s));
}

describe('js reduce reference', () => {
  it('softmax of [1, 2, 3] and log-softmax match hand values', () => {
    const out = new Float32Array(3);
    jsReduce.softmax(Float32Array.from([1, 2, 3]), out, 1, 3);
    assertClose(out, [0.09003057317038046, 0.24472847105479764, 0.6652409557748219], { rtol: 1e-7, atol: 0 });
    jsReduce.logSoftmax(Float32Array.from([1, 2, 3]), out, 1, 3);
    assertClose(out, [-2.4076059644443806, -1.4076059644443806, -0.4076059644443806], { rtol: 1e-7, atol: 0 });
  });

  it('softmax and log-softmax match float64 formulas on random rows', () => {
    const rows = 4;
    const cols = 37;
    const x = randn(rows * cols, 1, 2);
    const y = new Float32Array(rows * cols);
    const ly = new Float32Array(rows * cols);
    jsReduce.softmax(x, y, rows, cols);
    jsReduce.logSoftmax(x, ly, rows, cols);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * cols, (r + 1) * cols);
      assertClose(y.subarray(r * cols, (r + 1) * cols), softmax64(row), { rtol: 2e-7, atol: 1e-12 });
      assertClose(ly.subarray(r * cols, (r + 1) * cols), logSoftmax64(row), { rtol: 2e-7, atol: 1e-7 });
    }
  });

  it('softmax and log-softmax are exact and finite on ±1e4 logits', () => {
    const x = Float32Array.from([1e4, -1e4, -1e4, -1e4, 1e4, 1e4 - 1]);
    const y = new Float32Array(6);
    jsReduce.logSoftmax(x, y, 3, 2);
    assert.deepEqual(Array.from(y.subarray(0, 2)), [0, -2e4]);
    assertClose(y.subarray(2, 4), [-Math.LN2, -Math.LN2], { rtol: 1e-7, atol: 0 });
    assertClose(y.subarray(4, 6), logSoftmax64([1, 0]), { rtol: 1e-6, atol: 0 });
    jsReduce.softmax(x, y, 3, 2);
    assert.deepEqual(Array.from(y.subarray(0, 4)), [1, 0, 0.5, 0.5]);
    assertClose(y.subarray(4, 6), softmax64([1, 0]), { rtol: 1e-6, atol: 0 });
    assert.ok(y.every(Number.isFinite));
  });

  it('softmaxBackward and logSoftmaxBackward match finite differences', () => {
    const cols = 9;
    const x = randn(cols, 2, 1.5);
    const gy = randn(cols, 3);
    const y = new Float32Array(cols);
    const gx = new Float32Array(cols);
    jsReduce.softmax(x, y, 1, cols);
    jsReduce.softmaxBackward(y, gy, gx, 1, cols);
    const fd = fdGrad((v) => softmax64(v).reduce((a, p, j) => a + p * gy[j], 0), x);
    assertClose(gx, fd, { rtol: 1e-5, atol: 1e-6, label: 'softmaxBackward' });
    jsReduce.logSoftmax(x, y, 1, cols);
    jsReduce.logSoftmaxBackward(y, gy, gx, 1, cols);
    const fdl = fdGrad((v) => logSoftmax64(v).reduce((a, p, j) => a + p * gy[j], 0), x);
    assertClose(gx, fdl, { rtol: 1e-5, atol: 1e-6, label: 'logSoftmaxBackward' });
  });

  it('reduceSum over each axis of [outer, len, inner] and in float64', () => {
    const x = Float32Array.from({ length: 24 }, (_, i) => i + 1); // [2, 3, 4]
    const out = new Float32Array(8);
    jsReduce.reduceSum(x, out, 2, 3, 4);
    const want: number[] = [];
    for (let o = 0; o < 2; o++)
      for (let i = 0; i < 4; i++) want.push([0, 1, 2].reduce((a, l) => a + x[(o * 3 + l) * 4 + i], 0));
    assert.deepEqual(Array.from(out), want);
    assert.deepEqual(want.slice(0, 2), [1 + 5 + 9, 2 + 6 + 10]);
    const o2 = new Float32Array(1);
    jsReduce.reduceSum(x, o2, 1, 24, 1);
    assert.equal(o2[0], 300);
    // float32 accumulation would lose each 1 against 2^24; float64 keeps them.
    jsReduce.reduceSum(Float32Array.from([16777216, 1, 1, 1, 1]), o2, 1, 5, 1);
    assert.equal(o2[0], 16777220);
    jsReduce.reduceSum(new Float32Array(0), o2, 1, 0, 1);
    assert.equal(o2[0], 0);
  });

  it('reduceMax takes the first index on ties and propagates NaN', () => {
    const out = new Float32Array(3);
    const arg = new Int32Array(3);
    jsReduce.reduceMax(Float32Array.from([1, 5, 5, 2, -3, -1, -1, -7, 0, NaN, 4, NaN]), out, arg, 3, 4, 1);
    assert.deepEqual(Array.from(out.subarray(0, 2)), [5, -1]);
    assert.ok(Number.isNaN(out[2]));
    assert.deepEqual(Array.from(arg), [1, 1, 1]);
    const o2 = new Float32Array(2);
    const a2 = new Int32Array(2);
    // [len=3, inner=2]: columns [2, 7, 7] and [9, 1, 9].
    jsReduce.reduceMax(Float32Array.from([2, 9, 7, 1, 7, 9]), o2, a2, 1, 3, 2);
    assert.deepEqual(Array.from(o2), [7, 9]);
    assert.deepEqual(Array.from(a2), [1, 0]);
  });

  it('sumSquares accumulates in float64', () => {
    assert.equal(jsReduce.sumSquares(Float32Array.from([3, 4, 99]), 2), 25);
    const x = Float32Array.from([4096, 1e-3, 1e-3]);
    // float32 accumulation would round the small squares away against 2^24.
    const want = 4096 * 4096 + x[1] * x[1] + x[2] * x[2];
    const got = jsReduce.sumSquares(x, 3);
    assert.ok(Math.abs(got - want) < 1e-9 && got > 16777216, `sumSquares ${got} vs ${want}`);
  });

  it('topk is largest first with ascending indices on ties, NaN on top', () => {
    const v = new Float32Array(6);
    const ix = new Int32Array(6);
    jsReduce.topk(Float32Array.from([1, 3, 3, 2, 0, 1, NaN, 5]), v, ix, 2, 4, 3);
    assert.deepEqual(Array.from(v.subarray(0, 3)), [3, 3, 2]);
    assert.deepEqual(Array.from(ix.subarray(0, 3)), [1, 2, 3]);
    assert.ok(Number.isNaN(v[3]));
    assert.deepEqual(Array.from(v.subarray(4, 6)), [5, 1]);
    assert.deepEqual(Array.from(ix.subarray(3, 6)), [2, 3, 1]);
  });
});

// ---------------------------------------------------------------------------------------------------

const addon = nativeAddonOrNull();
const skip = nativeSkipReason();
const nat = addon ? createNativeKernels(addon) : (null as unknown as ReduceKernels);

function compareRowKernels(rows: number, cols: number, seed: number): void {
  const n = rows * cols;
  const x = randn(n, seed, 3);
  const gy = randn(n, seed + 1);
  const tag = `rows=${rows} cols=${cols}`;
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  jsReduce.softmax(x, a, rows, cols);
  nat.softmax(x, b, rows, cols);
  assertClose(b, a, { rtol: 2e-6, atol: 1e-9, label: `softmax ${tag}` });
  const ga = new Float32Array(n);
  const gb = new Float32Array(n);
  jsReduce.softmaxBackward(a, gy, ga, rows, cols);
  nat.softmaxBackward(a, gy, gb, rows, cols);
  assertClose(gb, ga, { rtol: 2e-6, atol: 1e-6, label: `softmaxBackward ${tag}` });
  jsReduce.logSoftmax(x, a, rows, cols);
  nat.logSoftmax(x, b, rows, cols);
  assertClose(b, a, { rtol: 1e-6, atol: 2e-6, label: `logSoftmax ${tag}` });
  jsReduce.logSoftmaxBackward(a, gy, ga, rows, cols);
  nat.logSoftmaxBackward(a, gy, gb, rows, cols);
  assertClose(gb, ga, { rtol: 2e-6, atol: 2e-6, label: `logSoftmaxBackward ${tag}` });
  // reduceSum / reduceMax with the row as len (inner 1) and with a strided view [rows, cols] → over rows.
  for (const [outer, len, inner] of [
    [rows, cols, 1],
    [1, rows, cols],
  ]) {
    const m = outer * inner;
    const sa = new Float32Array(m);
    const sb = new Float32Array(m);
    jsReduce.reduceSum(x, sa, outer, len, inner);
    nat.reduceSum(x, sb, outer, len, inner);
    assertClose(sb, sa, { rtol: 1e-6, atol: 1e-5, label: `reduceSum [${outer},${len},${inner}]` });
    if (len === 0) continue;
    const ia = new Int32Array(m);
    const ib = new Int32Array(m);
    jsReduce.reduceMax(x, sa, ia, outer, len, inner);
    nat.reduceMax(x, sb, ib, outer, len, inner);
    assert.deepEqual(sb, sa, `reduceMax values [${outer},${len},${inner}]`);
    assert.deepEqual(ib, ia, `reduceMax argmax [${outer},${len},${inner}]`);
  }
  const ssa = jsReduce.sumSquares(x, n);
  assert.ok(Math.abs(nat.sumSquares(x, n) - ssa) <= 1e-12 * ssa, `sumSquares ${tag}`);
  for (const k of [1, Math.min(cols, 5), cols]) {
    if (cols === 0) break;
    const va = new Float32Array(rows * k);
    const vb = new Float32Array(rows * k);
    const ia = new Int32Array(rows * k);
    const ib = new Int32Array(rows * k);
    jsReduce.topk(x, va, ia, rows, cols, k);
    nat.topk(x, vb, ib, rows, cols, k);
    assert.deepEqual(vb, va, `topk values ${tag} k=${k}`);
    assert.deepEqual(ib, ia, `topk indices ${tag} k=${k}`);
  }
}

describe('native reduce vs js', { skip }, () => {
  it('agrees on awkward sizes (AVX2 path)', () => {
    let seed = 10;
    for (const cols of COLS) for (const rows of ROWS) compareRowKernels(rows, cols, seed++);
  });

  it('agrees on awkward sizes (scalar path)', () => {
    withScalarPaths('_reduceForceScalar', () => {
      let seed = 100;
      for (const cols of [1, 7, 9, 33, 257]) for (const rows of [0, 3]) compareRowKernels(rows, cols, seed++);
    });
  });

  it('agrees on multithreaded sizes', () => {
    compareRowKernels(70, 1000, 7);
    compareRowKernels(3, 40000, 8);
    // Contiguous sums longer than one fixed chunk (65536).
    const x = randn(200003, 9);
    const a = new Float32Array(1);
    const b = new Float32Array(1);
    jsReduce.reduceSum(x, a, 1, 200003, 1);
    nat.reduceSum(x, b, 1, 200003, 1);
    assert.equal(b[0], a[0]);
    const ss = jsReduce.sumSquares(x, 200003);
    assert.ok(Math.abs(nat.sumSquares(x, 200003) - ss) <= 1e-12 * ss);
  });

  it('is stable and exact on ±1e4 logits', () => {
    const cols = 19;
    const x = new Float32Array(2 * cols).fill(-1e4);
    x[5] = 1e4;
    x[cols + 18] = 1e4;
    x[cols + 3] = 1e4 - 2;
    const y = new Float32Array(2 * cols);
    nat.logSoftmax(x, y, 2, cols);
    assert.equal(y[5], 0);
    assert.equal(y[0], -2e4);
    assert.ok(y.every(Number.isFinite));
    const ref = new Float32Array(2 * cols);
    jsReduce.logSoftmax(x, ref, 2, cols);
    assertClose(y, ref, { rtol: 1e-7, atol: 1e-6 });
    nat.softmax(x, y, 2, cols);
    assert.equal(y[5], 1);
    assert.equal(y[0], 0);
    jsReduce.softmax(x, ref, 2, cols);
    assertClose(y, ref, { rtol: 1e-6, atol: 1e-9 });
    const two = new Float32Array(2);
    nat.logSoftmax(Float32Array.from([1e4, -1e4]), two, 1, 2);
    assert.deepEqual(Array.from(two), [0, -2e4]);
  });

  it('reduceMax: ties take the first index, NaN propagates, in vector lanes too', () => {
    const len = 45;
    const x = new Float32Array(3 * len);
    const r = rng(3);
    for (let i = 0; i < x.length; i++) x[i] = Math.floor(r() * 4); // many ties
    x[len + 20] = NaN;
    x[len + 33] = NaN;
    x[2 * len + 44] = NaN; // NaN in the scalar tail
    const out = new Float32Array(3);
    const arg = new Int32Array(3);
    nat.reduceMax(x, out, arg, 3, len, 1);
    const oa = new Float32Array(3);
    const aa = new Int32Array(3);
    jsReduce.reduceMax(x, oa, aa, 3, len, 1);
    assert.deepEqual(arg, aa);
    assert.equal(arg[1], 20);
    assert.equal(arg[2], 44);
    assert.ok(Number.isNaN(out[1]) && Number.isNaN(out[2]));
    assert.equal(x[arg[0]], 3);
    assert.equal(x.subarray(0, len).indexOf(3), arg[0]);
    // Strided with NaN, inner = 11 (one vector plus a tail).
    const y = Float32Array.from({ length: 5 * 11 }, () => Math.floor(r() * 3));
    y[2 * 11 + 4] = NaN;
    y[3 * 11 + 10] = NaN;
    const ob = new Float32Array(11);
    const ab = new Int32Array(11);
    const oc = new Float32Array(11);
    const ac = new Int32Array(11);
    nat.reduceMax(y, ob, ab, 1, 5, 11);
    jsReduce.reduceMax(y, oc, ac, 1, 5, 11);
    assert.deepEqual(ab, ac);
    assert.deepEqual(ob, oc);
  });

  it('topk keeps ascending indices on ties and NaN first', () => {
    const cols = 50;
    const x = Float32Array.from({ length: cols }, (_, i) => i % 7);
    x[30] = NaN;
    const v = new Float32Array(10);
    const ix = new Int32Array(10);
    nat.topk(x, v, ix, 1, cols, 10);
    assert.deepEqual(Array.from(ix), [30, 6, 13, 20, 27, 34, 41, 48, 5, 12]);
    assert.ok(Number.isNaN(v[0]));
    assert.deepEqual(Array.from(v.subarray(1)), [6, 6, 6, 6, 6, 6, 6, 5, 5]);
  });

  it('validates arguments, naming the kernel', () => {
    const x = new Float32Array(12);
    const o = new Float32Array(12);
    const i = new Int32Array(12);
    const nx = addon as unknown as Record<string, (...a: unknown[]) => unknown>;
    expectNativeError('softmax', () => nat.softmax(new Float64Array(12) as never, o, 3, 4), /'x'.*Float32Array/);
    expectNativeError('softmax', () => nat.softmax(x, o, 4, 4), /'x' has 12 elements, needs at least 16/);
    expectNativeError('softmax', () => nat.softmax(x, o.subarray(1), 3, 4), /'out'/);
    expectNativeError('softmax', () => nat.softmax(x, o, -1, 4), /'rows'/);
    expectNativeError('softmax', () => nat.softmax(x, o, 1.5, 4), /'rows'/);
    expectNativeError('logSoftmax', () => nat.logSoftmax(x, [] as never, 3, 4), /'out'/);
    expectNativeError('softmaxBackward', () => nat.softmaxBackward(x, x.subarray(2), o, 3, 4), /'gy'/);
    expectNativeError('logSoftmaxBackward', () => nat.logSoftmaxBackward(x, x, o, 3, 'a' as never), /'cols'/);
    expectNativeError('reduceSum', () => nat.reduceSum(x, o, 2, 3, 3), /'x'/);
    expectNativeError('reduceSum', () => nat.reduceSum(x, o.subarray(0, 3), 2, 3, 2), /'out'/);
    expectNativeError('reduceMax', () => nat.reduceMax(x, o, i, 3, 0, 1), /'len' must be at least 1/);
    expectNativeError('reduceMax', () => nat.reduceMax(x, o, o as never, 3, 4, 1), /'argmax'.*Int32Array/);
    expectNativeError('reduceMax', () => nat.reduceMax(x, o, i.subarray(0, 2), 3, 4, 1), /'argmax'/);
    expectNativeError('sumSquares', () => nat.sumSquares(x, 13), /'x'/);
    expectNativeError('sumSquares', () => nat.sumSquares(x, -1), /'n'/);
    expectNativeError('topk', () => nat.topk(x, o, i, 3, 4, 0), /'k' must be in \[1, cols=4\]/);
    expectNativeError('topk', () => nat.topk(x, o, i, 3, 4, 5), /'k'/);
    expectNativeError('topk', () => nat.topk(x, o, i.subarray(0, 5), 3, 4, 2), /'indices'/);
    expectNativeError('topk', () => nat.topk(x, o, new Uint32Array(12) as never, 3, 4, 2), /'indices'/);
    expectNativeError('softmax', () => nx.softmax(x, o, 3), /expected 4 arguments/);
  });
});

describe('js reduce validation', () => {
  it('throws errors naming the kernel', () => {
    const x = new Float32Array(12);
    expectJsError('softmax', () => jsReduce.softmax(x, new Float32Array(3), 3, 4));
    expectJsError('logSoftmax', () => jsReduce.logSoftmax(new Float64Array(12) as never, x, 3, 4));
    expectJsError('reduceMax', () => jsReduce.reduceMax(x, x, new Int32Array(12), 3, 0, 1));
    expectJsError('topk', () => jsReduce.topk(x, x, new Int32Array(12), 3, 4, 5));
    expectJsError('reduceSum', () => jsReduce.reduceSum(x, x, -1, 1, 1));
  });
});
