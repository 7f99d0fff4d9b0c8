// Attention kernels: the js reference against a naive float64 implementation (full masked score matrix,
// analytic backward, finite differences), native against js on many shapes (AVX2 and scalar paths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsAttention } from '../../../src/tensor/kernels/js/attention.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import type { AttentionKernels, AttentionShape } from '../../../src/tensor/kernels/types.ts';
import { assertClose, nativeAddonOrNull, nativeSkipReason, randn } from '../../helpers.ts';
import { withScalarPaths } from './kernel-test-utils.ts';

interface Case extends Omit<AttentionShape, 'scale'> {
  kvLens?: number[];
}

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  gOut: Float32Array;
  kvLens: Int32Array | null;
  scale: number;
}

function makeInputs(c: Case, seed: number): Inputs {
  const nq = c.batch * c.tq * c.hq * c.d;
  const nk = c.batch * c.tk * c.hkv * c.d;
  return {
    q: randn(nq, seed),
    k: randn(nk, seed + 1),
    v: randn(nk, seed + 2),
    gOut: randn(nq, seed + 3),
    kvLens: c.kvLens ? Int32Array.from(c.kvLens) : null,
    scale: 1 / Math.sqrt(Math.max(c.d, 1)),
  };
}

function label(c: Case): string {
  return `B${c.batch} Tq${c.tq} Tk${c.tk} Hq${c.hq} Hkv${c.hkv} D${c.d} kvLens ${c.kvLens ? `[${c.kvLens}]` : 'null'}`;
}

interface Result {
  out: Float32Array;
  lse: Float32Array;
  gq: Float32Array;
  gk: Float32Array;
  gv: Float32Array;
}

/** Forward then backward through a backend; outputs start as NaN so anything left unwritten shows. */
function run(kernels: AttentionKernels, c: Case, x: Inputs, backward = true): Result {
  const nq = c.batch * c.tq * c.hq * c.d;
  const nk = c.batch * c.tk * c.hkv * c.d;
  const r: Result = {
    out: new Float32Array(nq).fill(NaN),
    lse: new Float32Array(c.batch * c.hq * c.tq).fill(NaN),
    gq: new Float32Array(nq).fill(NaN),
    gk: new Float32Array(nk).fill(NaN),
    gv: new Float32Array(nk).fill(NaN),
  };
  const { batch, tq, tk, hq, hkv, d } = c;
  const shape = { batch, tq, tk, hq, hkv, d, scale: x.scale };
  kernels.attention(x.q, x.k, x.v, r.out, r.lse, x.kvLens, shape);
  if (backward) kernels.attentionBackward(x.q, x.k, x.v, r.out, r.lse, x.gOut, r.gq, r.gk, r.gv, x.kvLens, shape);
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// Naive float64 attention: per (b, h) the whole masked Tq×Tk score matrix, a row softmax, and the textbook
// backward through matrices (dP = gOut·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), gQ = dS·K·scale, ...).

interface Naive {
  out: Float64Array;
  lse: Float64Array;
  gq: Float64Array;
  gk: Float64Array;
  gv: Float64Array;
}

type Arr = ArrayLike<number>;

function naive(c: Case, q: Arr, k: Arr, v: Arr, gOut: Arr, kvLens: Arr | null, scale: number): Naive {
  const { batch, tq, tk, hq, hkv, d } = c;
  const group = hq / hkv;
  const res: Naive = {
    out: new Float64Array(batch * tq * hq * d),
    lse: new Float64Array(batch * hq * tq),
    gq: new Float64Array(batch * tq * hq * d),
    gk: new Float64Array(batch * tk * hkv * d),
    gv: new Float64Array(batch * tk * hkv * d),
  };
  const qi = (b: number, i: number, h: number) => ((b * tq + i) * hq + h) * d;
  const ki = (b: number, j: number, h: number) => ((b * tk + j) * hkv + h) * d;
  for (let b = 0; b < batch; b++) {
    const len = kvLens ? kvLens[b] : tk;
    for (let h = 0; h < hq; h++) {
      const kh = Math.floor(h / group);
      const P: number[][] = [];
      for (let i = 0; i < tq; i++) {
        const pos = len - tq + i;
        const s: number[] = [];
        for (let j = 0; j < tk; j++) {
          let dot = 0;
          for (let x = 0; x < d; x++) dot += q[qi(b, i, h) + x] * k[ki(b, j, kh) + x];
          s.push(j <= pos && j < len ? dot * scale : -Infinity);
        }
        const max = Math.max(...s);
        if (max === -Infinity) {
          P.push(s.map(() => 0));
          res.lse[(b * hq + h) * tq + i] = -Infinity;
          continue;
        }
        const e = s.map((x) => Math.exp(x - max));
        const sum = e.reduce((a, x) => a + x, 0);
        P.push(e.map((x) => x / sum));
        res.lse[(b * hq + h) * tq + i] = max + Math.log(sum);
      }
      for (let i = 0; i < tq; i++) {
        // out = P·V
        for (let j = 0; j < tk; j++)
          for (let x = 0; x < d; x++) res.out[qi(b, i, h) + x] += P[i][j] * v[ki(b, j, kh) + x];
        const dP: number[] = [];
        for (let j = 0; j < tk; j++) {
          let dot = 0;
          for (let x = 0; x < d; x++) dot += gOut[qi(b, i, h) + x] * v[ki(b, j, kh) + x];
          dP.push(dot);
        }
        let rowTerm = 0;
        for (let j = 0; j < tk; j++) rowTerm += dP[j] * P[i][j];
        for (let j = 0; j < tk; j++) {
          const dS = P[i][j] * (dP[j] - rowTerm) * scale;
          for (let x = 0; x < d; x++) {
            res.gv[ki(b, j, kh) + x] += P[i][j] * gOut[qi(b, i, h) + x];
            res.gq[qi(b, i, h) + x] += dS * k[ki(b, j, kh) + x];
            res.gk[ki(b, j, kh) + x] += dS * q[qi(b, i, h) + x];
          }
        }
      }
    }
  }
  return res;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Closeness with the absolute tolerance scaled to the largest expected magnitude. */
function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, lbl: string): void {
  assertClose(actual, expected, { atol: tol * Math.max(1, maxAbs(expected)), rtol: tol, label: lbl });
}

const naiveCases: Case[] = [
  { batch: 1, tq: 5, tk: 5, hq: 1, hkv: 1, d: 8 },
  { batch: 2, tq: 6, tk: 6, hq: 2, hkv: 2, d: 3 },
  { batch: 1, tq: 7, tk: 7, hq: 4, hkv: 2, d: 17 }, // GQA ratio 2
  { batch: 2, tq: 4, tk: 9, hq: 8, hkv: 2, d: 1, kvLens: [9, 6] }, // GQA ratio 4, Tq < kvLen
  { batch: 1, tq: 6, tk: 6, hq: 3, hkv: 1, d: 8 }, // MQA
  { batch: 2, tq: 1, tk: 10, hq: 4, hkv: 2, d: 8, kvLens: [10, 3] }, // decode
  { batch: 3, tq: 3, tk: 8, hq: 2, hkv: 1, d: 3, kvLens: [8, 1, 0] }, // Tq > kvLen: negative positions
  { batch: 1, tq: 4, tk: 12, hq: 2, hkv: 2, d: 5, kvLens: [2] },
];

test('js attention matches the naive float64 masked-softmax attention', () => {
  naiveCases.forEach((c, n) => {
    const x = makeInputs(c, 100 + n);
    const r = run(jsAttention, c, x);
    const ref = naive(c, x.q, x.k, x.v, x.gOut, x.kvLens, x.scale);
    assertNear(r.out, ref.out, 1e-6, `out ${label(c)}`);
    assertNear(r.lse, ref.lse, 1e-6, `lse ${label(c)}`);
    assertNear(r.gq, ref.gq, 1e-5, `gq ${label(c)}`);
    assertNear(r.gk, ref.gk, 1e-5, `gk ${label(c)}`);
    assertNear(r.gv, ref.gv, 1e-5, `gv ${label(c)}`);
  });
});

test('js attention: rows without visible keys give zeros and lse = -Infinity', () => {
  const c: Case = { batch: 2, tq: 3, tk: 4, hq: 2, hkv: 1, d: 2, kvLens: [1, 0] };
  const x = makeInputs(c, 7);
  const r = run(jsAttention, c, x);
  // Sequence 0 (kvLen 1): queries 0, 1 sit at positions −2, −1; query 2 sees key 0 only, so out = v[0].
  for (let h = 0; h < 2; h++) {
    assert.equal(r.lse[h * 3 + 0], -Infinity);
    assert.equal(r.lse[h * 3 + 1], -Infinity);
    const dot = (x.q[(2 * 2 + h) * 2] * x.k[0] + x.q[(2 * 2 + h) * 2 + 1] * x.k[1]) * x.scale;
    assert.ok(Math.abs(r.lse[h * 3 + 2] - dot) < 1e-6);
    assertClose(r.out.subarray((2 * 2 + h) * 2, (2 * 2 + h) * 2 + 2), x.v.subarray(0, 2), { label: 'out = v0' });
  }
  // Sequence 1 (kvLen 0): everything empty.
  for (let i = 0; i < 6; i++) assert.equal(r.lse[6 + i], -Infinity);
  assert.ok(r.out.subarray(12).every((y) => y === 0));
  assert.ok(r.gq.subarray(12).every((y) => y === 0));
  assert.ok(r.gk.subarray(8).every((y) => y === 0));
  assert.ok(r.gv.subarray(8).every((y) => y === 0));
});

test('js attentionBackward matches float64 finite differences of the naive forward', () => {
  const cases: Case[] = [
    { batch: 1, tq: 3, tk: 4, hq: 2, hkv: 1, d: 3, kvLens: [4] },
    { batch: 2, tq: 3, tk: 3, hq: 2, hkv: 2, d: 2, kvLens: [3, 2] },
  ];
  cases.forEach((c, n) => {
    const x = makeInputs(c, 300 + n);
    const w = x.gOut; // loss = Σ w ⊙ out, so ∂loss/∂out = w
    const r = run(jsAttention, c, x);
    const loss = (q: Arr, k: Arr, v: Arr) => {
      const o = naive(c, q, k, v, w, x.kvLens, x.scale).out;
      let s = 0;
      for (let i = 0; i < o.length; i++) s += o[i] * w[i];
      return s;
    };
    const fd = (which: 0 | 1 | 2): Float64Array => {
      const base = [Float64Array.from(x.q), Float64Array.from(x.k), Float64Array.from(x.v)];
      const arr = base[which];
      const grad = new Float64Array(arr.length);
      const eps = 1e-6;
      for (let i = 0; i < arr.length; i++) {
        const keep = arr[i];
        arr[i] = keep + eps;
        const up = loss(base[0], base[1], base[2]);
        arr[i] = keep - eps;
        const down = loss(base[0], base[1], base[2]);
        arr[i] = keep;
        grad[i] = (up - down) / (2 * eps);
      }
      return grad;
    };
    assertNear(r.gq, fd(0), 2e-5, `gq ${label(c)}`);
    assertNear(r.gk, fd(1), 2e-5, `gk ${label(c)}`);
    assertNear(r.gv, fd(2), 2e-5, `gv ${label(c)}`);
  });
});

test('js attention validates its arguments', () => {
  const c: Case = { batch: 1, tq: 2, tk: 2, hq: 2, hkv: 1, d: 2 };
  const x = makeInputs(c, 1);
  const out = new Float32Array(8);
  const lse = new Float32Array(4);
  const shape = { batch: 1, tq: 2, tk: 2, hq: 2, hkv: 1, d: 2, scale: 1 };
  assert.throws(() => jsAttention.attention(x.q, x.k, x.v, out, lse, Int32Array.of(3), shape), /attention.*kvLens/);
  assert.throws(
    () => jsAttention.attention(x.q, x.k, x.v, out, lse, null, { ...shape, hq: 3, hkv: 2 }),
    /attention.*multiple/,
  );
  assert.throws(() => jsAttention.attention(x.q, x.k, x.v, out.subarray(1), lse, null, shape), /attention.*out/);
});

// ---------------------------------------------------------------------------------------------------------
// Native against js.

const addon = nativeAddonOrNull();
const native = addon ? createNativeKernels(addon) : null;
const skip = nativeSkipReason();

const nativeCases: Case[] = [
  { batch: 1, tq: 1, tk: 1, hq: 1, hkv: 1, d: 1 },
  { batch: 1, tq: 5, tk: 5, hq: 1, hkv: 1, d: 1 },
  { batch: 2, tq: 7, tk: 7, hq: 3, hkv: 3, d: 3 },
  { batch: 1, tq: 9, tk: 9, hq: 2, hkv: 1, d: 8 },
  { batch: 2, tq: 13, tk: 20, hq: 4, hkv: 2, d: 17, kvLens: [20, 15] },
  { batch: 1, tq: 70, tk: 70, hq: 2, hkv: 2, d: 16 }, // more than one key tile and row block
  { batch: 1, tq: 67, tk: 131, hq: 8, hkv: 2, d: 24, kvLens: [131] }, // GQA 4, ragged tiles
  { batch: 2, tq: 40, tk: 100, hq: 4, hkv: 1, d: 33, kvLens: [100, 57] }, // MQA
  { batch: 3, tq: 5, tk: 9, hq: 2, hkv: 1, d: 8, kvLens: [9, 3, 0] }, // negative positions, empty sequence
  { batch: 2, tq: 1, tk: 300, hq: 8, hkv: 8, d: 64, kvLens: [300, 129] }, // decode
  { batch: 1, tq: 1, tk: 200, hq: 8, hkv: 1, d: 40, kvLens: [137] }, // MQA decode
  { batch: 1, tq: 4, tk: 100, hq: 6, hkv: 3, d: 12, kvLens: [70] }, // speculative-decode-like chunk
  { batch: 1, tq: 150, tk: 150, hq: 4, hkv: 1, d: 32 }, // one group, threads split its key tiles
  { batch: 1, tq: 130, tk: 130, hq: 3, hkv: 3, d: 64 }, // three groups on two threads
  { batch: 2, tq: 96, tk: 96, hq: 4, hkv: 4, d: 128 }, // many groups
  { batch: 0, tq: 4, tk: 4, hq: 2, hkv: 1, d: 8 },
  { batch: 2, tq: 3, tk: 0, hq: 2, hkv: 2, d: 4 },
  { batch: 2, tq: 0, tk: 5, hq: 2, hkv: 1, d: 4 },
  { batch: 1, tq: 3, tk: 3, hq: 2, hkv: 1, d: 0 },
];

function compareNativeJs(c: Case, seed: number, tol: number): void {
  const x = makeInputs(c, seed);
  const want = run(jsAttention, c, x);
  const got = run(native!, c, x);
  assertNear(got.out, want.out, tol, `out ${label(c)}`);
  assertNear(got.lse, want.lse, tol, `lse ${label(c)}`);
  assertNear(got.gq, want.gq, 4 * tol, `gq ${label(c)}`);
  assertNear(got.gk, want.gk, 4 * tol, `gk ${label(c)}`);
  assertNear(got.gv, want.gv, 4 * tol, `gv ${label(c)}`);
}

test('native attention matches js (AVX2 path)', { skip }, () => {
  nativeCases.forEach((c, n) => compareNativeJs(c, 500 + n, 2e-5));
});

test('native attention matches js (scalar fallback path)', { skip }, () => {
  withScalarPaths('_attentionForceScalar', () => {
    nativeCases.filter((c) => c.tq * c.tk * c.hq * c.d < 200000).forEach((c, n) => compareNativeJs(c, 700 + n, 2e-5));
  });
});

test('native attention is deterministic across threads and repeated calls', { skip }, () => {
  const c: Case = { batch: 1, tq: 150, tk: 150, hq: 4, hkv: 1, d: 32 };
  const x = makeInputs(c, 42);
  const a = run(native!, c, x);
  const b = run(native!, c, x);
  for (const key of ['out', 'lse', 'gk', 'gv'] as const) assert.deepEqual(a[key], b[key], key);
  // gq sums per-thread partial buffers in thread order: same order every call.
  assertClose(a.gq, b.gq, { atol: 1e-6, label: 'gq' });
});

test('native decode over a KV cache agrees with the full-sequence pass and ignores keys past kvLens', { skip }, () => {
  const t = 37;
  const cap = 64;
  const c: Case = { batch: 1, tq: t, tk: t, hq: 4, hkv: 2, d: 16 };
  const x = makeInputs(c, 9);
  const full = run(native!, c, x, false);
  // Cache with capacity 64 holding the same keys; the unused rows are NaN and must never be read.
  const kc = new Float32Array(cap * 2 * 16).fill(NaN);
  const vc = new Float32Array(cap * 2 * 16).fill(NaN);
  kc.set(x.k);
  vc.set(x.v);
  for (const tq of [1, 3]) {
    const dc: Case = { batch: 1, tq, tk: cap, hq: 4, hkv: 2, d: 16, kvLens: [t] };
    const dx: Inputs = {
      ...x,
      q: x.q.slice((t - tq) * 4 * 16),
      k: kc,
      v: vc,
      gOut: randn(tq * 4 * 16, 3),
      kvLens: Int32Array.of(t),
    };
    const r = run(native!, dc, dx);
    assertNear(r.out, full.out.subarray((t - tq) * 4 * 16), 1e-5, `decode out tq=${tq}`);
    for (let h = 0; h < 4; h++)
      for (let i = 0; i < tq; i++) {
        assert.ok(Math.abs(r.lse[h * tq + i] - full.lse[h * t + t - tq + i]) < 1e-5, 'decode lse');
      }
    assert.ok(r.gq.every(Number.isFinite) && r.gk.every(Number.isFinite), 'NaN cache rows leaked');
    assert.ok(
      r.gk.subarray(t * 2 * 16).every((y) => y === 0),
      'gk rows past kvLens are zero',
    );
    assert.ok(
      r.gv.subarray(t * 2 * 16).every((y) => y === 0),
      'gv rows past kvLens are zero',
    );
  }
});

test('native attention validates every argument', { skip }, () => {
  const n = native!;
  const q = new Float32Array(8);
  const k = new Float32Array(4);
  const v = new Float32Array(4);
  const out = new Float32Array(8);
  const lse = new Float32Array(4);
  const g = new Float32Array(8);
  const fwd = (over: Partial<Record<string, unknown>>) => () => {
    const a = {
      q,
      k,
      v,
      out,
      lse,
      kvLens: null as unknown,
      batch: 1,
      tq: 2,
      tk: 2,
      hq: 2,
      hkv: 1,
      d: 2,
      scale: 1,
      ...over,
    };
    const shape = { batch: a.batch, tq: a.tq, tk: a.tk, hq: a.hq, hkv: a.hkv, d: a.d, scale: a.scale };
    (n.attention as (...args: unknown[]) => void)(a.q, a.k, a.v, a.out, a.lse, a.kvLens, shape);
  };
  assert.doesNotThrow(fwd({}));
  assert.throws(fwd({ q: new Float64Array(8) }), /attention.*'q'.*Float32Array/);
  assert.throws(fwd({ k: new Float32Array(3) }), /attention.*'k'/);
  assert.throws(fwd({ v: [1, 2, 3, 4] }), /attention.*'v'/);
  assert.throws(fwd({ out: new Float32Array(7) }), /attention.*'out'/);
  assert.throws(fwd({ lse: new Float32Array(3) }), /attention.*'lse'/);
  assert.throws(fwd({ batch: -1 }), /attention.*batch/);
  assert.throws(fwd({ d: 1.5 }), /attention.*'shape.d'/);
  assert.throws(fwd({ tq: '2' }), /attention.*tq/);
  assert.throws(fwd({ hq: 3, hkv: 2 }), /attention.*multiple/);
  assert.throws(fwd({ hkv: 0 }), /attention.*multiple/);
  assert.throws(fwd({ scale: null }), /attention.*scale/);
  assert.throws(fwd({ kvLens: new Int32Array(0) }), /attention.*kvLens/);
  assert.throws(fwd({ kvLens: Int32Array.of(3) }), /attention.*kvLens\[0\] = 3/);
  assert.throws(fwd({ kvLens: Int32Array.of(-1) }), /attention.*kvLens\[0\] = -1/);
  assert.throws(fwd({ kvLens: Float32Array.of(2) }), /attention.*kvLens.*Int32Array/);
  assert.throws(fwd({ batch: 2 ** 40, tq: 2 ** 40 }), /attention/);
  const bwd = (over: Partial<Record<string, unknown>>) => () => {
    const a = {
      q,
      k,
      v,
      out,
      lse,
      gOut: g,
      gq: g.slice(),
      gk: k.slice(),
      gv: v.slice(),
      kvLens: null as unknown,
      ...over,
    };
    (n.attentionBackward as (...args: unknown[]) => void)(
      a.q,
      a.k,
      a.v,
      a.out,
      a.lse,
      a.gOut,
      a.gq,
      a.gk,
      a.gv,
      a.kvLens,
      { batch: 1, tq: 2, tk: 2, hq: 2, hkv: 1, d: 2, scale: 1 },
    );
  };
  assert.doesNotThrow(bwd({}));
  for (const name of ['q', 'k', 'v', 'out', 'lse', 'gOut', 'gq', 'gk', 'gv']) {
    assert.throws(bwd({ [name]: new Float32Array(1) }), new RegExp(`attentionBackward.*'${name}'`));
    assert.throws(bwd({ [name]: new Int32Array(8) }), new RegExp(`attentionBackward.*'${name}'`));
  }
  assert.throws(bwd({ kvLens: Int32Array.of(5) }), /attentionBackward.*kvLens/);
  assert.throws(
    () => (addon!.attentionBackward as (...args: unknown[]) => void)(q, k, v),
    /attentionBackward.*arguments/,
  );
  assert.throws(
    () => (addon!.attention as (...args: unknown[]) => void)(q, k, v, out, lse, null, 7),
    /attention: argument 'shape' must be an object/,
  );
  assert.throws(
    () => (addon!.attention as (...args: unknown[]) => void)(q, k, v, out, lse, null, {}),
    /attention: argument 'shape.batch'/,
  );
});

// packedAttention: several sequences' new tokens back to back, each against its own row of a KV cache, in one call.
// Each sequence's numbers must be the ones `attention` gives it alone (bit for bit, on each backend and path).
function packedCase(seed: number) {
  const [rows, tk, hq, hkv, d] = [5, 40, 6, 2, 24];
  // pieces: (cache row, new tokens, keys once they are in): decode rows, prompt chunks, a row seen twice is fine
  const pieces: [number, number, number][] = [
    [3, 1, 17],
    [0, 9, 9],
    [4, 1, 40],
    [1, 6, 23],
    [2, 1, 1],
  ];
  const tokens = pieces.reduce((a, [, n]) => a + n, 0);
  const starts = new Int32Array(pieces.length + 1);
  pieces.forEach(([, n], i) => (starts[i + 1] = starts[i] + n));
  return {
    dims: { tk, hq, hkv, d, scale: 1 / Math.sqrt(d) },
    q: randn(tokens * hq * d, seed),
    k: randn(rows * tk * hkv * d, seed + 1),
    v: randn(rows * tk * hkv * d, seed + 2),
    slots: Int32Array.from(pieces, ([s]) => s),
    starts,
    kvLens: Int32Array.from(pieces, ([, , l]) => l),
    tokens,
  };
}

function packedOut(kern: AttentionKernels, c: ReturnType<typeof packedCase>): Float32Array {
  const { tk, hq, hkv, d, scale } = c.dims;
  const out = new Float32Array(c.tokens * hq * d);
  kern.packedAttention(c.q, c.k, c.v, out, c.slots, c.starts, c.kvLens, c.slots.length, tk, hq, hkv, d, scale);
  return out;
}

/** Each sequence alone through `attention` ([1, its tokens] against its cache row), outputs back to back. */
function alonePieces(kern: AttentionKernels, c: ReturnType<typeof packedCase>): Float32Array {
  const { tk, hq, hkv, d, scale } = c.dims;
  const out = new Float32Array(c.tokens * hq * d);
  const row = tk * hkv * d;
  c.slots.forEach((slot, p) => {
    const n = c.starts[p + 1] - c.starts[p];
    const o = new Float32Array(n * hq * d);
    const kv = [c.k, c.v].map((a) => a.subarray(slot * row, (slot + 1) * row));
    const shape = { batch: 1, tq: n, tk, hq, hkv, d, scale };
    const q = c.q.subarray(c.starts[p] * hq * d, c.starts[p + 1] * hq * d);
    kern.attention(q, kv[0], kv[1], o, new Float32Array(hq * n), c.kvLens.subarray(p, p + 1), shape);
    out.set(o, c.starts[p] * hq * d);
  });
  return out;
}

test('js packedAttention gives each sequence exactly what attention gives it alone', () => {
  const c = packedCase(900);
  assert.deepEqual(packedOut(jsAttention, c), alonePieces(jsAttention, c));
});

for (const path of ['SIMD', 'scalar'] as const) {
  test(`native packedAttention = native attention per sequence, bit for bit, and ≈ js (${path} path)`, { skip }, () => {
    withScalarPaths(
      '_attentionForceScalar',
      () => {
        const c = packedCase(910);
        const got = packedOut(native!, c);
        assert.deepEqual(got, alonePieces(native!, c));
        assertNear(got, packedOut(jsAttention, c), 2e-5, 'native packedAttention vs js');
      },
      path === 'scalar',
    );
  });
}

for (const [name, kern] of [
  ['js', jsAttention],
  ['native', native],
] as const) {
  test(`${name} packedAttention refuses bad pieces, naming the argument`, { skip: kern ? undefined : skip }, () => {
    const c = packedCase(920);
    const { tk, hq, hkv, d, scale } = c.dims;
    const call =
      (over: Partial<typeof c>, pieces = c.slots.length, heads = hq) =>
      () =>
        kern!.packedAttention(
          over.q ?? c.q,
          c.k,
          c.v,
          new Float32Array(c.tokens * hq * d),
          over.slots ?? c.slots,
          over.starts ?? c.starts,
          over.kvLens ?? c.kvLens,
          pieces,
          tk,
          heads,
          hkv,
          d,
          scale,
        );
    assert.doesNotThrow(call({}));
    assert.throws(call({ kvLens: Int32Array.from([17, 8, 40, 23, 1]) }), /kvLens\[1\] = 8 is outside \[9, 40\]/);
    assert.throws(call({ kvLens: Int32Array.from([17, 9, 41, 23, 1]) }), /kvLens\[2\] = 41 is outside \[1, 40\]/);
    assert.throws(call({ starts: Int32Array.from([1, 2, 11, 12, 18, 19]) }), /starts\[0\] must be 0, got 1/);
    assert.throws(call({ starts: Int32Array.from([0, 9, 1, 12, 18, 19]) }), /starts must not decrease: starts\[1\]/);
    assert.throws(call({ slots: Int32Array.from([3, 0, -1, 1, 2]) }), /slots\[2\] = -1 < 0/);
    assert.throws(call({ slots: Int32Array.from([3, 0, 9, 1, 2]) }), /'k'|k has/);
    assert.throws(call({}, 5, 5), /hq \(5\) must be a positive multiple of hkv \(2\)/);
    assert.throws(call({ starts: Int32Array.from([0, 1]) }), /starts/);
  });
}
