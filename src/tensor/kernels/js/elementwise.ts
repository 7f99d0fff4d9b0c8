// Elementwise kernels, the reference: each element computed in float64 with Math.* and rounded to float32 by
// the Float32Array store. Op parameters (p0, p1, alpha) are rounded to float32 first, as PyTorch does when it
// applies a Python scalar to a float32 tensor; for + − × ÷ and comparisons this makes the result the exact
// float32 one, which the native kernels reproduce bit for bit.
import { BinaryOp, UnaryOp, type ElementwiseKernels, type F32, type I32 } from '../types.ts';

const f32 = Math.fround;

function binaryFn(op: number): (a: number, b: number) => number {
  switch (op) {
    case BinaryOp.add:
      return (a, b) => a + b;
    case BinaryOp.sub:
      return (a, b) => a - b;
    case BinaryOp.mul:
      return (a, b) => a * b;
    case BinaryOp.div:
      return (a, b) => a / b;
    case BinaryOp.maximum:
      return Math.max;
    case BinaryOp.minimum:
      return Math.min;
    default:
      throw new Error(`binary: unknown op code ${op}`);
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function unaryFn(op: number, p0: number, p1: number): (x: number) => number {
  const q0 = f32(p0);
  const q1 = f32(p1);
  switch (op) {
    case UnaryOp.neg:
      return (x) => -x;
    case UnaryOp.exp:
      return Math.exp;
    case UnaryOp.log:
      return Math.log;
    case UnaryOp.sigmoid:
      return sigmoid;
    case UnaryOp.silu:
      return (x) => x / (1 + Math.exp(-x));
    case UnaryOp.clamp:
      return (x) => Math.min(Math.max(x, q0), q1);
    case UnaryOp.scale:
      return (x) => x * q0;
    case UnaryOp.addScalar:
      return (x) => x + q0;
    case UnaryOp.sqrt:
      return Math.sqrt;
    case UnaryOp.rsqrt:
      return (x) => 1 / Math.sqrt(x);
    case UnaryOp.square:
      return (x) => x * x;
    case UnaryOp.tanh:
      return Math.tanh;
    case UnaryOp.abs:
      return Math.abs;
    case UnaryOp.relu:
      return (x) => Math.max(x, 0);
    case UnaryOp.powScalar:
      return (x) => Math.pow(x, q0);
    default:
      throw new Error(`unary: unknown op code ${op}`);
  }
}

/** f'(x)·g for each op code, given x, y = f(x) and the upstream gradient g. */
function derivFn(op: number, p0: number, p1: number): (x: number, y: number, g: number) => number {
  const q0 = f32(p0);
  const q1 = f32(p1);
  switch (op) {
    case UnaryOp.neg:
      return (_x, _y, g) => -g;
    case UnaryOp.exp:
      return (_x, y, g) => g * y;
    case UnaryOp.log:
      return (x, _y, g) => g / x;
    case UnaryOp.sigmoid:
      return (_x, y, g) => g * y * (1 - y);
    case UnaryOp.silu:
      return (x, _y, g) => {
        const s = sigmoid(x);
        return g * s * (1 + x * (1 - s));
      };
    case UnaryOp.clamp:
      return (x, _y, g) => (x >= q0 && x <= q1 ? g : 0);
    case UnaryOp.scale:
      return (_x, _y, g) => g * q0;
    case UnaryOp.addScalar:
      return (_x, _y, g) => g;
    case UnaryOp.sqrt:
      return (_x, y, g) => g / (2 * y);
    case UnaryOp.rsqrt:
      return (_x, y, g) => -0.5 * g * y * y * y;
    case UnaryOp.square:
      return (x, _y, g) => 2 * x * g;
    case UnaryOp.tanh:
      return (_x, y, g) => g * (1 - y * y);
    case UnaryOp.abs:
      return (x, _y, g) => (x > 0 ? g : x < 0 ? -g : 0);
    case UnaryOp.relu:
      return (x, _y, g) => (x > 0 ? g : 0);
    case UnaryOp.powScalar:
      // PyTorch's pow_backward: exponent 0 gives a zero gradient everywhere (even where x^-1 is infinite).
      return (x, _y, g) => (q0 === 0 ? 0 : g * q0 * Math.pow(x, q0 - 1));
    default:
      throw new Error(`unaryBackward: unknown op code ${op}`);
  }
}

function shapeSize(shape: I32): number {
  let total = 1;
  for (let d = 0; d < shape.length; d++) total *= shape[d];
  return total;
}

/**
 * Visits every index of `shape` in row-major order, calling visit(i, offset) with offset = Σ idx_d·strides_d
 * (plus `base`).
 */
function forEachStrided(shape: I32, strides: I32, base: number, visit: (i: number, off: number) => void): void {
  const rank = shape.length;
  const total = shapeSize(shape);
  const idx = new Array<number>(rank).fill(0);
  let off = base;
  for (let i = 0; i < total; i++) {
    visit(i, off);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < shape[d]) break;
      off -= idx[d] * strides[d];
      idx[d] = 0;
    }
  }
}

export const jsElementwise: ElementwiseKernels = {
  binary(op, a, aStrides, b, bStrides, out, shape) {
    const f = binaryFn(op);
    const rank = shape.length;
    if (aStrides.length !== rank || bStrides.length !== rank) {
      throw new Error(`binary: shape, aStrides and bStrides must have the same length`);
    }
    const total = shapeSize(shape);
    const idx = new Array<number>(rank).fill(0);
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < total; i++) {
      out[i] = f(a[ia], b[ib]);
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]++;
        ia += aStrides[d];
        ib += bStrides[d];
        if (idx[d] < shape[d]) break;
        ia -= idx[d] * aStrides[d];
        ib -= idx[d] * bStrides[d];
        idx[d] = 0;
      }
    }
  },

  unary(op, x, out, n, p0, p1) {
    const f = unaryFn(op, p0, p1);
    for (let i = 0; i < n; i++) out[i] = f(x[i]);
  },

  unaryBackward(op, x, y, gy, gx, n, p0, p1) {
    const f = derivFn(op, p0, p1);
    for (let i = 0; i < n; i++) gx[i] = f(x[i], y[i], gy[i]);
  },

  axpy(x, y, n, alpha) {
    const a = f32(alpha);
    for (let i = 0; i < n; i++) y[i] = y[i] + a * x[i];
  },

  copyStrided(x, offset, strides, out, shape) {
    forEachStrided(shape, strides, offset, (i, off) => {
      out[i] = x[off];
    });
  },

  scatterStrided(x, out, offset, strides, shape, accumulate) {
    if (accumulate) {
      forEachStrided(shape, strides, offset, (i, off) => {
        out[off] += x[i];
      });
    } else {
      forEachStrided(shape, strides, offset, (i, off) => {
        out[off] = x[i];
      });
    }
  },

  swiglu(gate: F32, up: F32, out: F32, n: number) {
    for (let i = 0; i < n; i++) {
      const g = gate[i];
      out[i] = (g / (1 + Math.exp(-g))) * up[i];
    }
  },

  swigluBackward(gate, up, gOut, gGate, gUp, n) {
    for (let i = 0; i < n; i++) {
      const g = gate[i];
      const s = sigmoid(g);
      const go = gOut[i];
      gUp[i] = go * g * s;
      gGate[i] = go * up[i] * s * (1 + g * (1 - s));
    }
  },
};
