// Shared inputs of the weight-only GEMM tests (wgemm.test.ts, wgemm-bf16-fast.test.ts).
import { jsConvert } from '../../../src/tensor/kernels/js/convert.ts';
import { rng } from '../../helpers.ts';

export function randomF32(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}
export function toBf16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  jsConvert.f32ToBf16(x, out, x.length);
  return out;
}
export function toF16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  jsConvert.f32ToF16(x, out, x.length);
  return out;
}
/** The bit patterns of a Float32Array, to compare results exactly (NaN payloads and signed zeros included). */
export const bits = (a: Float32Array): number[] => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
