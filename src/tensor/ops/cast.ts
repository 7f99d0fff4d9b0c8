// Conversions between storage dtypes: f32 ↔ bf16/f16 (round to nearest even), f32 ↔ i32. Not
// differentiable: half types are storage, and parameters that train are f32.
import { kernels } from '../backend.ts';
import type { DType } from '../dtype.ts';
import { ShapeError } from '../shape.ts';
import { Tensor } from '../tensor.ts';

export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = Tensor.empty(x.shape, dtype);
  const n = x.size;
  const k = kernels();
  if (x.dtype === 'f32' && dtype === 'bf16') k.f32ToBf16(x.f32(), out.data as Uint16Array, n);
  else if (x.dtype === 'f32' && dtype === 'f16') k.f32ToF16(x.f32(), out.data as Uint16Array, n);
  else if (x.dtype === 'bf16' && dtype === 'f32') k.bf16ToF32(x.data as Uint16Array, out.f32(), n);
  else if (x.dtype === 'f16' && dtype === 'f32') k.f16ToF32(x.data as Uint16Array, out.f32(), n);
  else if (x.dtype === 'i32' && dtype === 'f32') out.f32().set(x.i32());
  else if (x.dtype === 'f32' && dtype === 'i32') {
    const src = x.f32();
    const dst = out.i32();
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(src[i])) throw new ShapeError(`cast: ${src[i]} at index ${i} cannot become i32`);
      dst[i] = Math.trunc(src[i]);
    }
  } else {
    return cast(cast(x, 'f32'), dtype);
  }
  return out;
}
