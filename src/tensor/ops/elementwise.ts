// Elementwise arithmetic with NumPy broadcasting, unary math functions, and their gradients.
import { record } from '../autograd.ts';
import { kernels } from '../backend.ts';
import { BinaryOp, type BinaryOpName, UnaryOp, type UnaryOpName } from '../kernels/types.ts';
import {
  broadcastShapes,
  broadcastStrides,
  collapseDims,
  formatShape,
  sameShape,
  ShapeError,
  sizeOf,
  type Shape,
} from '../shape.ts';
import { Tensor } from '../tensor.ts';

function checkF32(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== 'f32') {
      throw new ShapeError(
        `${op}: expected f32 operands, got ${ts.map((x) => `${x.dtype}${formatShape(x.shape)}`).join(' and ')}`,
      );
    }
  }
}

/** a op b with broadcasting, no gradient recording. */
function binaryRaw(op: BinaryOpName, a: Tensor, b: Tensor): Tensor {
  checkF32(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = Tensor.empty(shape);
  if (out.size === 0) return out;
  const c = collapseDims(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)]);
  kernels().binary(
    BinaryOp[op],
    a.f32(),
    Int32Array.from(c.strides[0]),
    b.f32(),
    Int32Array.from(c.strides[1]),
    out.f32(),
    Int32Array.from(c.shape),
  );
  return out;
}

/** Sums a broadcast gradient back to `shape` (the adjoint of broadcasting). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const rank = g.rank;
  const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  let cur = g;
  let curShape = [...g.shape];
  for (let axis = 0; axis < rank; axis++) {
    if (padded[axis] !== 1 || curShape[axis] === 1) continue;
    const outer = sizeOf(curShape.slice(0, axis));
    const len = curShape[axis];
    const inner = sizeOf(curShape.slice(axis + 1));
    const nextShape = [...curShape];
    nextShape[axis] = 1;
    const next = Tensor.empty(nextShape);
    kernels().reduceSum(cur.f32(), next.f32(), outer, len, inner);
    cur = next;
    curShape = nextShape;
  }
  return cur.viewAs(shape);
}

function unaryRaw(op: UnaryOpName, x: Tensor, p0 = 0, p1 = 0): Tensor {
  checkF32(op, x);
  const out = Tensor.empty(x.shape);
  kernels().unary(UnaryOp[op], x.f32(), out.f32(), x.size, p0, p1);
  return out;
}

function binary(op: BinaryOpName, a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw(op, a, b);
  record(op, [a, b], [out], ([g]) => {
    const ga = a.requiresGrad ? gradA(op, g!, a, b) : null;
    const gb = b.requiresGrad ? gradB(op, g!, a, b) : null;
    return [ga && sumToShape(ga, a.shape), gb && sumToShape(gb, b.shape)];
  });
  return out;
}

function gradA(op: BinaryOpName, g: Tensor, a: Tensor, b: Tensor): Tensor {
  switch (op) {
    case 'add':
    case 'sub':
      return g;
    case 'mul':
      return binaryRaw('mul', g, b);
    case 'div':
      return binaryRaw('div', g, b);
    case 'maximum':
    case 'minimum':
      return selectGrad(op, g, a, b, true);
  }
}

function gradB(op: BinaryOpName, g: Tensor, a: Tensor, b: Tensor): Tensor {
  switch (op) {
    case 'add':
      return g;
    case 'sub':
      return unaryRaw('neg', g);
    case 'mul':
      return binaryRaw('mul', g, a);
    case 'div': {
      // d(a/b)/db = −a/b² = −(a/b)/b
      const q = binaryRaw('div', binaryRaw('div', a, b), b);
      return unaryRaw('neg', binaryRaw('mul', g, q));
    }
    case 'maximum':
    case 'minimum':
      return selectGrad(op, g, a, b, false);
  }
}

/** Gradient of max/min: flows to the selected operand (to a on ties). */
function selectGrad(op: 'maximum' | 'minimum', g: Tensor, a: Tensor, b: Tensor, toA: boolean): Tensor {
  const shape = g.shape;
  const ea = expandRaw(a, shape).f32();
  const eb = expandRaw(b, shape).f32();
  const out = Tensor.empty(shape);
  const o = out.f32();
  const gd = g.f32();
  for (let i = 0; i < o.length; i++) {
    const pickA = op === 'maximum' ? ea[i] >= eb[i] : ea[i] <= eb[i];
    o[i] = pickA === toA ? gd[i] : 0;
  }
  return out;
}

/** Materialises x broadcast to shape. */
export function expandRaw(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const target = broadcastShapes('expand', x.shape, shape);
  if (!sameShape(target, shape)) {
    throw new ShapeError(`expand: cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
  }
  const out = Tensor.empty(shape);
  if (out.size === 0) return out;
  const c = collapseDims(shape, [broadcastStrides(x.shape, shape)]);
  kernels().copyStrided(x.f32(), 0, Int32Array.from(c.strides[0]), out.f32(), Int32Array.from(c.shape));
  return out;
}

/** x broadcast to `shape` (gradient: summed back). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  checkF32('broadcastTo', x);
  const out = expandRaw(x, shape);
  if (out === x) return x;
  record('broadcastTo', [x], [out], ([g]) => [sumToShape(g!, x.shape)]);
  return out;
}

function scalarOrTensor(op: BinaryOpName, a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    switch (op) {
      case 'add':
        return addScalar(a, b);
      case 'sub':
        return addScalar(a, -b);
      case 'mul':
        return scale(a, b);
      case 'div':
        return scale(a, 1 / b);
      default:
        break;
    }
    const t = Tensor.empty([]);
    (t.data as Float32Array)[0] = b;
    return binary(op, a, t);
  }
  return binary(op, a, b);
}

export const add = (a: Tensor, b: Tensor | number): Tensor => scalarOrTensor('add', a, b);
export const sub = (a: Tensor, b: Tensor | number): Tensor => scalarOrTensor('sub', a, b);
export const mul = (a: Tensor, b: Tensor | number): Tensor => scalarOrTensor('mul', a, b);
export const div = (a: Tensor, b: Tensor | number): Tensor => scalarOrTensor('div', a, b);
export const maximum = (a: Tensor, b: Tensor | number): Tensor => scalarOrTensor('maximum', a, b);
export const minimum = (a: Tensor, b: Tensor | number): Tensor => scalarOrTensor('minimum', a, b);

function unary(op: UnaryOpName, x: Tensor, p0 = 0, p1 = 0): Tensor {
  const out = unaryRaw(op, x, p0, p1);
  record(op, [x], [out], ([g]) => {
    const gx = Tensor.empty(x.shape);
    kernels().unaryBackward(UnaryOp[op], x.f32(), out.f32(), g!.f32(), gx.f32(), x.size, p0, p1);
    return [gx];
  });
  return out;
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const silu = (x: Tensor): Tensor => unary('silu', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const scale = (x: Tensor, s: number): Tensor => unary('scale', x, s);
export const addScalar = (x: Tensor, s: number): Tensor => unary('addScalar', x, s);
export const pow = (x: Tensor, p: number): Tensor => unary('powScalar', x, p);

/** Clamps to [min, max] (either may be ±Infinity); the gradient passes where min ≤ x ≤ max. */
export function clamp(x: Tensor, min: number, max: number): Tensor {
  if (min > max) throw new ShapeError(`clamp: min ${min} is greater than max ${max}`);
  return unary('clamp', x, min, max);
}

/** SwiGLU's gated product silu(gate)·up, fused forward and backward. */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  checkF32('swiglu', gate, up);
  if (!sameShape(gate.shape, up.shape)) {
    throw new ShapeError(
      `swiglu: gate ${formatShape(gate.shape)} and up ${formatShape(up.shape)} must have the same shape`,
    );
  }
  const out = Tensor.empty(gate.shape);
  kernels().swiglu(gate.f32(), up.f32(), out.f32(), out.size);
  record('swiglu', [gate, up], [out], ([g]) => {
    const gGate = Tensor.empty(gate.shape);
    const gUp = Tensor.empty(up.shape);
    kernels().swigluBackward(gate.f32(), up.f32(), g!.f32(), gGate.f32(), gUp.f32(), out.size);
    return [gGate, gUp];
  });
  return out;
}
