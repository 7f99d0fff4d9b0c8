// float32 ↔ bfloat16 / IEEE half, the reference: bit recipes on Uint32 views (a Float32Array read would
// canonicalise NaN payloads). Round to nearest even; NaN stays a quiet NaN keeping its top payload bits;
// ±Inf and ±0 exact; half subnormals exact both ways.
import type { ConvertKernels, F32 } from '../types.ts';

function bitsOf(a: F32): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** float32 bits → bfloat16 bits. */
export function f32BitsToBf16(x: number): number {
  if ((x & 0x7fffffff) >>> 0 > 0x7f800000) return ((x >>> 16) | 0x0040) & 0xffff; // quiet NaN
  // Add 0x7fff plus the lowest kept bit: ties go to even; a carry into the exponent is correct (→ Inf).
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 bits → IEEE half bits. */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const a = (x & 0x7fffffff) >>> 0;
  if (a > 0x7f800000) return sign | 0x7e00 | ((a & 0x7fffff) >>> 13); // quiet NaN
  if (a >= 0x477ff000) return sign | 0x7c00; // ≥ 65520 rounds to Inf (the tie goes to the even 2^16)
  if (a >= 0x38800000) {
    // Normal half: rebias the exponent (127 → 15), round away the low 13 mantissa bits.
    const r = a - (112 << 23);
    return sign | ((r + 0x0fff + ((r >>> 13) & 1)) >>> 13);
  }
  // Subnormal half: |x| / 2^-24 = mant·2^(e−126), rounded to the nearest even integer.
  const shift = 126 - (a >>> 23);
  if (shift > 24) return sign;
  const m = (a & 0x7fffff) | 0x800000;
  let q = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (q & 1) === 1)) q++;
  return sign | q;
}

/** IEEE half bits → float32 bits (exact). */
export function f16BitsToF32(h: number): number {
  const sign = (h & 0x8000) << 16;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return (sign | 0x7f800000 | (m !== 0 ? 0x400000 : 0) | (m << 13)) >>> 0; // Inf / quiet NaN
  if (e !== 0) return (sign | ((e + 112) << 23) | (m << 13)) >>> 0;
  if (m === 0) return sign >>> 0;
  let shift = 0;
  let mm = m;
  while ((mm & 0x400) === 0) {
    mm <<= 1;
    shift++;
  }
  return (sign | ((113 - shift) << 23) | ((mm & 0x3ff) << 13)) >>> 0;
}

export const jsConvert: ConvertKernels = {
  f32ToBf16(src, dst, n) {
    const s = bitsOf(src);
    for (let i = 0; i < n; i++) dst[i] = f32BitsToBf16(s[i]);
  },
  bf16ToF32(src, dst, n) {
    const d = bitsOf(dst);
    for (let i = 0; i < n; i++) d[i] = src[i] << 16;
  },
  f32ToF16(src, dst, n) {
    const s = bitsOf(src);
    for (let i = 0; i < n; i++) dst[i] = f32BitsToF16(s[i]);
  },
  f16ToF32(src, dst, n) {
    const d = bitsOf(dst);
    for (let i = 0; i < n; i++) d[i] = f16BitsToF32(src[i]);
  },
};
