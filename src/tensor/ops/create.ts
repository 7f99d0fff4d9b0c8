// Constructors: tensors from values, constants, ranges and seeded random draws.
import { type DType, allocStorage } from '../dtype.ts';
import { checkShape, formatShape, ShapeError, sizeOf, type Shape } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { Generator } from '../../random/index.ts';

// The seeded generator (xoshiro128**) lives in the project's random module; tensor users get it from here.
export { Generator };

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
export function tensor(values: Nested | ArrayLike<number>, shape?: Shape, dtype: DType = 'f32'): Tensor {
  if (dtype === 'bf16' || dtype === 'f16') {
    throw new ShapeError(`tensor: create f32 values and cast them to ${dtype}`);
  }
  if ((dtype === 'f32' && values instanceof Float32Array) || (dtype === 'i32' && values instanceof Int32Array)) {
    return Tensor.fromStorage(shape ?? [values.length], dtype, values);
  }
  const flat: number[] = Array.isArray(values)
    ? ((values as Nested[]).flat(Infinity as 1) as number[])
    : Array.from(values as ArrayLike<number>);
  const s = shape ?? (Array.isArray(values) ? inferShape(values as Nested) : [flat.length]);
  checkShape('tensor', s);
  if (sizeOf(s) !== flat.length) {
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${formatShape(s)}`);
  }
  const data = allocStorage(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) {
    if (dtype === 'i32' && !Number.isInteger(flat[i]))
      throw new ShapeError(`tensor: i32 value ${flat[i]} at ${i} is not an integer`);
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
