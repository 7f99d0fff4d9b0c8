// Dtype conversions: hand-checked bit patterns (ties, overflow, subnormals, NaN), an independent float64
// nearest-value check, exhaustive round trips of all 65536 bf16 and f16 patterns, and native (F16C / AVX2 and
// scalar paths) against js bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsConvert } from '../../../src/tensor/kernels/js/convert.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import type { ConvertKernels } from '../../../src/tensor/kernels/types.ts';
import { nativeAddonOrNull, nativeSkipReason, rng } from '../../helpers.ts';
import { testBothPaths } from './kernel-test-utils.ts';

function f32FromBits(bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits.map((b) => b >>> 0)).buffer);
}
function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}
const hex = (x: number) => `0x${(x >>> 0).toString(16)}`;

function toBf16(k: ConvertKernels, bits: number[]): number[] {
  const out = new Uint16Array(bits.length);
  k.f32ToBf16(f32FromBits(bits), out, bits.length);
  return [...out];
}
function toF16(k: ConvertKernels, bits: number[]): number[] {
  const out = new Uint16Array(bits.length);
  k.f32ToF16(f32FromBits(bits), out, bits.length);
  return [...out];
}

/** Value of a half bit pattern, decoded independently in float64. */
function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  if (e === 0) return s * m * 2 ** -24;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

test('f32ToBf16 (js): hand-checked patterns', () => {
  const cases: [number, number][] = [
    [0x3f800000, 0x3f80], // 1
    [0x00000000, 0x0000], // +0
    [0x80000000, 0x8000], // −0
    [0x7f800000, 0x7f80], // +Inf
    [0xff800000, 0xff80], // −Inf
    [0x3f808000, 0x3f80], // tie, kept bit even → down
    [0x3f818000, 0x3f82], // tie, kept bit odd → up
    [0x3f808001, 0x3f81], // just above the tie → up
    [0x3f807fff, 0x3f80], // just below the tie → down
    [0xbf818000, 0xbf82], // negative tie → magnitude up to even
    [0x7f7f7fff, 0x7f7f], // largest value that stays finite
    [0x7f7f8000, 0x7f80], // tie at the top: rounds to the even pattern, which is Inf
    [0x7f7fffff, 0x7f80], // FLT_MAX → Inf
    [0x00008000, 0x0000], // subnormal tie → even (0)
    [0x00018000, 0x0002], // subnormal tie → even (2)
    [0x7fc00000, 0x7fc0], // quiet NaN
    [0x7f800001, 0x7fc0], // signalling NaN → quiet, never Inf
    [0xff812345, 0xffc1], // negative NaN keeps sign and top payload bits
  ];
  assert.deepEqual(
    toBf16(
      jsConvert,
      cases.map((c) => c[0]),
    ).map(hex),
    cases.map((c) => hex(c[1])),
  );
});

test('f32ToF16 (js): hand-checked patterns', () => {
  const f = (x: number) => bitsOf(Float32Array.of(x))[0];
  const cases: [number, number][] = [
    [f(1), 0x3c00],
    [f(-2), 0xc000],
    [f(0), 0x0000],
    [0x80000000, 0x8000],
    [f(65504), 0x7bff], // largest half
    [f(65519), 0x7bff], // below the 65520 tie
    [f(65520), 0x7c00], // tie between 65504 and 2^16 → even → Inf
    [f(-1e6), 0xfc00],
    [0x7f800000, 0x7c00],
    [f(2 ** -14), 0x0400], // smallest normal
    [f(2 ** -24), 0x0001], // smallest subnormal
    [f(2 ** -25), 0x0000], // tie between 0 and 2^-24 → even (0)
    [f(1.5 * 2 ** -25), 0x0001],
    [f(3 * 2 ** -25), 0x0002], // tie between 1 and 2 ulps → even (2)
    [f(5 * 2 ** -25), 0x0002], // tie between 2 and 3 → even (2)
    [f(2 ** -14 - 2 ** -25), 0x0400], // tie between the largest subnormal and the smallest normal → even
    [f(1 + 2 ** -11), 0x3c00], // tie → even
    [f(1 + 3 * 2 ** -11), 0x3c02], // tie → even (up)
    [f(1 + 2 ** -11 + 2 ** -20), 0x3c01],
    [0x00000001, 0x0000], // f32 subnormal → 0
    [0x80000001, 0x8000],
    [0x7fc00000, 0x7e00],
    [0x7f800001, 0x7e00], // signalling NaN → quiet NaN
    [0xff812345, 0xfe09], // sign and the top payload bits kept
  ];
  assert.deepEqual(
    toF16(
      jsConvert,
      cases.map((c) => c[0]),
    ).map(hex),
    cases.map((c) => hex(c[1])),
  );
});

test('f32ToF16 (js): nearest half, ties to even, on random values (float64 check)', () => {
  const r = rng(5);
  const n = 20000;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (r() - 0.5) * 2 ** Math.floor(r() * 48 - 30);
  const h = new Uint16Array(n);
  jsConvert.f32ToF16(x, h, n);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const got = halfValue(h[i]);
    if (Math.abs(v) >= 65520) {
      assert.equal(got, Math.sign(v) * Infinity, `x=${v}`);
      continue;
    }
    // Neighbours of the result in magnitude (same sign) must not be nearer; equal distance needs even mantissa.
    const mag = h[i] & 0x7fff;
    const sign = h[i] & 0x8000;
    const d = Math.abs(v - got);
    for (const nb of [mag - 1, mag + 1]) {
      if (nb < 0 || nb > 0x7bff) continue;
      const dn = Math.abs(v - halfValue(sign | nb));
      assert.ok(d < dn || (d === dn && (mag & 1) === 0), `x=${v}: got ${hex(h[i])} (${got}), neighbour ${hex(nb)}`);
    }
    if (v !== 0) assert.equal(Math.sign(got) || Math.sign(v), Math.sign(v));
  }
});

test('all 65536 bf16 patterns: → f32 exact → bf16 round-trips (js)', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const f = new Float32Array(65536);
  jsConvert.bf16ToF32(all, f, 65536);
  const fb = bitsOf(f);
  const back = new Uint16Array(65536);
  jsConvert.f32ToBf16(f, back, 65536);
  for (let i = 0; i < 65536; i++) {
    assert.equal(fb[i], (i << 16) >>> 0, `bf16 ${hex(i)} → f32`);
    const isNaN = (i & 0x7f80) === 0x7f80 && (i & 0x7f) !== 0;
    if (isNaN) assert.ok((back[i] & 0x7f80) === 0x7f80 && (back[i] & 0x7f) !== 0, `NaN ${hex(i)} stays NaN`);
    else assert.equal(back[i], i, `bf16 ${hex(i)} round trip`);
  }
});

test('all 65536 f16 patterns: → f32 exact (float64 decode) → f16 round-trips (js)', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const f = new Float32Array(65536);
  jsConvert.f16ToF32(all, f, 65536);
  const back = new Uint16Array(65536);
  jsConvert.f32ToF16(f, back, 65536);
  for (let i = 0; i < 65536; i++) {
    const v = halfValue(i);
    if (Number.isNaN(v)) {
      assert.ok(Number.isNaN(f[i]), `NaN ${hex(i)} → f32 NaN`);
      assert.ok((back[i] & 0x7c00) === 0x7c00 && (back[i] & 0x3ff) !== 0, `NaN ${hex(i)} stays NaN`);
      assert.equal(back[i] & 0x8000, i & 0x8000);
      continue;
    }
    assert.ok(Object.is(f[i], v), `f16 ${hex(i)} → ${f[i]}, expected ${v}`);
    assert.equal(back[i], i, `f16 ${hex(i)} round trip`);
  }
});

const addon = nativeAddonOrNull();

function randomBits(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) u[i] = Math.floor(r() * 4294967296) >>> 0;
  // Sprinkle patterns near the interesting boundaries: ties, NaN, Inf, subnormals, the half range edges.
  const special = [
    0x3f808000, 0x3f818000, 0x7f7f8000, 0x7f800001, 0xffc00001, 0x477ff000, 0x477fefff, 0x33000000, 0x33400000,
    0x387fc000, 0x38800000, 0x00000001, 0x80000000, 0x7f800000, 0x3f801000, 0x3f803000,
  ];
  for (let i = 0; i < n; i += 7) u[i] = special[(i / 7) % special.length] >>> 0;
  return new Float32Array(u.buffer);
}

testBothPaths('native matches js bit for bit', '_convertForceScalar', () => {
  const nat = createNativeKernels(addon!);
  const all = new Uint16Array(65536).map((_, i) => i);
  for (const [name, a, b] of [
    ['bf16ToF32', nat.bf16ToF32, jsConvert.bf16ToF32],
    ['f16ToF32', nat.f16ToF32, jsConvert.f16ToF32],
  ] as const) {
    const x = new Float32Array(65536);
    const y = new Float32Array(65536);
    a(all, x, 65536);
    b(all, y, 65536);
    assert.deepEqual(bitsOf(x), bitsOf(y), `${name} on all patterns`);
  }
  for (const n of [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1000, 200003]) {
    const src = randomBits(n + 3, n).subarray(1, n + 1); // an unaligned view
    for (const [name, a, b] of [
      ['f32ToBf16', nat.f32ToBf16, jsConvert.f32ToBf16],
      ['f32ToF16', nat.f32ToF16, jsConvert.f32ToF16],
    ] as const) {
      const x = new Uint16Array(n + 1).fill(0xabcd);
      const y = new Uint16Array(n + 1).fill(0xabcd);
      a(src, x, n);
      b(src, y, n);
      for (let i = 0; i <= n; i++) {
        if (x[i] !== y[i])
          assert.fail(`${name} n=${n} i=${i}: src ${hex(bitsOf(src)[i])} native ${hex(x[i])} js ${hex(y[i])}`);
      }
    }
  }
});

test('native validates its arguments', { skip: nativeSkipReason() }, () => {
  const nat = createNativeKernels(addon!);
  const f = new Float32Array(4);
  const h = new Uint16Array(4);
  const bad = nat as unknown as Record<string, (...a: unknown[]) => void>;
  assert.throws(() => nat.f32ToBf16(f, h, 5), /f32ToBf16.*'src'/);
  assert.throws(() => nat.f32ToF16(f, new Uint16Array(3), 4), /f32ToF16.*'dst'/);
  assert.throws(() => nat.bf16ToF32(h, f, -1), /bf16ToF32.*'n'/);
  assert.throws(() => nat.f16ToF32(h, f, 1.5), /f16ToF32.*'n'/);
  assert.throws(() => bad.f16ToF32(new Int16Array(4), f, 4), /f16ToF32.*Uint16Array/);
  assert.throws(() => bad.bf16ToF32(h, new Float64Array(4), 4), /bf16ToF32.*Float32Array/);
  assert.throws(() => bad.f32ToBf16(h, h, 4), /f32ToBf16.*Float32Array/);
});
