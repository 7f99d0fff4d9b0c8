// Shape manipulation: reshape (a view), transpose/permute, slice, concat. Each copies through the strided
// kernels, whose adjoint (scatterStrided) is the backward pass.
import { record } from '../autograd.ts';
import { kernels } from '../backend.ts';
import {
  checkShape,
  collapseDims,
  contiguousStrides,
  formatShape,
  normalizeAxis,
  ShapeError,
  sizeOf,
  type Shape,
} from '../shape.ts';
import { Tensor } from '../tensor.ts';

/** Same data, new shape (one dimension may be −1 and is inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const resolved = [...shape];
  const unknown = resolved.indexOf(-1);
  if (unknown >= 0) {
    const known = sizeOf(resolved.filter((_, i) => i !== unknown));
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${formatShape(x.shape)} into ${formatShape(shape)}`);
    }
    resolved[unknown] = x.size / known;
  }
  checkShape('reshape', resolved);
  if (sizeOf(resolved) !== x.size) {
    throw new ShapeError(
      `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)}`,
    );
  }
  const out = x.viewAs(resolved);
  record('reshape', [x], [out], ([g]) => [g!.viewAs(x.shape)]);
  return out;
}

/** Copies x's elements reordered by `strides` from `offset` into a contiguous tensor of `shape`. */
function gatherStrided(x: Tensor, shape: number[], offset: number, strides: number[]): Tensor {
  const out = Tensor.empty(shape, x.dtype === 'i32' ? 'i32' : 'f32');
  if (out.size === 0) return out;
  if (x.dtype !== 'f32') {
    const src = x.data;
    const dst = out.data;
    const idx = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < out.size; i++) {
      let off = offset;
      for (let d = 0; d < shape.length; d++) off += idx[d] * strides[d];
      dst[i] = src[off];
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return out;
  }
  const c = collapseDims(shape, [strides]);
  kernels().copyStrided(x.f32(), offset, Int32Array.from(c.strides[0]), out.f32(), Int32Array.from(c.shape));
  return out;
}

/** The adjoint of gatherStrided: g scattered into zeros of xShape. */
function scatterStridedGrad(g: Tensor, xShape: Shape, offset: number, strides: number[]): Tensor {
  const gx = Tensor.empty(xShape, 'f32', true);
  if (g.size === 0) return gx;
  const c = collapseDims(g.shape, [strides]);
  kernels().scatterStrided(g.f32(), gx.f32(), offset, Int32Array.from(c.strides[0]), Int32Array.from(c.shape), true);
  return gx;
}

/** Reorders axes: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
    throw new ShapeError(`permute: ${formatShape(perm)} is not a permutation of the axes of ${formatShape(x.shape)}`);
  }
  const xs = contiguousStrides(x.shape);
  const shape = perm.map((p) => x.shape[p]);
  const strides = perm.map((p) => xs[p]);
  const out = gatherStrided(x, shape, 0, strides);
  record('permute', [x], [out], ([g]) => [scatterStridedGrad(g!, x.shape, 0, strides)]);
  return out;
}

/** Swaps two axes. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = x.shape.map((_, i) => i);
  const i = normalizeAxis('transpose', a, x.rank);
  const j = normalizeAxis('transpose', b, x.rank);
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

/** Elements start..end−1 (negative values count from the end) along `axis`. */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const a = normalizeAxis('slice', axis, x.rank);
  const len = x.shape[a];
  const s = start < 0 ? start + len : start;
  const e = end === undefined ? len : end < 0 ? end + len : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > len || s > e) {
    throw new ShapeError(
      `slice: range [${start}, ${end ?? len}) is out of bounds for axis ${axis} of ${formatShape(x.shape)}`,
    );
  }
  const strides = contiguousStrides(x.shape);
  const shape = [...x.shape];
  shape[a] = e - s;
  const offset = s * strides[a];
  const out = gatherStrided(x, shape, offset, strides);
  record('slice', [x], [out], ([g]) => [scatterStridedGrad(g!, x.shape, offset, strides)]);
  return out;
}

/** Joins tensors along `axis`; all other dimensions must match. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: needs at least one tensor');
  const first = xs[0];
  const a = normalizeAxis('concat', axis, first.rank);
  for (const t of xs) {
    const ok =
      t.rank === first.rank && t.dtype === first.dtype && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!ok) {
      throw new ShapeError(
        `concat: shapes ${xs.map((x) => `${x.dtype}${formatShape(x.shape)}`).join(', ')} do not match outside axis ${axis}`,
      );
    }
  }
  const shape = [...first.shape];
  shape[a] = xs.reduce((n, t) => n + t.shape[a], 0);
  const out = Tensor.empty(shape, first.dtype === 'i32' ? 'i32' : 'f32');
  const outStrides = contiguousStrides(shape);
  const offsets: number[] = [];
  let pos = 0;
  for (const t of xs) {
    offsets.push(pos * outStrides[a]);
    if (t.size > 0) {
      if (t.dtype === 'f32') {
        const c = collapseDims(t.shape, [outStrides]);
        kernels().scatterStrided(
          t.f32(),
          out.f32(),
          pos * outStrides[a],
          Int32Array.from(c.strides[0]),
          Int32Array.from(c.shape),
          false,
        );
      } else {
        const part = gatherStrided(t, [...t.shape], 0, contiguousStrides(t.shape));
        scatterI32(part.i32(), out.i32(), t.shape, pos * outStrides[a], outStrides);
      }
    }
    pos += t.shape[a];
  }
  record('concat', [...xs], [out], ([g]) =>
    xs.map((t, i) => (t.requiresGrad ? gatherStrided(g!, [...t.shape], offsets[i], outStrides) : null)),
  );
  return out;
}

function scatterI32(src: Int32Array, dst: Int32Array, shape: Shape, offset: number, strides: number[]): void {
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < src.length; i++) {
    let off = offset;
    for (let d = 0; d < shape.length; d++) off += idx[d] * strides[d];
    dst[off] = src[i];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}
