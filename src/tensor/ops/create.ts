// Constructors: tensors from values, constants, ranges and seeded random draws.
import { type DType, allocStorage } from '../dtype.ts';
import { checkShape, formatShape, ShapeError, sizeOf, type Shape } from '../shape.ts';
import { Tensor } from '../tensor.ts';

type Nested = number | Nested[];

function inferShape(values: Nested): number[] {
  const shape: number[] = [];
  let v: Nested = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0] as Nested;
    if (v === undefined) break;
  }
  return shape;
}

/**
 * A tensor from nested arrays or a flat array/typed array plus a shape. The data is copied unless it is a
 * typed array of the dtype's storage type.
 */
export function tensor(
  values: Nested | ArrayLike<number>,
  shape?: Shape,
  dtype: DType = 'f32',
): Tensor {
  if (dtype === 'bf16' || dtype === 'f16') {
    throw new ShapeError(`tensor: create f32 values and cast them to ${dtype}`);
  }
  if ((dtype === 'f32' && values instanceof Float32Array) || (dtype === 'i32' && values instanceof Int32Array)) {
    return Tensor.fromStorage(shape ?? [values.length], dtype, values);
  }
  const flat: number[] = Array.isArray(values) ? (values as Nested[]).flat(Infinity as 1) as number[] : Array.from(values as ArrayLike<number>);
  const s = shape ?? (Array.isArray(values) ? inferShape(values as Nested) : [flat.length]);
  checkShape('tensor', s);
  if (sizeOf(s) !== flat.length) {
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${formatShape(s)}`);
  }
  const data = allocStorage(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) {
    if (dtype === 'i32' && !Number.isInteger(flat[i])) throw new ShapeError(`tensor: i32 value ${flat[i]} at ${i} is not an integer`);
    data[i] = flat[i];
  }
  return Tensor.fromStorage(s, dtype, data);
}

export function scalar(value: number): Tensor {
  return tensor([value], []);
}

export function zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
  return Tensor.empty(shape, dtype, true);
}

export function full(shape: Shape, value: number): Tensor {
  const t = Tensor.empty(shape, 'f32');
  (t.data as Float32Array).fill(value);
  return t;
}

export function ones(shape: Shape): Tensor {
  return full(shape, 1);
}

/** [start, start+1, …, end−1] as i32 (or f32). */
export function arange(start: number, end: number, dtype: 'i32' | 'f32' = 'i32'): Tensor {
  const n = Math.max(0, end - start);
  const t = Tensor.empty([n], dtype);
  for (let i = 0; i < n; i++) t.data[i] = start + i;
  return t;
}

/**
 * A seeded generator (xoshiro128**) for reproducible initialisation and sampling. Its state is four 32-bit
 * words, so it can be saved in a checkpoint and restored exactly.
 */
export class Generator {
  private s: Uint32Array;

  constructor(seed: number | Uint32Array) {
    if (seed instanceof Uint32Array) {
      this.s = new Uint32Array(seed);
    } else {
      // splitmix32 expands the seed into a non-zero state.
      this.s = new Uint32Array(4);
      let x = seed >>> 0;
      for (let i = 0; i < 4; i++) {
        x = (x + 0x9e3779b9) >>> 0;
        let z = x;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        this.s[i] = (z ^ (z >>> 16)) >>> 0;
      }
      if (this.s.every((w) => w === 0)) this.s[0] = 1;
    }
  }

  get state(): Uint32Array {
    return new Uint32Array(this.s);
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box–Muller, one draw per call for a simple, reproducible stream). */
  normal(): number {
    let u = this.uniform();
    while (u <= 0) u = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export function randn(shape: Shape, gen: Generator, std = 1, mean = 0): Tensor {
  const t = Tensor.empty(shape, 'f32');
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = mean + std * gen.normal();
  return t;
}

export function rand(shape: Shape, gen: Generator, low = 0, high = 1): Tensor {
  const t = Tensor.empty(shape, 'f32');
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * gen.uniform();
  return t;
}

/** Normal(mean, std) truncated to [mean + a·std, mean + b·std] by rejection (OLMo 2's init uses ±3σ). */
export function truncatedNormal(shape: Shape, gen: Generator, std: number, a = -3, b = 3, mean = 0): Tensor {
  const t = Tensor.empty(shape, 'f32');
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) {
    let z = gen.normal();
    while (z < a || z > b) z = gen.normal();
    d[i] = mean + std * z;
  }
  return t;
}

/** Marks t as a trainable parameter: it requires grad and survives every scope. */
export function parameter(t: Tensor, name?: string): Tensor {
  if (t.dtype !== 'f32') throw new ShapeError(`parameter: trainable tensors must be f32, got ${t.dtype}`);
  t.requiresGrad = true;
  t.kept = true;
  if (name !== undefined) t.name = name;
  return t;
}
