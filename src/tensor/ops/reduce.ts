// Reductions over one axis (or all elements): sum, mean, max.
import { record } from '../autograd.ts';
import { kernels } from '../backend.ts';
import { UnaryOp } from '../kernels/types.ts';
import { normalizeAxis, sizeOf, formatShape, ShapeError } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { expandRaw } from './elementwise.ts';
import { recordPick } from './pick-grad.ts';

interface AxisView {
  outer: number;
  len: number;
  inner: number;
  keptShape: number[];
  outShape: number[];
}

function axisView(op: string, x: Tensor, axis: number | undefined, keepDims: boolean): AxisView {
  if (x.dtype !== 'f32') throw new ShapeError(`${op}: expected f32, got ${x.dtype}${formatShape(x.shape)}`);
  if (axis === undefined) {
    return {
      outer: 1,
      len: x.size,
      inner: 1,
      keptShape: x.shape.map(() => 1),
      outShape: keepDims ? x.shape.map(() => 1) : [],
    };
  }
  const a = normalizeAxis(op, axis, x.rank);
  const keptShape = [...x.shape];
  keptShape[a] = 1;
  return {
    outer: sizeOf(x.shape.slice(0, a)),
    len: x.shape[a],
    inner: sizeOf(x.shape.slice(a + 1)),
    keptShape,
    outShape: keepDims ? keptShape : x.shape.filter((_, i) => i !== a),
  };
}

/** Sum over `axis` (all elements when omitted). */
export function sum(x: Tensor, axis?: number, keepDims = false): Tensor {
  const v = axisView('sum', x, axis, keepDims);
  const out = Tensor.empty(v.outShape);
  kernels().reduceSum(x.f32(), out.f32(), v.outer, v.len, v.inner);
  record('sum', [x], [out], ([g]) => [expandRaw(g!.viewAs(v.keptShape), x.shape)]);
  return out;
}

/** Mean over `axis` (all elements when omitted). */
export function mean(x: Tensor, axis?: number, keepDims = false): Tensor {
  const v = axisView('mean', x, axis, keepDims);
  if (v.len === 0) throw new ShapeError(`mean: axis ${axis} of ${formatShape(x.shape)} is empty`);
  const out = Tensor.empty(v.outShape);
  kernels().reduceSum(x.f32(), out.f32(), v.outer, v.len, v.inner);
  kernels().unary(UnaryOp.scale, out.f32(), out.f32(), out.size, 1 / v.len, 0);
  record('mean', [x], [out], ([g]) => {
    const gx = expandRaw(g!.viewAs(v.keptShape), x.shape);
    const scaled = Tensor.empty(x.shape);
    kernels().unary(UnaryOp.scale, gx.f32(), scaled.f32(), gx.size, 1 / v.len, 0);
    return [scaled];
  });
  return out;
}

/** Maximum over `axis`; the gradient goes to the first maximal element. Returns values and argmax. */
export function max(x: Tensor, axis: number, keepDims = false): { values: Tensor; indices: Tensor } {
  const v = axisView('max', x, axis, keepDims);
  if (v.len === 0) throw new ShapeError(`max: axis ${axis} of ${formatShape(x.shape)} is empty`);
  const values = Tensor.empty(v.outShape);
  const indices = Tensor.empty(v.outShape, 'i32');
  kernels().reduceMax(x.f32(), values.f32(), indices.i32(), v.outer, v.len, v.inner);
  recordPick('max', x, values, indices, { outer: v.outer, len: v.len, k: 1, inner: v.inner });
  return { values, indices };
}
