// The reference GEMM: a plain triple loop with float64 accumulation, the oracle for the native kernel.
import type { F32, GemmKernels } from '../types.ts';

function need(batch: number, stride: number, rows: number, cols: number): number {
  const size = rows * cols;
  return batch === 0 || size === 0 ? 0 : (batch - 1) * stride + size;
}

function checkSize(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0)
    throw new TypeError(`js gemm: argument '${name}' must be a non-negative integer, got ${v}`);
}

function checkArray(name: string, arr: F32, n: number): void {
  if (!(arr instanceof Float32Array)) throw new TypeError(`js gemm: argument '${name}' must be a Float32Array`);
  if (arr.length < n)
    throw new TypeError(`js gemm: argument '${name}' has ${arr.length} elements, needs at least ${n}`);
}

export const jsGemm: GemmKernels = {
  gemm(a, b, c, batch, m, n, k, transA, transB, strideA, strideB, strideC, accumulate) {
    for (const [name, v] of [
      ['batch', batch],
      ['m', m],
      ['n', n],
      ['k', k],
      ['strideA', strideA],
      ['strideB', strideB],
      ['strideC', strideC],
    ] as const)
      checkSize(name, v);
    checkArray('a', a, need(batch, strideA, m, k));
    checkArray('b', b, need(batch, strideB, k, n));
    checkArray('c', c, need(batch, strideC, m, n));
    // Batches run in order, so a shared (stride 0) C accumulates the batch's products when accumulating.
    for (let t = 0; t < batch; t++) {
      const a0 = t * strideA;
      const b0 = t * strideB;
      const c0 = t * strideC;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) {
            const av = transA ? a[a0 + p * m + i] : a[a0 + i * k + p];
            const bv = transB ? b[b0 + j * k + p] : b[b0 + p * n + j];
            s += av * bv;
          }
          const ci = c0 + i * n + j;
          c[ci] = accumulate ? c[ci] + s : s;
        }
      }
    }
  },
};
