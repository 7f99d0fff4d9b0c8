// Data types. Compute happens in f32; bf16 and f16 are storage types (checkpoints arrive in bf16) held as
// raw 16-bit patterns; i32 holds token ids and indices; i8 holds the quants of q8_0 inference weights (their
// block scales travel beside them, see ops/weight-linear.ts).

import { allocAligned } from './mapped-file.ts';

export type DType = 'f32' | 'bf16' | 'f16' | 'i32' | 'i8';
export type FloatStorage = Float32Array;
export type Storage = Float32Array | Int32Array | Uint16Array | Int8Array;

export const DTYPES: readonly DType[] = ['f32', 'bf16', 'f16', 'i32', 'i8'];

export function bytesPerElement(dtype: DType): number {
  return dtype === 'f32' || dtype === 'i32' ? 4 : dtype === 'i8' ? 1 : 2;
}

/** n zeroed elements, on a 64-byte boundary where that matters (mapped-file.ts allocAligned). */
export function allocStorage(dtype: DType, n: number): Storage {
  const buf = allocAligned(n * bytesPerElement(dtype));
  switch (dtype) {
    case 'f32':
      return new Float32Array(buf);
    case 'i32':
      return new Int32Array(buf);
    case 'i8':
      return new Int8Array(buf);
    case 'bf16':
    case 'f16':
      return new Uint16Array(buf);
  }
}

export function storageMatches(dtype: DType, data: Storage): boolean {
  switch (dtype) {
    case 'f32':
      return data instanceof Float32Array;
    case 'i32':
      return data instanceof Int32Array;
    case 'i8':
      return data instanceof Int8Array;
    default:
      return data instanceof Uint16Array;
  }
}
