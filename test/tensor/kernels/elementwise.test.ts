// Elementwise kernels: the js reference against hand-computed values, naive index arithmetic and float64
// finite differences; native against js on awkward sizes and broadcast layouts (AVX2 and scalar paths), exact
// where float32 arithmetic is exact and within a few ulp for transcendental functions; argument validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsElementwise as js } from '../../../src/tensor/kernels/js/elementwise.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import {
  BinaryOp,
  UnaryOp,
  type BinaryOpCode,
  type ElementwiseKernels,
  type UnaryOpCode,
} from '../../../src/tensor/kernels/types.ts';
import { assertClose, nativeAddonOrNull, nativeSkipReason, randn, rng } from '../../helpers.ts';
import { testBothPaths } from './kernel-test-utils.ts';

const SIZES = [0, 1, 7, 8, 9, 31, 33, 1000, 100000];
const f32 = Math.fround;
const I = (...v: number[]) => Int32Array.from(v);

function ulp(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/**
 * |a − e| ≤ k ulp of the larger magnitude, or ≤ floor(i) (NaN matches NaN, infinities must match exactly).
 * The default floor, 1e-40, covers results below the normal range, where float32 keeps only a few bits.
 */
function assertUlp(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  k: number,
  label: string,
  floor: (i: number) => number = () => 1e-40,
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)) || a === e) continue;
    const tol = Math.max(k * ulp(Math.max(Math.abs(a), Math.abs(e))), floor(i));
    if (!(Math.abs(a - e) <= tol))
      assert.fail(`${label}: index ${i}: got ${a}, expected ${e} (${Math.abs(a - e) / ulp(e)} ulp)`);
  }
}

/** Exact equality, NaN equal to NaN, and −0 distinguished from +0. */
function assertSame(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
    assert.fail(`${label}: index ${i}: got ${a}, expected ${e}`);
  }
}

/** Random values with special ones mixed in (NaN, ±Inf, ±0, equal pairs come from rounding to a grid). */
function mixed(n: number, seed: number, specials = true): Float32Array {
  const x = randn(n, seed, 2);
  const r = rng(seed + 99);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < 0.1)
      x[i] = Math.round(x[i]); // many equal values and zeros between a and b
    else if (specials && u < 0.12) x[i] = [NaN, Infinity, -Infinity, -0, 0][Math.floor(r() * 5)];
  }
  return x;
}

// ---------------------------------------------------------------------------------------------------------
// binary

/** Naive broadcast: out index → multi-index by division, then offsets; values computed in float64. */
function naiveBinary(
  f: (a: number, b: number) => number,
  a: Float32Array,
  as: number[],
  b: Float32Array,
  bs: number[],
  shape: number[],
): Float32Array {
  const total = shape.reduce((p, s) => p * s, 1);
  const out = new Float32Array(total);
  for (let i = 0; i < total; i++) {
    let rem = i;
    let ia = 0;
    let ib = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const k = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
      ia += k * as[d];
      ib += k * bs[d];
    }
    out[i] = f(a[ia], b[ib]);
  }
  return out;
}

const BIN_F: Record<number, (a: number, b: number) => number> = {
  [BinaryOp.add]: (a, b) => a + b,
  [BinaryOp.sub]: (a, b) => a - b,
  [BinaryOp.mul]: (a, b) => a * b,
  [BinaryOp.div]: (a, b) => a / b,
  [BinaryOp.maximum]: (a, b) =>
    Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b < a ? b : a === b ? (Object.is(a, -0) ? b : a) : b,
  [BinaryOp.minimum]: (a, b) =>
    Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b < a ? b : Object.is(a, -0) ? a : b,
};

interface Layout {
  name: string;
  shape: number[];
  as: number[];
  bs: number[];
  alen: number;
  blen: number;
}

function layouts(): Layout[] {
  const L: Layout[] = [];
  for (const n of SIZES) L.push({ name: `contiguous ${n}`, shape: [n], as: [1], bs: [1], alen: n, blen: n });
  for (const n of [1, 9, 33, 100000]) {
    L.push({ name: `b scalar ${n}`, shape: [n], as: [1], bs: [0], alen: n, blen: 1 });
    L.push({ name: `a scalar ${n}`, shape: [n], as: [0], bs: [1], alen: 1, blen: n });
  }
  for (const [r, c] of [
    [3, 5],
    [7, 9],
    [33, 31],
    [300, 1000],
    [1000, 3],
  ]) {
    L.push({ name: `row ${r}x${c}`, shape: [r, c], as: [c, 1], bs: [0, 1], alen: r * c, blen: c });
    L.push({ name: `row on a ${r}x${c}`, shape: [r, c], as: [0, 1], bs: [c, 1], alen: c, blen: r * c });
    L.push({ name: `column ${r}x${c}`, shape: [r, c], as: [c, 1], bs: [1, 0], alen: r * c, blen: r });
    L.push({ name: `a transposed ${r}x${c}`, shape: [r, c], as: [1, r], bs: [c, 1], alen: r * c, blen: r * c });
    L.push({ name: `outer ${r}x${c}`, shape: [r, c], as: [1, 0], bs: [0, 1], alen: r, blen: c });
  }
  L.push({ name: 'middle axis 4x5x6', shape: [4, 5, 6], as: [30, 6, 1], bs: [6, 0, 1], alen: 120, blen: 24 });
  L.push({
    name: 'middle axis 64x33x40',
    shape: [64, 33, 40],
    as: [1320, 40, 1],
    bs: [40, 0, 1],
    alen: 84480,
    blen: 2560,
  });
  L.push({ name: 'rank 0', shape: [], as: [], bs: [], alen: 1, blen: 1 });
  L.push({ name: 'rank 4 mixed', shape: [2, 3, 4, 5], as: [60, 20, 5, 1], bs: [0, 5, 0, 1], alen: 120, blen: 15 });
  L.push({ name: 'rank 4 permuted', shape: [3, 2, 5, 4], as: [20, 60, 1, 5], bs: [0, 1, 0, 0], alen: 120, blen: 2 });
  L.push({ name: 'size-1 dims', shape: [1, 7, 1, 9], as: [0, 9, 5, 1], bs: [3, 1, 0, 0], alen: 63, blen: 7 });
  L.push({ name: 'empty middle', shape: [3, 0, 4], as: [4, 4, 1], bs: [0, 0, 1], alen: 0, blen: 0 });
  L.push({ name: 'strided 2', shape: [50], as: [2], bs: [3], alen: 99, blen: 148 });
  return L;
}

test('binary (js): hand-computed broadcasting', () => {
  const a = Float32Array.of(1, 2, 3, 4, 5, 6); // [2,3]
  const out = new Float32Array(6);
  js.binary(BinaryOp.add, a, I(3, 1), Float32Array.of(10, 20, 30), I(0, 1), out, I(2, 3));
  assert.deepEqual([...out], [11, 22, 33, 14, 25, 36]);
  js.binary(BinaryOp.mul, a, I(3, 1), Float32Array.of(10, 100), I(1, 0), out, I(2, 3));
  assert.deepEqual([...out], [10, 20, 30, 400, 500, 600]);
  js.binary(BinaryOp.sub, Float32Array.of(1), I(0, 0), a, I(1, 3), out, I(3, 2)); // 1 − aᵀ
  assert.deepEqual([...out], [0, -3, -1, -4, -2, -5]);
  const one = new Float32Array(1);
  js.binary(BinaryOp.div, Float32Array.of(1), I(), Float32Array.of(3), I(), one, I());
  assert.equal(one[0], f32(1 / 3));
  const mm = new Float32Array(4);
  js.binary(BinaryOp.maximum, Float32Array.of(-0, 0, NaN, 1), I(1), Float32Array.of(0, -0, 1, NaN), I(1), mm, I(4));
  assert.ok(Object.is(mm[0], 0) && Object.is(mm[1], 0) && Number.isNaN(mm[2]) && Number.isNaN(mm[3]));
  js.binary(BinaryOp.minimum, Float32Array.of(-0, 0, NaN, 1), I(1), Float32Array.of(0, -0, 1, 2), I(1), mm, I(4));
  assert.ok(Object.is(mm[0], -0) && Object.is(mm[1], -0) && Number.isNaN(mm[2]) && mm[3] === 1);
});

test('binary (js) matches naive broadcasting on every layout and op', () => {
  for (const l of layouts()) {
    if (l.alen * 1 > 20000 && l.shape.length < 2) continue; // keep the js-only pass quick
    const a = mixed(l.alen, 1);
    const b = mixed(l.blen, 2);
    const total = l.shape.reduce((p, s) => p * s, 1);
    for (const op of Object.values(BinaryOp)) {
      const out = new Float32Array(total);
      js.binary(op, a, I(...l.as), b, I(...l.bs), out, I(...l.shape));
      assertSame(out, naiveBinary(BIN_F[op], a, l.as, b, l.bs, l.shape), `${l.name} op ${op}`);
    }
  }
});

const addon = nativeAddonOrNull();
const nat = (): ElementwiseKernels => createNativeKernels(addon!);
testBothPaths('binary: native matches js exactly on every layout and op', '_elementwiseForceScalar', (path) => {
  const k = nat();
  for (const l of layouts()) {
    const a = mixed(l.alen, 3);
    const b = mixed(l.blen, 4);
    const total = l.shape.reduce((p, s) => p * s, 1);
    for (const op of Object.values(BinaryOp)) {
      const o1 = new Float32Array(total + 2).fill(42);
      const o2 = new Float32Array(total + 2).fill(42);
      k.binary(op, a, I(...l.as), b, I(...l.bs), o1, I(...l.shape));
      js.binary(op, a, I(...l.as), b, I(...l.bs), o2, I(...l.shape));
      assertSame(o1, o2, `${path} ${l.name} op ${op}`);
    }
  }
  // In place: out aliases a.
  const a = randn(1001, 5);
  const b = randn(1001, 6);
  const ref = new Float32Array(1001);
  js.binary(BinaryOp.mul, a, I(1), b, I(1), ref, I(1001));
  k.binary(BinaryOp.mul, a, I(1), b, I(1), a, I(1001));
  assertSame(a, ref, 'in place');
});

test('binary: native validates strides, lengths and op', { skip: nativeSkipReason() }, () => {
  const k = nat();
  const bad = k as unknown as Record<string, (...a: unknown[]) => void>;
  const a = new Float32Array(6);
  const out = new Float32Array(6);
  assert.throws(() => k.binary(0, a, I(3, -1), a, I(3, 1), out, I(2, 3)), /binary.*aStrides\[1\].*negative/);
  assert.throws(() => k.binary(0, a, I(3, 1), a, I(-3, 1), out, I(2, 3)), /binary.*bStrides\[0\].*negative/);
  assert.throws(() => k.binary(0, a, I(3, 1), a, I(3), out, I(2, 3)), /binary.*same length/);
  assert.throws(
    () => k.binary(0, a, I(4, 1), a, I(3, 1), out, I(2, 3)),
    /binary.*'a' has 6 elements, needs at least 7/,
  );
  assert.throws(() => k.binary(0, a, I(3, 1), new Float32Array(5), I(3, 1), out, I(2, 3)), /binary.*'b'/);
  assert.throws(() => k.binary(0, a, I(0, 0), a, I(0, 0), new Float32Array(5), I(2, 3)), /binary.*'out'/);
  assert.throws(() => k.binary(0, a, I(3, 1), a, I(3, 1), out, I(-2, 3)), /binary.*shape\[0\]/);
  assert.throws(() => k.binary(6 as BinaryOpCode, a, I(3, 1), a, I(3, 1), out, I(2, 3)), /binary.*op code/);
  assert.throws(() => bad.binary(0, a, [3, 1], a, I(3, 1), out, I(2, 3)), /binary.*aStrides.*Int32Array/);
  assert.throws(
    () => bad.binary(0, new Float64Array(6), I(3, 1), a, I(3, 1), out, I(2, 3)),
    /binary.*'a'.*Float32Array/,
  );
  // Stride 0 over a one-element array is fine; an empty shape reads nothing.
  k.binary(0, Float32Array.of(1), I(0, 0), Float32Array.of(2), I(0, 0), out, I(2, 3));
  assert.deepEqual([...out], [3, 3, 3, 3, 3, 3]);
  k.binary(0, new Float32Array(0), I(9, 9), new Float32Array(0), I(9, 9), new Float32Array(0), I(0, 5));
});

// ---------------------------------------------------------------------------------------------------------
// unary and unaryBackward

interface UCase {
  op: number;
  name: string;
  p0: number;
  p1: number;
  /** input generator: values where the op (and its derivative) is smooth, for finite differences */
  domain: (n: number, seed: number) => Float32Array;
  /** float64 forward, for finite differences */
  f: (x: number) => number;
  /** native vs js tolerance in ulp (0 = exact) */
  ulps: number;
  bwUlps: number;
}

const anyX = (n: number, seed: number) => randn(n, seed, 2);
const posX = (n: number, seed: number) => randn(n, seed, 1).map((v) => Math.abs(v) + 0.05);
const awayFromZero = (n: number, seed: number) => randn(n, seed, 2).map((v) => (Math.abs(v) < 0.05 ? v + 0.2 : v));
const sig = (x: number) => 1 / (1 + Math.exp(-x));

const UCASES: UCase[] = [
  { op: UnaryOp.neg, name: 'neg', p0: 0, p1: 0, domain: anyX, f: (x) => -x, ulps: 0, bwUlps: 0 },
  { op: UnaryOp.exp, name: 'exp', p0: 0, p1: 0, domain: anyX, f: Math.exp, ulps: 2, bwUlps: 0 },
  { op: UnaryOp.log, name: 'log', p0: 0, p1: 0, domain: posX, f: Math.log, ulps: 2, bwUlps: 0 },
  { op: UnaryOp.sigmoid, name: 'sigmoid', p0: 0, p1: 0, domain: anyX, f: sig, ulps: 3, bwUlps: 3 },
  { op: UnaryOp.silu, name: 'silu', p0: 0, p1: 0, domain: anyX, f: (x) => x * sig(x), ulps: 4, bwUlps: 8 },
  {
    op: UnaryOp.clamp,
    name: 'clamp',
    p0: -0.7,
    p1: 1.3,
    domain: (n, s) => anyX(n, s).map((v) => (Math.abs(v + 0.7) < 0.01 || Math.abs(v - 1.3) < 0.01 ? v + 0.05 : v)),
    f: (x) => Math.min(Math.max(x, f32(-0.7)), f32(1.3)),
    ulps: 0,
    bwUlps: 0,
  },
  { op: UnaryOp.scale, name: 'scale', p0: 1 / 3, p1: 0, domain: anyX, f: (x) => x * f32(1 / 3), ulps: 0, bwUlps: 0 },
  {
    op: UnaryOp.addScalar,
    name: 'addScalar',
    p0: 0.1,
    p1: 0,
    domain: anyX,
    f: (x) => x + f32(0.1),
    ulps: 0,
    bwUlps: 0,
  },
  { op: UnaryOp.sqrt, name: 'sqrt', p0: 0, p1: 0, domain: posX, f: Math.sqrt, ulps: 0, bwUlps: 0 },
  { op: UnaryOp.rsqrt, name: 'rsqrt', p0: 0, p1: 0, domain: posX, f: (x) => 1 / Math.sqrt(x), ulps: 1, bwUlps: 3 },
  { op: UnaryOp.square, name: 'square', p0: 0, p1: 0, domain: anyX, f: (x) => x * x, ulps: 0, bwUlps: 0 },
  { op: UnaryOp.tanh, name: 'tanh', p0: 0, p1: 0, domain: anyX, f: Math.tanh, ulps: 2, bwUlps: 3 },
  { op: UnaryOp.abs, name: 'abs', p0: 0, p1: 0, domain: awayFromZero, f: Math.abs, ulps: 0, bwUlps: 0 },
  { op: UnaryOp.relu, name: 'relu', p0: 0, p1: 0, domain: awayFromZero, f: (x) => Math.max(x, 0), ulps: 0, bwUlps: 0 },
  {
    op: UnaryOp.powScalar,
    name: 'powScalar',
    p0: 1.7,
    p1: 0,
    domain: posX,
    f: (x) => Math.pow(x, f32(1.7)),
    ulps: 1,
    bwUlps: 1,
  },
];

test('unary op codes: every code has a case here', () => {
  assert.deepEqual(
    UCASES.map((c) => c.op).sort((a, b) => a - b),
    Object.values(UnaryOp).sort((a, b) => a - b),
  );
});

test('unary (js): hand-computed values', () => {
  const x = Float32Array.of(0, 1, -2, 4);
  const run = (op: number, p0 = 0, p1 = 0) => {
    const out = new Float32Array(4);
    js.unary(op as UnaryOpCode, x, out, 4, p0, p1);
    return [...out];
  };
  assert.deepEqual(run(UnaryOp.neg), [-0, -1, 2, -4]);
  assert.deepEqual(run(UnaryOp.exp), [1, f32(Math.E), f32(Math.exp(-2)), f32(Math.exp(4))]);
  assert.deepEqual(run(UnaryOp.sigmoid), [
    0.5,
    f32(0.7310585786300049),
    f32(0.11920292202211755),
    f32(0.9820137900379085),
  ]);
  assert.deepEqual(run(UnaryOp.silu), [0, f32(0.7310585786300049), f32(-0.2384058440442351), f32(3.928055160151634)]);
  assert.deepEqual(run(UnaryOp.clamp, -1, 2), [0, 1, -1, 2]);
  assert.deepEqual(run(UnaryOp.scale, 0.5), [0, 0.5, -1, 2]);
  assert.deepEqual(run(UnaryOp.addScalar, 1), [1, 2, -1, 5]);
  assert.deepEqual(run(UnaryOp.sqrt), [0, 1, NaN, 2]);
  assert.deepEqual(run(UnaryOp.rsqrt), [Infinity, 1, NaN, 0.5]);
  assert.deepEqual(run(UnaryOp.square), [0, 1, 4, 16]);
  assert.deepEqual(run(UnaryOp.tanh), [0, f32(0.7615941559557649), f32(-0.9640275800758169), f32(0.999329299739067)]);
  assert.deepEqual(run(UnaryOp.abs), [0, 1, 2, 4]);
  assert.deepEqual(run(UnaryOp.relu), [0, 1, 0, 4]);
  assert.deepEqual(run(UnaryOp.powScalar, 3), [0, 1, -8, 64]);
  assert.deepEqual(run(UnaryOp.log).slice(0, 2), [-Infinity, 0]);
  // In place.
  const y = Float32Array.of(1, -1);
  js.unary(UnaryOp.neg, y, y, 2, 0, 0);
  assert.deepEqual([...y], [-1, 1]);
  assert.throws(() => js.unary(99 as UnaryOpCode, x, x, 4, 0, 0), /unary: unknown op/);
});

test('unaryBackward (js) matches float64 central differences for every op', () => {
  const n = 400;
  for (const c of UCASES) {
    const x = c.domain(n, c.op + 1);
    const y = new Float32Array(n);
    js.unary(c.op as UnaryOpCode, x, y, n, c.p0, c.p1);
    const gy = randn(n, c.op + 50);
    const gx = new Float32Array(n);
    js.unaryBackward(c.op as UnaryOpCode, x, y, gy, gx, n, c.p0, c.p1);
    for (let i = 0; i < n; i++) {
      const h = 1e-4 * Math.max(1, Math.abs(x[i]));
      const fd = ((c.f(x[i] + h) - c.f(x[i] - h)) / (2 * h)) * gy[i];
      const tol = 1e-4 * (Math.abs(fd) + Math.abs(gy[i])) + 1e-6;
      assert.ok(Math.abs(gx[i] - fd) <= tol, `${c.name} at x=${x[i]}: ${gx[i]} vs finite difference ${fd}`);
    }
  }
});

test('unaryBackward (js): the documented kinks', () => {
  const x = Float32Array.of(-1, f32(-0.7), 0, f32(1.3), 2);
  const gy = new Float32Array(5).fill(3);
  const gx = new Float32Array(5);
  const y = new Float32Array(5);
  js.unaryBackward(UnaryOp.clamp, x, y, gy, gx, 5, -0.7, 1.3);
  assert.deepEqual([...gx], [0, 3, 3, 3, 0]); // inclusive bounds
  js.unaryBackward(UnaryOp.abs, x, y, gy, gx, 5, 0, 0);
  assert.deepEqual([...gx], [-3, -3, 0, 3, 3]); // abs'(0) = 0
  js.unaryBackward(UnaryOp.relu, x, y, gy, gx, 5, 0, 0);
  assert.deepEqual([...gx], [0, 0, 0, 3, 3]); // relu'(0) = 0
  js.unaryBackward(UnaryOp.powScalar, x, y, gy, gx, 5, 0, 0);
  assert.deepEqual([...gx], [0, 0, 0, 0, 0]); // x^0: zero gradient, even at 0
});

/** Domain for native-vs-js forward checks: the smooth domain plus extremes and specials (where defined). */
function wideInputs(c: UCase, n: number, seed: number): Float32Array {
  const x = c.domain(n, seed);
  const r = rng(seed);
  const positive = c.domain === posX;
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < 0.03)
      x[i] = (positive ? 1 : Math.sign(r() - 0.5)) * (50 + 100 * r()); // exp over/underflow lanes
    else if (u < 0.035) x[i] = [NaN, Infinity, positive ? 0 : -Infinity, 0][Math.floor(r() * 4)];
    else if (u < 0.05) x[i] = (positive ? 1 : -1) * 1e-30 * r();
  }
  return x;
}

testBothPaths('unary: native matches js for every op and size', '_elementwiseForceScalar', (path) => {
  const k = nat();
  for (const c of UCASES) {
    for (const n of SIZES) {
      const x = wideInputs(c, n, n + c.op);
      const a = new Float32Array(n + 1).fill(7);
      const b = new Float32Array(n + 1).fill(7);
      k.unary(c.op as UnaryOpCode, x, a, n, c.p0, c.p1);
      js.unary(c.op as UnaryOpCode, x, b, n, c.p0, c.p1);
      const label = `${path} ${c.name} n=${n}`;
      if (c.ulps === 0) assertSame(a, b, label);
      else assertUlp(a, b, c.ulps, label);
    }
  }
  // Extremes of sigmoid/silu/exp exactly at the vector range edges and beyond.
  const edge = Float32Array.of(
    -88.5,
    -87.5,
    -87,
    -86.9,
    87,
    87.5,
    88,
    88.5,
    88.7,
    89,
    -104,
    -150,
    1e-40,
    -1e-40,
    0,
    -0,
  );
  for (const op of [UnaryOp.exp, UnaryOp.sigmoid, UnaryOp.silu]) {
    const a = new Float32Array(edge.length);
    const b = new Float32Array(edge.length);
    k.unary(op, edge, a, edge.length, 0, 0);
    js.unary(op, edge, b, edge.length, 0, 0);
    assertClose(a, b, { atol: 1e-40, rtol: 4e-7, label: `${path} edge op ${op}` });
  }
  // In place.
  const x = randn(1003, 9);
  const ref = new Float32Array(1003);
  js.unary(UnaryOp.silu, x, ref, 1003, 0, 0);
  k.unary(UnaryOp.silu, x, x, 1003, 0, 0);
  assertUlp(x, ref, 4, `${path} silu in place`);
});

testBothPaths('unaryBackward: native matches js for every op and size', '_elementwiseForceScalar', (path) => {
  const k = nat();
  for (const c of UCASES) {
    for (const n of SIZES) {
      const x = c.domain(n, 3 * n + c.op);
      const y = new Float32Array(n);
      js.unary(c.op as UnaryOpCode, x, y, n, c.p0, c.p1);
      const gy = randn(n, n + 17);
      const a = new Float32Array(n + 1).fill(7);
      const b = new Float32Array(n + 1).fill(7);
      k.unaryBackward(c.op as UnaryOpCode, x, y, gy, a, n, c.p0, c.p1);
      js.unaryBackward(c.op as UnaryOpCode, x, y, gy, b, n, c.p0, c.p1);
      const label = `${path} ${c.name}' n=${n}`;
      // silu' = s·(1 + x·(1 − s)) cancels near its root (x ≈ −1.28): there the error scales with |gy|.
      if (c.bwUlps === 0) assertSame(a, b, label);
      else assertUlp(a, b, c.bwUlps, label, (i) => 1e-40 + 2 ** -20 * Math.abs(gy[i]));
    }
  }
});

test('unary / unaryBackward: native validates arguments', { skip: nativeSkipReason() }, () => {
  const k = nat();
  const bad = k as unknown as Record<string, (...a: unknown[]) => void>;
  const x = new Float32Array(4);
  assert.throws(() => k.unary(15 as UnaryOpCode, x, x, 4, 0, 0), /unary.*op code/);
  assert.throws(() => k.unary(0, x, new Float32Array(3), 4, 0, 0), /unary.*'out'/);
  assert.throws(() => k.unary(0, x, x, -1, 0, 0), /unary.*'n'/);
  assert.throws(() => bad.unary(0, x, x, 4, 'a', 0), /unary.*'p0'/);
  assert.throws(() => bad.unary(0, [1, 2, 3, 4], x, 4, 0, 0), /unary.*'x'.*Float32Array/);
  assert.throws(() => k.unaryBackward(0, x, x, new Float32Array(2), x, 4, 0, 0), /unaryBackward.*'gy'/);
  assert.throws(() => k.unaryBackward(-1 as UnaryOpCode, x, x, x, x, 4, 0, 0), /unaryBackward.*'op'/);
  assert.throws(() => bad.unaryBackward(0, x, x, x, new Uint16Array(4), 4, 0, 0), /unaryBackward.*'gx'/);
});

// ---------------------------------------------------------------------------------------------------------
// axpy, swiglu

test('axpy (js): hand-computed', () => {
  const y = Float32Array.of(1, 2, 3);
  js.axpy(Float32Array.of(1, 1, 2), y, 3, 0.5);
  assert.deepEqual([...y], [1.5, 2.5, 4]);
});

testBothPaths('axpy: native matches js within 1 ulp', '_elementwiseForceScalar', (path) => {
  const k = nat();
  for (const n of SIZES) {
    const x = randn(n, n + 1);
    const y1 = randn(n + 1, n + 2);
    const y2 = Float32Array.from(y1);
    k.axpy(x, y1, n, -0.3);
    js.axpy(x, y2, n, -0.3);
    assertClose(y1, y2, { atol: 2 ** -23 * 8, rtol: 2 ** -23, label: `${path} axpy n=${n}` });
    assert.equal(y1[n], y2[n], 'element past n untouched');
  }
});

test('swiglu / swigluBackward (js): float64 formula and finite differences', () => {
  const n = 300;
  const g = randn(n, 1, 3);
  const u = randn(n, 2);
  const go = randn(n, 3);
  const out = new Float32Array(n);
  js.swiglu(g, u, out, n);
  const gg = new Float32Array(n);
  const gu = new Float32Array(n);
  js.swigluBackward(g, u, go, gg, gu, n);
  const silu = (x: number) => x / (1 + Math.exp(-x));
  for (let i = 0; i < n; i++) {
    assert.equal(out[i], f32(silu(g[i]) * u[i]));
    const h = 1e-4;
    const fdG = ((silu(g[i] + h) - silu(g[i] - h)) / (2 * h)) * u[i] * go[i];
    assert.ok(Math.abs(gg[i] - fdG) <= 1e-4 * (1 + Math.abs(fdG)), `gGate ${i}: ${gg[i]} vs ${fdG}`);
    assert.ok(Math.abs(gu[i] - silu(g[i]) * go[i]) <= 1e-6 * (1 + Math.abs(gu[i])), `gUp ${i}`);
  }
});

testBothPaths('swiglu / swigluBackward: native matches js', '_elementwiseForceScalar', (path) => {
  const k = nat();
  for (const n of SIZES) {
    const g = randn(n, n + 1, 4);
    if (n > 20) g.set([-100, 100, -88, 90, NaN, Infinity, -Infinity, 0], 9);
    const u = randn(n, n + 2);
    const go = randn(n, n + 3);
    const o1 = new Float32Array(n);
    const o2 = new Float32Array(n);
    k.swiglu(g, u, o1, n);
    js.swiglu(g, u, o2, n);
    assertUlp(o1, o2, 4, `${path} swiglu n=${n}`);
    const a = [new Float32Array(n), new Float32Array(n)];
    const b = [new Float32Array(n), new Float32Array(n)];
    k.swigluBackward(g, u, go, a[0], a[1], n);
    js.swigluBackward(g, u, go, b[0], b[1], n);
    assertUlp(a[0], b[0], 8, `${path} gGate n=${n}`, (i) => 1e-40 + 2 ** -20 * Math.abs(go[i] * u[i]));
    assertUlp(a[1], b[1], 4, `${path} gUp n=${n}`);
  }
});

test('axpy / swiglu: native validates arguments', { skip: nativeSkipReason() }, () => {
  const k = nat();
  const x = new Float32Array(4);
  assert.throws(() => k.axpy(x, new Float32Array(3), 4, 1), /axpy.*'y'/);
  assert.throws(() => k.axpy(x, x, 4.5, 1), /axpy.*'n'/);
  assert.throws(() => k.swiglu(x, new Float32Array(2), x, 4), /swiglu.*'up'/);
  assert.throws(() => k.swigluBackward(x, x, x, x, new Float32Array(1), 4), /swigluBackward.*'gUp'/);
});

// ---------------------------------------------------------------------------------------------------------
// copyStrided / scatterStrided

interface View {
  name: string;
  xlen: number;
  offset: number;
  strides: number[];
  shape: number[];
  injective: boolean;
}

function views(): View[] {
  const V: View[] = [];
  for (const [r, c] of [
    [1, 1],
    [3, 5],
    [8, 8],
    [33, 31],
    [64, 100],
    [257, 129],
    [1000, 3],
  ]) {
    V.push({ name: `transpose ${r}x${c}`, xlen: r * c, offset: 0, strides: [1, c], shape: [c, r], injective: true });
  }
  V.push({ name: 'contiguous', xlen: 100000, offset: 0, strides: [1], shape: [100000], injective: true });
  V.push({
    name: 'batched transpose 4x33x17',
    xlen: 4 * 33 * 17,
    offset: 0,
    strides: [561, 1, 17],
    shape: [4, 17, 33],
    injective: true,
  });
  V.push({
    name: 'permute [B,T,H,D]→[B,H,T,D]',
    xlen: 2 * 9 * 4 * 16,
    offset: 0,
    strides: [576, 16, 64, 1],
    shape: [2, 4, 9, 16],
    injective: true,
  });
  V.push({
    name: 'permute 0,3,1,2',
    xlen: 3 * 5 * 7 * 9,
    offset: 0,
    strides: [315, 1, 63, 9],
    shape: [3, 9, 5, 7],
    injective: true,
  });
  V.push({
    name: 'slice rows 2..7, cols 3..10 of 10x12',
    xlen: 120,
    offset: 27,
    strides: [12, 1],
    shape: [5, 7],
    injective: true,
  });
  V.push({ name: 'step-2 slice', xlen: 1000, offset: 1, strides: [2], shape: [499], injective: true });
  V.push({ name: 'flip (negative stride)', xlen: 50, offset: 49, strides: [-1], shape: [50], injective: true });
  V.push({ name: 'expand row 6→[40,6]', xlen: 6, offset: 0, strides: [0, 1], shape: [40, 6], injective: false });
  V.push({
    name: 'expand column 7→[7,50000]',
    xlen: 7,
    offset: 0,
    strides: [1, 0],
    shape: [7, 50000],
    injective: false,
  });
  V.push({ name: 'expand middle', xlen: 24, offset: 0, strides: [6, 0, 1], shape: [4, 300, 6], injective: false });
  V.push({ name: 'overlapping windows', xlen: 20, offset: 0, strides: [1, 1], shape: [15, 6], injective: false });
  V.push({ name: 'rank 0 at offset', xlen: 10, offset: 7, strides: [], shape: [], injective: true });
  V.push({ name: 'empty', xlen: 0, offset: 0, strides: [5, 1], shape: [0, 5], injective: true });
  V.push({
    name: 'large permute',
    xlen: 64 * 128 * 24,
    offset: 0,
    strides: [24, 1, 1536],
    shape: [128, 24, 64],
    injective: true,
  });
  return V;
}

/** Naive copy: offsets by division of the output index. */
function naiveCopy(x: Float32Array, v: View): Float32Array {
  const total = v.shape.reduce((p, s) => p * s, 1);
  const out = new Float32Array(total);
  for (let i = 0; i < total; i++) {
    let rem = i;
    let off = v.offset;
    for (let d = v.shape.length - 1; d >= 0; d--) {
      off += (rem % v.shape[d]) * v.strides[d];
      rem = Math.floor(rem / v.shape[d]);
    }
    out[i] = x[off];
  }
  return out;
}

test('copyStrided (js): hand-computed transpose and slice, and naive on every view', () => {
  const x = Float32Array.of(1, 2, 3, 4, 5, 6); // [2,3]
  const out = new Float32Array(6);
  js.copyStrided(x, 0, I(1, 3), out, I(3, 2));
  assert.deepEqual([...out], [1, 4, 2, 5, 3, 6]);
  const s = new Float32Array(2);
  js.copyStrided(x, 1, I(3, 1), s, I(2, 1)); // column 1
  assert.deepEqual([...s], [2, 5]);
  for (const v of views()) {
    if (v.xlen > 20000) continue;
    const x = randn(v.xlen, 3);
    const o = new Float32Array(v.shape.reduce((p, q) => p * q, 1));
    js.copyStrided(x, v.offset, I(...v.strides), o, I(...v.shape));
    assertSame(o, naiveCopy(x, v), v.name);
  }
});

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** ⟨copyStrided(x), y⟩ = ⟨x, scatterStrided(y)⟩ (scatter accumulating into zeros). */
function checkAdjoint(k: ElementwiseKernels, v: View, label: string): void {
  const total = v.shape.reduce((p, s) => p * s, 1);
  const x = randn(v.xlen, 11);
  const y = randn(total, 12);
  const cx = new Float32Array(total);
  k.copyStrided(x, v.offset, I(...v.strides), cx, I(...v.shape));
  const sy = new Float32Array(v.xlen);
  k.scatterStrided(y, sy, v.offset, I(...v.strides), I(...v.shape), true);
  const lhs = dot(cx, y);
  const rhs = dot(x, sy);
  assert.ok(Math.abs(lhs - rhs) <= 1e-5 * (Math.sqrt(total) + Math.abs(lhs)), `${label} ${v.name}: ${lhs} vs ${rhs}`);
}

test('scatterStrided (js) is the adjoint of copyStrided; overwrite mode', () => {
  for (const v of views()) if (v.xlen <= 20000) checkAdjoint(js, v, 'js');
  const out = new Float32Array(6).fill(9);
  js.scatterStrided(Float32Array.of(1, 2, 3), out, 1, I(2), I(3), false);
  assert.deepEqual([...out], [9, 1, 9, 2, 9, 3]);
  js.scatterStrided(Float32Array.of(1, 2, 3, 4), out, 0, I(0, 1), I(2, 2), true);
  assert.deepEqual([...out], [13, 7, 9, 2, 9, 3]);
});

testBothPaths('copyStrided / scatterStrided: native matches js exactly', '_elementwiseForceScalar', (path) => {
  const k = nat();
  for (const v of views()) {
    const total = v.shape.reduce((p, s) => p * s, 1);
    const x = randn(v.xlen, 21);
    const a = new Float32Array(total + 1).fill(5);
    const b = new Float32Array(total + 1).fill(5);
    k.copyStrided(x, v.offset, I(...v.strides), a, I(...v.shape));
    js.copyStrided(x, v.offset, I(...v.strides), b, I(...v.shape));
    assertSame(a, b, `${path} copy ${v.name}`);

    const y = randn(total, 22);
    const sa = randn(v.xlen, 23);
    const sb = Float32Array.from(sa);
    k.scatterStrided(y, sa, v.offset, I(...v.strides), I(...v.shape), true);
    js.scatterStrided(y, sb, v.offset, I(...v.strides), I(...v.shape), true);
    assertSame(sa, sb, `${path} scatter-add ${v.name}`);
    if (v.injective) {
      k.scatterStrided(y, sa, v.offset, I(...v.strides), I(...v.shape), false);
      js.scatterStrided(y, sb, v.offset, I(...v.strides), I(...v.shape), false);
      assertSame(sa, sb, `${path} scatter ${v.name}`);
    }
    checkAdjoint(k, v, `${path} native`);
  }
});

test('copyStrided / scatterStrided: native validates arguments', { skip: nativeSkipReason() }, () => {
  const k = nat();
  const bad = k as unknown as Record<string, (...a: unknown[]) => void>;
  const x = new Float32Array(12);
  const out = new Float32Array(12);
  assert.throws(() => k.copyStrided(x, 1, I(4, 1), out, I(3, 4)), /copyStrided.*offsets \[1, 12\].*length 12/);
  assert.throws(() => k.copyStrided(x, 0, I(-1), out, I(2)), /copyStrided.*offsets \[-1, 0\]/);
  assert.throws(() => k.copyStrided(x, 0, I(4, 1), new Float32Array(11), I(3, 4)), /copyStrided.*'out'/);
  assert.throws(() => k.copyStrided(x, 0, I(4), out, I(3, 4)), /copyStrided.*strides has length 1/);
  assert.throws(() => k.copyStrided(x, 0.5, I(1), out, I(2)), /copyStrided.*'offset'/);
  assert.throws(() => k.copyStrided(x, 0, I(1), out, I(-2)), /copyStrided.*shape\[0\]/);
  assert.throws(() => bad.copyStrided(x, 0, [1], out, I(2)), /copyStrided.*'strides'.*Int32Array/);
  assert.throws(() => k.scatterStrided(x, out, 0, I(0, 1), I(2, 4), false), /scatterStrided.*strides\[0\] is 0/);
  assert.throws(() => k.scatterStrided(new Float32Array(7), out, 0, I(4, 1), I(2, 4), true), /scatterStrided.*'x'/);
  assert.throws(
    () => k.scatterStrided(x, new Float32Array(10), 0, I(4, 1), I(3, 4), true),
    /scatterStrided.*outside 'out'/,
  );
  assert.throws(() => bad.scatterStrided(x, out, 0, I(1), I(2), 1), /scatterStrided.*'accumulate'/);
  k.scatterStrided(x, out, 0, I(0, 1), I(1, 4), false); // a stride over a size-1 axis is harmless
  k.copyStrided(new Float32Array(0), 5, I(1), new Float32Array(0), I(0)); // empty: nothing is read
});
