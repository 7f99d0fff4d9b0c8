// RoPE kernels: the js reference against the textbook rotation and hand-computed float32 frequencies,
// its inverse, position offsets, and native against js (same float32 roundings, so agreement is exact
// up to sub-ulp differences of the double pow/cos/sin libraries).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsRope } from '../../../src/tensor/kernels/js/rope.ts';
import { ropeInvFreq } from '../../../src/tensor/ops/rope-freq.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import { assertClose, maxAbsDiff, nativeAddonOrNull, nativeSkipReason, randInts, randn } from '../../helpers.ts';

/** Textbook half-split RoPE in float64: pair (i, i + dim/2) rotated by pos·theta^(−2i/dim). */
function naiveRope(
  x: Float32Array,
  positions: Int32Array,
  batch: number,
  seq: number,
  heads: number,
  dim: number,
  theta: number,
): Float64Array {
  const half = dim / 2;
  const out = new Float64Array(x.length);
  for (let row = 0; row < batch * seq; row++)
    for (let h = 0; h < heads; h++) {
      const base = (row * heads + h) * dim;
      for (let i = 0; i < half; i++) {
        const angle = positions[row] * Math.pow(theta, (-2 * i) / dim);
        const [a, b] = [x[base + i], x[base + half + i]];
        out[base + i] = a * Math.cos(angle) - b * Math.sin(angle);
        out[base + half + i] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
  return out;
}

function seqPositions(batch: number, seq: number, offsets: number[]): Int32Array {
  const p = new Int32Array(batch * seq);
  for (let b = 0; b < batch; b++) for (let t = 0; t < seq; t++) p[b * seq + t] = offsets[b] + t;
  return p;
}

test('ropeInvFreq rounds like torch float32: hand-computed values', () => {
  // theta = 10000, dim = 8: exponents 0, 1/4, 1/2, 3/4 give powers 1, 10, 100, 1000 exactly.
  assert.deepEqual(Array.from(ropeInvFreq(10000, 8)), [1, Math.fround(0.1), Math.fround(0.01), Math.fround(0.001)]);
  // theta = 500000, dim = 6: exponent 2/6 is rounded to float32 before the pow.
  const e = Math.fround(2 / 6);
  assert.notEqual(e, 2 / 6);
  assert.equal(ropeInvFreq(500000, 6)[1], Math.fround(1 / Math.fround(Math.pow(500000, e))));
  for (const x of ropeInvFreq(500000, 128)) assert.equal(x, Math.fround(x));
});

test('js rope matches the textbook rotation', () => {
  for (const [batch, seq, heads, dim, theta] of [
    [1, 7, 3, 8, 10000],
    [2, 5, 2, 2, 10000],
    [2, 9, 1, 64, 500000],
    [1, 3, 4, 18, 10000],
  ]) {
    const x = randn(batch * seq * heads * dim, dim + seq);
    const positions = randInts(batch * seq, 0, 600, seq);
    const out = new Float32Array(x.length);
    jsRope.rope(x, out, positions, batch, seq, heads, dim, ropeInvFreq(theta, dim), false);
    // float32 angles of positions < 600 are off by ≤ 600·2^−24 rad, the rest is float32 rounding.
    assertClose(out, naiveRope(x, positions, batch, seq, heads, dim, theta), {
      atol: 2e-4,
      rtol: 1e-4,
      label: `D${dim}`,
    });
  }
});

test('js rope: position 0 is the identity, inverse undoes it, and in place works', () => {
  const [batch, seq, heads, dim] = [2, 6, 3, 16];
  const x = randn(batch * seq * heads * dim, 5);
  const out = new Float32Array(x.length);
  jsRope.rope(x, out, new Int32Array(batch * seq), batch, seq, heads, dim, ropeInvFreq(10000, dim), false);
  assert.deepEqual(out, x);
  const positions = randInts(batch * seq, 0, 4096, 6);
  jsRope.rope(x, out, positions, batch, seq, heads, dim, ropeInvFreq(500000, dim), false);
  assert.ok(maxAbsDiff(out, x) > 0.1);
  const back = new Float32Array(x.length);
  jsRope.rope(out, back, positions, batch, seq, heads, dim, ropeInvFreq(500000, dim), true);
  assertClose(back, x, { atol: 2e-6, rtol: 1e-6, label: 'inverse(rope(x))' });
  const inPlace = x.slice();
  jsRope.rope(inPlace, inPlace, positions, batch, seq, heads, dim, ropeInvFreq(500000, dim), false);
  assert.deepEqual(inPlace, out);
});

test('js rope: relative positions — ⟨rope(q, m), rope(k, n)⟩ depends only on m − n', () => {
  const dim = 32;
  const q = randn(dim, 1);
  const k = randn(dim, 2);
  const dot = (m: number, n: number) => {
    const a = new Float32Array(dim);
    const b = new Float32Array(dim);
    jsRope.rope(q, a, Int32Array.of(m), 1, 1, 1, dim, ropeInvFreq(10000, dim), false);
    jsRope.rope(k, b, Int32Array.of(n), 1, 1, 1, dim, ropeInvFreq(10000, dim), false);
    return a.reduce((s, v, i) => s + v * b[i], 0);
  };
  const ref = dot(7, 3);
  for (const shift of [1, 10, 100]) assert.ok(Math.abs(dot(7 + shift, 3 + shift) - ref) < 1e-4, `shift ${shift}`);
  assert.ok(Math.abs(dot(8, 3) - ref) > 1e-3);
});

test('js rope: an offset sequence equals the matching rows of a longer one', () => {
  const [heads, dim, offset, seq] = [2, 8, 11, 4];
  const full = randn((offset + seq) * heads * dim, 9);
  const fullOut = new Float32Array(full.length);
  jsRope.rope(
    full,
    fullOut,
    seqPositions(1, offset + seq, [0]),
    1,
    offset + seq,
    heads,
    dim,
    ropeInvFreq(10000, dim),
    false,
  );
  const tail = full.slice(offset * heads * dim);
  const tailOut = new Float32Array(tail.length);
  jsRope.rope(tail, tailOut, seqPositions(1, seq, [offset]), 1, seq, heads, dim, ropeInvFreq(10000, dim), false);
  assert.deepEqual(tailOut, fullOut.subarray(offset * heads * dim));
});

test('js rope validates its arguments', () => {
  const x = new Float32Array(12);
  const inv = ropeInvFreq(10000, 6);
  assert.throws(() => jsRope.rope(x, x, new Int32Array(2), 1, 2, 2, 3, inv, false), /rope.*even/);
  assert.throws(() => jsRope.rope(x, x, new Int32Array(1), 1, 2, 1, 6, inv, false), /rope.*positions/);
  assert.throws(() => jsRope.rope(x, x, new Int32Array(2), 1, 2, 1, 6, new Float32Array(2), false), /rope.*invFreq/);
  assert.throws(
    () => jsRope.rope(x, x, new Int32Array(2), 1, 2, 1, 6, Float32Array.of(1, NaN, 1), false),
    /rope.*invFreq\[1\]/,
  );
  assert.throws(() => ropeInvFreq(0, 6), /theta/);
});

// ---------------------------------------------------------------------------------------------------------

const addon = nativeAddonOrNull();
const native = addon ? createNativeKernels(addon) : null;
const skip = nativeSkipReason();

test('native rope matches js on many shapes, forward and inverse', { skip }, () => {
  const shapes: [number, number, number, number, number][] = [
    [1, 1, 1, 2, 10000],
    [1, 3, 1, 6, 10000],
    [2, 5, 3, 16, 500000],
    [1, 7, 2, 18, 10000],
    [3, 4, 5, 34, 10000],
    [2, 33, 4, 64, 500000],
    [1, 17, 8, 128, 500000],
    [1, 300, 16, 128, 10000], // enough rows for both threads
    [0, 4, 2, 8, 10000],
    [2, 0, 2, 8, 10000],
    [2, 3, 0, 8, 10000],
    [2, 3, 2, 0, 10000],
  ];
  shapes.forEach(([batch, seq, heads, dim, theta], n) => {
    const x = randn(batch * seq * heads * dim, 40 + n);
    const positions = seqPositions(
      batch,
      seq,
      Array.from({ length: batch }, (_, b) => 37 * b),
    );
    for (const inverse of [false, true]) {
      const want = new Float32Array(x.length);
      const got = new Float32Array(x.length).fill(NaN);
      jsRope.rope(x, want, positions, batch, seq, heads, dim, ropeInvFreq(theta, dim), inverse);
      native!.rope(x, got, positions, batch, seq, heads, dim, ropeInvFreq(theta, dim), inverse);
      assertClose(got, want, { atol: 1e-6, rtol: 1e-6, label: `B${batch} T${seq} H${heads} D${dim} inv ${inverse}` });
    }
  });
});

test('native rope: arbitrary, large and negative positions (past the cached table) match js', { skip }, () => {
  const [batch, seq, heads, dim] = [2, 6, 2, 8];
  const x = randn(batch * seq * heads * dim, 3);
  // The table caches positions below min(65536, 16 MiB / (4·dim)); the others are computed on the fly.
  const positions = Int32Array.from([0, 1, 5, 4095, 65535, 65536, 600000, 2 ** 24, -1, -300, 77, 3]);
  for (const theta of [10000, 500000]) {
    const want = new Float32Array(x.length);
    const got = new Float32Array(x.length);
    jsRope.rope(x, want, positions, batch, seq, heads, dim, ropeInvFreq(theta, dim), false);
    native!.rope(x, got, positions, batch, seq, heads, dim, ropeInvFreq(theta, dim), false);
    assertClose(got, want, { atol: 1e-6, rtol: 1e-6, label: `theta ${theta}` });
  }
});

test('native rope: position 0 is the identity, inverse undoes it, in place works', { skip }, () => {
  const [batch, seq, heads, dim] = [2, 9, 3, 40];
  const x = randn(batch * seq * heads * dim, 8);
  const out = new Float32Array(x.length);
  native!.rope(x, out, new Int32Array(batch * seq), batch, seq, heads, dim, ropeInvFreq(500000, dim), false);
  assert.deepEqual(out, x);
  const positions = randInts(batch * seq, 0, 5000, 2);
  native!.rope(x, out, positions, batch, seq, heads, dim, ropeInvFreq(500000, dim), false);
  const inPlace = x.slice();
  native!.rope(inPlace, inPlace, positions, batch, seq, heads, dim, ropeInvFreq(500000, dim), false);
  assert.deepEqual(inPlace, out);
  native!.rope(inPlace, inPlace, positions, batch, seq, heads, dim, ropeInvFreq(500000, dim), true);
  assertClose(inPlace, x, { atol: 2e-6, rtol: 1e-6, label: 'inverse(rope(x))' });
});

test('native rope validates every argument', { skip }, () => {
  const x = new Float32Array(16);
  const p = new Int32Array(2);
  const call = (over: Partial<Record<string, unknown>>) => () => {
    const a = {
      x,
      out: x,
      positions: p,
      batch: 1,
      seq: 2,
      heads: 2,
      dim: 4,
      invFreq: ropeInvFreq(10000, 4),
      inverse: false,
      ...over,
    };
    (addon!.rope as (...args: unknown[]) => void)(
      a.x,
      a.out,
      a.positions,
      a.batch,
      a.seq,
      a.heads,
      a.dim,
      a.invFreq,
      a.inverse,
    );
  };
  assert.doesNotThrow(call({}));
  assert.throws(call({ x: new Float64Array(16) }), /rope.*'x'.*Float32Array/);
  assert.throws(call({ out: new Float32Array(15) }), /rope.*'out'/);
  assert.throws(call({ positions: new Int32Array(1) }), /rope.*'positions'/);
  assert.throws(call({ positions: new Float32Array(2) }), /rope.*'positions'.*Int32Array/);
  assert.throws(call({ batch: -1 }), /rope.*batch/);
  assert.throws(call({ seq: 0.5 }), /rope.*seq/);
  assert.throws(call({ heads: '2' }), /rope.*heads/);
  assert.throws(call({ dim: 3 }), /rope.*even/);
  assert.throws(call({ invFreq: new Float32Array(1) }), /rope.*'invFreq'/);
  assert.throws(call({ invFreq: new Float64Array(2) }), /rope.*'invFreq'.*Float32Array/);
  assert.throws(call({ invFreq: Float32Array.of(1, Infinity) }), /rope.*invFreq\[1\]/);
  assert.throws(call({ inverse: 1 }), /rope.*inverse/);
  assert.throws(call({ batch: 2 ** 40, seq: 2 ** 40 }), /rope/);
  assert.throws(() => (addon!.rope as (...args: unknown[]) => void)(x, x), /rope.*arguments/);
});
