// Reference reductions, softmax family and top-k: plain loops, float64 accumulation, clear over fast.
import type { F32, ReduceKernels } from '../types.ts';
import { checkF32, checkI32, checkSize, fail } from './check.ts';

function checkRows(kernel: string, names: string[], arrays: unknown[], rows: number, cols: number): void {
  checkSize(kernel, 'rows', rows);
  checkSize(kernel, 'cols', cols);
  arrays.forEach((a, i) => checkF32(kernel, names[i], a, rows * cols));
}

/** The row max (NaN if the row holds a NaN, as Math.max does). */
function rowMax(x: F32, base: number, cols: number): number {
  let m = -Infinity;
  for (let j = 0; j < cols; j++) m = Math.max(m, x[base + j]);
  return m;
}

/** Top-k order: larger value first; NaN above every number; lower index first on ties. */
function before(x: F32, base: number, a: number, b: number): number {
  const va = x[base + a];
  const vb = x[base + b];
  const an = Number.isNaN(va);
  const bn = Number.isNaN(vb);
  if (an !== bn) return an ? -1 : 1;
  if (!an && va !== vb) return va > vb ? -1 : 1;
  return a - b;
}

export const jsReduce: ReduceKernels = {
  reduceSum(x, out, outer, len, inner) {
    const k = 'reduceSum';
    checkSize(k, 'outer', outer);
    checkSize(k, 'len', len);
    checkSize(k, 'inner', inner);
    checkF32(k, 'x', x, outer * len * inner);
    checkF32(k, 'out', out, outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let l = 0; l < len; l++) s += x[(o * len + l) * inner + i];
        out[o * inner + i] = s;
      }
    }
  },

  reduceMax(x, out, argmax, outer, len, inner) {
    const k = 'reduceMax';
    checkSize(k, 'outer', outer);
    checkSize(k, 'len', len);
    checkSize(k, 'inner', inner);
    if (len < 1) fail(k, "argument 'len' must be at least 1 (max over an empty axis)");
    checkF32(k, 'x', x, outer * len * inner);
    checkF32(k, 'out', out, outer * inner);
    checkI32(k, 'argmax', argmax, outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let best = x[o * len * inner + i];
        let bi = 0;
        for (let l = 1; l < len; l++) {
          const v = x[(o * len + l) * inner + i];
          if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
            best = v;
            bi = l;
          }
        }
        out[o * inner + i] = best;
        argmax[o * inner + i] = bi;
      }
    }
  },

  sumSquares(x, n) {
    checkSize('sumSquares', 'n', n);
    checkF32('sumSquares', 'x', x, n);
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * x[i];
    return s;
  },

  softmax(x, out, rows, cols) {
    checkRows('softmax', ['x', 'out'], [x, out], rows, cols);
    const e = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const b = r * cols;
      const m = rowMax(x, b, cols);
      let s = 0;
      for (let j = 0; j < cols; j++) s += e[j] = Math.exp(x[b + j] - m);
      for (let j = 0; j < cols; j++) out[b + j] = e[j] / s;
    }
  },

  softmaxBackward(y, gy, gx, rows, cols) {
    checkRows('softmaxBackward', ['y', 'gy', 'gx'], [y, gy, gx], rows, cols);
    for (let r = 0; r < rows; r++) {
      const b = r * cols;
      let d = 0;
      for (let j = 0; j < cols; j++) d += gy[b + j] * y[b + j];
      for (let j = 0; j < cols; j++) gx[b + j] = y[b + j] * (gy[b + j] - d);
    }
  },

  logSoftmax(x, out, rows, cols) {
    checkRows('logSoftmax', ['x', 'out'], [x, out], rows, cols);
    for (let r = 0; r < rows; r++) {
      const b = r * cols;
      const m = rowMax(x, b, cols);
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(x[b + j] - m);
      const ls = Math.log(s);
      for (let j = 0; j < cols; j++) out[b + j] = x[b + j] - m - ls;
    }
  },

  logSoftmaxBackward(y, gy, gx, rows, cols) {
    checkRows('logSoftmaxBackward', ['y', 'gy', 'gx'], [y, gy, gx], rows, cols);
    for (let r = 0; r < rows; r++) {
      const b = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += gy[b + j];
      for (let j = 0; j < cols; j++) gx[b + j] = gy[b + j] - Math.exp(y[b + j]) * s;
    }
  },

  topk(x, values, indices, rows, cols, k) {
    const kn = 'topk';
    checkSize(kn, 'rows', rows);
    checkSize(kn, 'cols', cols);
    checkSize(kn, 'k', k);
    if (k < 1 || k > cols) fail(kn, `argument 'k' must be in [1, cols=${cols}], got ${k}`);
    checkF32(kn, 'x', x, rows * cols);
    checkF32(kn, 'values', values, rows * k);
    checkI32(kn, 'indices', indices, rows * k);
    const order = new Array<number>(cols);
    for (let r = 0; r < rows; r++) {
      const b = r * cols;
      for (let j = 0; j < cols; j++) order[j] = j;
      order.sort((p, q) => before(x, b, p, q));
      for (let j = 0; j < k; j++) {
        values[r * k + j] = x[b + order[j]];
        indices[r * k + j] = order[j];
      }
    }
  },
};
