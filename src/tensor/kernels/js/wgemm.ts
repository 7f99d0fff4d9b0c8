// The weight-only GEMM, reference: the same per-element summation orders as native/wgemm.cc (16 lanes, fused
// multiply-adds, a fixed lane tree; each weight format's own order of k over the lanes), so the native kernels
// match it bit for bit. JavaScript
// has no fused multiply-add: fma32 computes one exactly (the product of two floats is exact in a double;
// the double sum's rounding error is recovered and used to break float ties).
import {
  GGML_Q8_BLOCK_BYTES,
  q8RowBytes,
  WeightFormat,
  type F32,
  type WeightGroup,
  type WgemmKernels,
} from '../types.ts';
import { f16BitsToF32, f32BitsToF16 } from './convert.ts';
import { fail } from './check.ts';

const LANES = 16;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float nearest to a·b + c with one rounding (a, b, c floats). */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b; // exact: 24 + 24 significant bits fit a double's 53
  const s = p + c;
  const e = Number.isFinite(s) ? p - (s - (s - p)) + (c - (s - p)) : 0; // TwoSum: p + c = s + e exactly
  const r = Math.fround(s);
  if (e === 0 || r === s || r === 0 || !Number.isFinite(r)) return r;
  // s is not a float: the double rounding only matters when s is exactly halfway between r and its neighbour.
  f32[0] = r;
  u32[0] += s > r === r > 0 ? 1 : -1; // the float on s's other side (r ≠ 0 here, as s ≠ r)
  const other = f32[0];
  if (r + other !== 2 * s) return r;
  // A tie in s that is not a tie in p + c: go the way the error e points.
  return e > 0 === other > r ? other : r;
}

function bf16(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

/** Σ_k x[xo + k]·w(k) in the kernels' fixed order (w(k) gives the widened weight). */
function dot(x: F32, xo: number, k: number, w: (c: number) => number): number {
  const acc = new Array<number>(LANES).fill(0);
  for (let c0 = 0; c0 < k; c0 += LANES) {
    for (let l = 0; l < LANES; l++) {
      const c = c0 + l;
      acc[l] = c < k ? fma32(x[xo + c], w(c), acc[l]) : fma32(0, 0, acc[l]);
    }
  }
  return reduceLanes(acc);
}

/**
 * Σ_k x[xo + k]·w(k) in linearBf16's pair order: per 32-weight block b, lane l (0..15) adds the product at
 * 32b + 2l, then the one at 32b + 2l + 1 (zero past k); the lanes are added as in dot.
 */
function dotPairs(x: F32, xo: number, k: number, w: (c: number) => number): number {
  const acc = new Array<number>(LANES).fill(0);
  for (let c0 = 0; c0 < k; c0 += 2 * LANES) {
    for (let l = 0; l < LANES; l++) {
      for (let c = c0 + 2 * l; c < c0 + 2 * l + 2; c++)
        acc[l] = c < k ? fma32(x[xo + c], w(c), acc[l]) : fma32(0, 0, acc[l]);
    }
  }
  return reduceLanes(acc);
}

/** The lanes added as a tree: l + l+8, then + l+4, + l+2, + l+1 (VReduce in native/wgemm.cc). */
function reduceLanes(acc: number[]): number {
  for (let width = LANES / 2; width >= 1; width /= 2) {
    for (let l = 0; l < width; l++) acc[l] = Math.fround(acc[l] + acc[l + width]);
  }
  return acc[0];
}

function linear(
  x: F32,
  out: F32,
  m: number,
  n: number,
  k: number,
  weight: (j: number, c: number) => number,
  order = dot,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) out[i * n + j] = order(x, i * k, k, (c) => weight(j, c));
  }
}

function checkBlocks(op: string, what: string, k: number): void {
  if (k % 32 !== 0) fail(op, `${what} must be a multiple of 32 (q8_0 blocks), got ${k}`);
}

type Typed = Float32Array | Uint16Array | Int8Array;
const TYPE_NAMES = new Map<unknown, string>([
  [Float32Array, 'Float32Array'],
  [Uint16Array, 'Uint16Array'],
  [Int8Array, 'Int8Array'],
]);

/** Each named array has its expected type and at least the elements needed (the addon's messages). */
function checkLength(op: string, arrays: Record<string, [Typed, number, new (n: number) => Typed]>): void {
  for (const [name, [a, need, type]] of Object.entries(arrays)) {
    if (!(a instanceof type)) fail(op, `argument '${name}' must be a ${TYPE_NAMES.get(type)}`);
    if (a.length < need) fail(op, `argument '${name}' has ${a.length} elements, needs at least ${need}`);
  }
}

/** The arguments of linearQ8 and linearQ8Fast, checked as the addon checks them. */
function checkQ8Call(op: string, x: F32, w: Int8Array, out: F32, m: number, n: number, k: number) {
  checkBlocks(op, 'k', k);
  checkLength(op, {
    x: [x, m * k, Float32Array],
    w: [w, n * q8RowBytes(k), Int8Array],
    out: [out, m * n, Float32Array],
  });
}

/** The block scales of q8_0 rows [0, n) of w (q8RowBytes(k) bytes each) as f32: row j's at [j·k/32, (j+1)·k/32). */
function q8Scales(w: Int8Array, n: number, k: number): Float32Array {
  const s = new Float32Array((n * k) / 32);
  for (let j = 0; j < n; j++)
    for (let b = 0; b < k / 32; b++) {
      const at = j * q8RowBytes(k) + k + 2 * b;
      s[(j * k) / 32 + b] = f16FromBits((w[at] & 0xff) | ((w[at + 1] & 0xff) << 8));
    }
  return s;
}

const MAX_GROUP_PARTS = 64;

/** A linearGroup group's fields, checked as the addon checks them (the arrays' lengths are checked per part). */
function checkGroup(group: WeightGroup, k: number): WeightGroup {
  const op = 'linearGroup';
  const { format, fast } = group;
  if (!Number.isInteger(format) || format < 0) fail(op, `argument 'group.format' must be a non-negative integer`);
  if (format > WeightFormat.q8) fail(op, `group.format must be 0 (f32), 1 (bf16), 2 (f16) or 3 (q8_0), got ${format}`);
  if (typeof fast !== 'boolean') fail(op, `argument 'group.fast' must be a boolean`);
  if (format === WeightFormat.q8) checkBlocks(op, 'k', k);
  if (group.inputs !== undefined && !Array.isArray(group.inputs)) fail(op, `argument 'group.inputs' must be an array`);
  const fields: ('weights' | 'outs' | 'rows' | 'inputs')[] = ['weights', 'outs', 'rows'];
  if ((group.inputs ?? []).length > 0) fields.push('inputs');
  for (const f of fields) if (!Array.isArray(group[f])) fail(op, `argument 'group.${f}' must be an array`);
  const count = group.weights.length;
  if (count === 0 || count > MAX_GROUP_PARTS)
    fail(op, `group.weights must hold 1 to ${MAX_GROUP_PARTS} matrices, got ${count}`);
  if (fields.some((f) => group[f]!.length !== count))
    fail(op, `group.outs, group.rows (and group.inputs when given) must have one entry per matrix (${count})`);
  group.rows.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 0) fail(op, `argument 'group.rows[${i}]' must be a non-negative integer`);
  });
  return group;
}

/** q8_0 quantisation into q8_0 rows of rows read through w(i) (the weight at flat index i, widened); returns the bad blocks. */
function quantize(op: string, w: (i: number) => number, q: Int8Array, rows: number, cols: number): number {
  checkBlocks(op, 'cols', cols);
  checkLength(op, { q: [q, rows * q8RowBytes(cols), Int8Array] });
  let bad = 0;
  const block = new Float32Array(32);
  for (let r = 0; r < rows; r++)
    for (let b = 0; b < cols / 32; b++) {
      for (let i = 0; i < 32; i++) block[i] = w(r * cols + b * 32 + i);
      f32[0] = quantizeBlock(block, 0, q, r * q8RowBytes(cols) + b * 32);
      const h = f32BitsToF16(u32[0]);
      if (!Number.isFinite(f32[0]) || (h & 0x7c00) === 0x7c00) bad++;
      const at = r * q8RowBytes(cols) + cols + 2 * b;
      [q[at], q[at + 1]] = [(h << 24) >> 24, (h << 16) >> 24]; // little-endian f16 bits, as Int8Array bytes
    }
  return bad;
}

/**
 * q8_0 quants of the 32 floats v[vo..vo+32) into q[qo..qo+32): d = max|v| / 127, q = round(v·(1/d)) half away
 * from zero, clamped to ±127 (0 when d = 0). Returns d, which is not finite when a value is not (the quants are
 * then meaningless). Weights and, in the int8 fast mode, activations are quantised alike.
 */
function quantizeBlock(v: Float32Array, vo: number, q: Int8Array, qo: number): number {
  let amax = 0;
  for (let e = 0; e < 32; e++) amax = Math.max(amax, Math.abs(v[vo + e]));
  const d = Math.fround(amax / 127);
  const id = d !== 0 ? Math.fround(1 / d) : 0;
  for (let e = 0; e < 32; e++) {
    const t = Math.fround(v[vo + e] * id);
    q[qo + e] = Math.max(-127, Math.min(127, Math.sign(t) * Math.round(Math.abs(t))));
  }
  return d;
}

/**
 * linearQ8Fast's order for one output: per block b, isum = Σ xq·q (exact), s = dx_b·dw_b (one rounding);
 * lane b mod 16 adds fma(isum, s, lane); the lanes are added as in dot.
 */
function dotQ8Fast(xq: Int8Array, dx: Float32Array, w: Int8Array, wo: number, dw: Float32Array, k: number): number {
  const acc = new Array<number>(LANES).fill(0);
  for (let b = 0; b < k / 32; b++) {
    let isum = 0;
    for (let e = 0; e < 32; e++) isum += xq[32 * b + e] * w[wo + 32 * b + e];
    acc[b % LANES] = fma32(isum, Math.fround(dx[b] * dw[b]), acc[b % LANES]);
  }
  return reduceLanes(acc);
}

function linearBf16(op: string, x: F32, w: Uint16Array, out: F32, m: number, n: number, k: number): void {
  checkLength(op, { x: [x, m * k, Float32Array], w: [w, n * k, Uint16Array], out: [out, m * n, Float32Array] });
  linear(x, out, m, n, k, (j, c) => bf16(w[j * k + c]), dotPairs);
}

export const jsWgemm: WgemmKernels = {
  linearF32(x, w, out, m, n, k) {
    checkLength('linearF32', {
      x: [x, m * k, Float32Array],
      w: [w, n * k, Float32Array],
      out: [out, m * n, Float32Array],
    });
    linear(x, out, m, n, k, (j, c) => w[j * k + c]);
  },
  linearBf16(x, w, out, m, n, k) {
    linearBf16('linearBf16', x, w, out, m, n, k);
  },
  linearBf16Fast(x, w, out, m, n, k) {
    linearBf16('linearBf16Fast', x, w, out, m, n, k); // no bf16 dot products in js: the exact mode, as allowed
    return false;
  },
  linearF16(x, w, out, m, n, k) {
    checkLength('linearF16', {
      x: [x, m * k, Float32Array],
      w: [w, n * k, Uint16Array],
      out: [out, m * n, Float32Array],
    });
    const table = new Float32Array(65536).map((_, h) => f16FromBits(h));
    linear(x, out, m, n, k, (j, c) => table[w[j * k + c]]);
  },
  linearQ8(x, w, out, m, n, k) {
    checkQ8Call('linearQ8', x, w, out, m, n, k);
    // Each weight dequantised to q·scale, exact in f32 (8 + 11 significant bits at most), then linearF32's order.
    const s = q8Scales(w, n, k);
    linear(x, out, m, n, k, (j, c) => w[j * q8RowBytes(k) + c] * s[j * (k / 32) + (c >> 5)]);
  },
  linearQ8Fast(x, w, out, m, n, k) {
    checkQ8Call('linearQ8Fast', x, w, out, m, n, k);
    const dw = q8Scales(w, n, k);
    const xq = new Int8Array(k);
    const dx = new Float32Array(k / 32);
    for (let i = 0; i < m; i++) {
      // As QuantizeX in native/wgemm.cc: a block holding a non-finite value gets dx NaN and zero quants.
      for (let b = 0; b < k / 32; b++) {
        dx[b] = quantizeBlock(x, i * k + 32 * b, xq, 32 * b);
        if (Number.isFinite(dx[b])) continue;
        dx[b] = NaN;
        xq.fill(0, 32 * b, 32 * b + 32);
      }
      for (let j = 0; j < n; j++) {
        out[i * n + j] = dotQ8Fast(xq, dx, w, j * q8RowBytes(k), dw.subarray((j * k) / 32, ((j + 1) * k) / 32), k);
      }
    }
    return false; // the reference loop, not VNNI
  },
  linearGroup(xs, group, m, k) {
    const op = 'linearGroup';
    const { weights, outs, rows, format } = checkGroup(group, k);
    checkLength(op, { x: [xs, m * k, Float32Array] });
    const inputs = group.inputs ?? [];
    weights.forEach((w, i) => {
      const n = rows[i];
      const name = (field: string) => `${field}[${i}]`;
      const type = format === WeightFormat.f32 ? Float32Array : format === WeightFormat.q8 ? Int8Array : Uint16Array;
      checkLength(op, {
        [name('group.weights')]: [w, format === WeightFormat.q8 ? n * q8RowBytes(k) : n * k, type],
        [name('group.outs')]: [outs[i], m * n, Float32Array],
      });
      if (inputs.length > 0) checkLength(op, { [name('group.inputs')]: [inputs[i], m * k, Float32Array] });
    });
    // Each part is its own kernel's product: the native addon shares the work out differently, not the sums.
    weights.forEach((w, i) => {
      const n = rows[i];
      const x = inputs.length > 0 ? inputs[i] : xs;
      if (format === WeightFormat.f32) jsWgemm.linearF32(x, w as F32, outs[i], m, n, k);
      else if (format === WeightFormat.bf16) jsWgemm.linearBf16(x, w as Uint16Array, outs[i], m, n, k);
      else if (format === WeightFormat.f16) jsWgemm.linearF16(x, w as Uint16Array, outs[i], m, n, k);
      else if (group.fast) jsWgemm.linearQ8Fast(x, w as Int8Array, outs[i], m, n, k);
      else jsWgemm.linearQ8(x, w as Int8Array, outs[i], m, n, k);
    });
    return false; // no fast mode in js (the bf16 one runs exact; the int8 one's reference loop is not "fast")
  },
  q8FromBlocks(blocks, q, rows, cols) {
    const op = 'q8FromBlocks';
    checkBlocks(op, 'cols', cols);
    checkLength(op, {
      blocks: [blocks, (rows * cols * GGML_Q8_BLOCK_BYTES) / 32, Int8Array],
      q: [q, rows * q8RowBytes(cols), Int8Array],
    });
    const nb = cols / 32;
    for (let r = 0; r < rows; r++)
      for (let b = 0; b < nb; b++) {
        const from = (r * nb + b) * GGML_Q8_BLOCK_BYTES;
        const row = r * q8RowBytes(cols);
        q.set(blocks.subarray(from + 2, from + GGML_Q8_BLOCK_BYTES), row + 32 * b);
        q.set(blocks.subarray(from, from + 2), row + cols + 2 * b);
      }
  },
  quantizeQ8(w, q, rows, cols) {
    checkLength('quantizeQ8', { w: [w, rows * cols, Float32Array] });
    return quantize('quantizeQ8', (i) => w[i], q, rows, cols);
  },
  quantizeQ8Bf16(w, q, rows, cols) {
    checkLength('quantizeQ8Bf16', { w: [w, rows * cols, Uint16Array] });
    return quantize('quantizeQ8Bf16', (i) => bf16(w[i]), q, rows, cols);
  },
  quantizeQ8F16(w, q, rows, cols) {
    checkLength('quantizeQ8F16', { w: [w, rows * cols, Uint16Array] });
    return quantize('quantizeQ8F16', (i) => f16FromBits(w[i]), q, rows, cols);
  },
};

function f16FromBits(h: number): number {
  u32[0] = f16BitsToF32(h);
  return f32[0];
}
