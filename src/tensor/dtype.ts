// Data types. Compute happens in f32; bf16 and f16 are storage types (checkpoints arrive in bf16) held as
// raw 16-bit patterns; i32 holds token ids and indices; q8_0 holds int8 inference weights [rows, cols] as rows of
// bytes, each row's int8 quants followed by its 32-element blocks' f16 scales (kernels/types.ts q8RowBytes; made
// and read by ops/weight-linear.ts).

import { q8RowBytes } from './kernels/types.ts';
import { allocAligned } from './mapped-file.ts';
import { formatShape, ShapeError, sizeOf } from './shape.ts';

export type DType = 'f32' | 'bf16' | 'f16' | 'i32' | 'q8_0';
export type FloatStorage = Float32Array;
export type Storage = Float32Array | Int32Array | Uint16Array | Int8Array;

export const DTYPES: readonly DType[] = ['f32', 'bf16', 'f16', 'i32', 'q8_0'];

/** Bytes per element of the dtypes stored element by element (q8_0 is stored by rows: storageLength). */
export function bytesPerElement(dtype: Exclude<DType, 'q8_0'>): number {
  return dtype === 'f32' || dtype === 'i32' ? 4 : 2;
}

/**
 * The storage elements a tensor of this dtype and shape holds: its size, or for q8_0 (a matrix [rows, cols] with
 * cols a multiple of 32) rows · q8RowBytes(cols) bytes.
 */
export function storageLength(dtype: DType, shape: readonly number[]): number {
  if (dtype !== 'q8_0') return sizeOf(shape);
  if (shape.length !== 2 || shape[1] % 32 !== 0)
    throw new ShapeError(
      `a q8_0 tensor is a matrix [rows, cols] with cols a multiple of 32, got ${formatShape(shape)}`,
    );
  return shape[0] * q8RowBytes(shape[1]);
}

/** n zeroed elements, on a 64-byte boundary where that matters (mapped-file.ts allocAligned). */
export function allocStorage(dtype: DType, n: number): Storage {
  if (dtype === 'q8_0')
    throw new Error('q8_0 storage is made by quantizeWeight or q8Weight (ops/weight-linear.ts), not allocated empty');
  const buf = allocAligned(n * bytesPerElement(dtype));
  switch (dtype) {
    case 'f32':
      return new Float32Array(buf);
    case 'i32':
      return new Int32Array(buf);
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
    case 'q8_0':
      return data instanceof Int8Array;
    default:
      return data instanceof Uint16Array;
  }
}
