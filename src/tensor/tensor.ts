// The Tensor: a shape, a dtype and contiguous storage, plus what autograd needs (requiresGrad, grad, and
// the node of the op that produced it).
import { kernels } from './backend.ts';
import { acquire, release } from './pool.ts';
import { trackTensor } from './scope.ts';
import { type DType, type Storage, storageLength, storageMatches } from './dtype.ts';
import { checkShape, formatShape, ShapeError, sizeOf, type Shape } from './shape.ts';
import type { GradNode } from './autograd.ts';

/** Shared storage: reshapes are views on the same buffer, returned to the pool when the last one goes. */
class Buffer {
  refs = 1;
  constructor(
    public data: Storage,
    readonly pooled: boolean,
  ) {}
}

const EMPTY = new Float32Array(0);

export class Tensor {
  readonly isTensor = true;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Whether gradients flow into this tensor (parameters, and results of ops on them). */
  requiresGrad = false;
  /** The accumulated gradient (f32, same shape) of a leaf that requires grad. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, while its graph is alive. */
  node: GradNode | null = null;
  /** Index of this tensor among its node's outputs. */
  outputIndex = 0;
  /** Survives every scope (parameters, optimizer state, caches). */
  kept = false;
  name?: string;
  private buffer: Buffer | null;

  constructor(shape: Shape, dtype: DType, buffer: Buffer | null) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.buffer = buffer;
    trackTensor(this);
  }

  /** A tensor over existing data (not copied, never pooled). */
  static fromStorage(shape: Shape, dtype: DType, data: Storage): Tensor {
    checkShape('tensor', shape);
    if (!storageMatches(dtype, data)) {
      throw new ShapeError(`tensor: dtype ${dtype} cannot be stored in a ${data.constructor.name}`);
    }
    const need = storageLength(dtype, shape);
    if (data.length !== need) {
      throw new ShapeError(`tensor: ${dtype} ${formatShape(shape)} needs ${need} elements, got ${data.length}`);
    }
    return new Tensor(shape, dtype, new Buffer(data, false));
  }

  /** A new tensor whose storage comes from the pool (contents arbitrary unless zero is set). */
  static empty(shape: Shape, dtype: DType = 'f32', zero = false): Tensor {
    checkShape('tensor', shape);
    const data = acquire(dtype, sizeOf(shape));
    if (zero) data.fill(0);
    return new Tensor(shape, dtype, new Buffer(data, true));
  }

  /**
   * A tensor with a shape but no storage yet (a parameter about to be loaded from a checkpoint); reading
   * its data throws until it is replaced.
   */
  static placeholder(shape: Shape, dtype: DType = 'f32'): Tensor {
    checkShape('tensor', shape);
    const t = new Tensor(shape, dtype, null);
    t.kept = true;
    return t;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.buffer === null;
  }

  /** The storage; throws if a scope already released this tensor. */
  get data(): Storage {
    if (!this.buffer)
      throw new Error(`tensor ${this.describe()} has no data (released by its scope, or a placeholder never loaded)`);
    return this.buffer.data;
  }

  /** The storage as f32 (throws for other dtypes, naming the op that asked). */
  f32(op = 'op'): Float32Array {
    if (this.dtype !== 'f32') {
      throw new ShapeError(`${op}: expected an f32 tensor, got ${this.dtype} ${formatShape(this.shape)}`);
    }
    return this.data as Float32Array;
  }

  i32(op = 'op'): Int32Array {
    if (this.dtype !== 'i32') {
      throw new ShapeError(`${op}: expected an i32 tensor, got ${this.dtype} ${formatShape(this.shape)}`);
    }
    return this.data as Int32Array;
  }

  /** A view with another shape of the same size, sharing storage (no gradient tracking: see ops.reshape). */
  viewAs(shape: Shape): Tensor {
    checkShape('reshape', shape);
    if (this.dtype === 'q8_0' && shape.join() !== this.shape.join())
      throw new ShapeError(`reshape: a q8_0 matrix ${this.describe()} is stored by rows and keeps its shape`);
    if (sizeOf(shape) !== this.size) {
      throw new ShapeError(
        `reshape: cannot view ${formatShape(this.shape)} (${this.size} elements) as ${formatShape(shape)}`,
      );
    }
    if (!this.buffer)
      throw new Error(`tensor ${this.describe()} has no data (released by its scope, or a placeholder never loaded)`);
    this.buffer.refs++;
    return new Tensor(shape, this.dtype, this.buffer);
  }

  /** Releases the storage now (to the pool when no view shares it). Further use throws. */
  dispose(): void {
    const buf = this.buffer;
    if (!buf) return;
    this.buffer = null;
    this.node = null;
    buf.refs--;
    if (buf.refs === 0 && buf.pooled) release(this.dtype, buf.data);
    if (buf.refs === 0) buf.data = EMPTY;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: tensor has shape ${formatShape(this.shape)}, not one element`);
    return this.toArray()[0];
  }

  /** Values as plain numbers (bf16/f16 decoded). */
  toArray(): number[] {
    if (this.dtype === 'q8_0')
      throw new ShapeError(`${this.describe()}: a q8_0 matrix's values come from widenRows (ops/weight-linear.ts)`);
    if (this.dtype === 'bf16' || this.dtype === 'f16')
      return Array.from(decodeHalf(this.dtype, this.data as Uint16Array));
    return Array.from(this.data as Float32Array | Int32Array);
  }

  describe(): string {
    return `${this.name ? `'${this.name}' ` : ''}${this.dtype}${formatShape(this.shape)}`;
  }

  toString(): string {
    return `Tensor(${this.describe()})`;
  }
}

function decodeHalf(dtype: 'bf16' | 'f16', bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  if (dtype === 'bf16') kernels().bf16ToF32(bits, out, bits.length);
  else kernels().f16ToF32(bits, out, bits.length);
  return out;
}
