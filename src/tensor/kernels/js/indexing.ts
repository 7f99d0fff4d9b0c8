// Row gather / scatter-add, the reference. Indices are all checked before anything is written, so a bad
// index leaves the output untouched (as in the native kernels).
import type { F32, I32, IndexingKernels } from '../types.ts';

function checkIndices(kernel: string, idx: I32, n: number, rows: number): void {
  for (let i = 0; i < n; i++) {
    const r = idx[i];
    if (!(r >= 0 && r < rows)) {
      throw new RangeError(`${kernel}: idx[${i}] = ${r} is out of range [0, ${rows})`);
    }
  }
}

export const jsIndexing: IndexingKernels = {
  gatherRows(src: F32, idx: I32, out: F32, n: number, rowSize: number, srcRows: number) {
    checkIndices('gatherRows', idx, n, srcRows);
    for (let i = 0; i < n; i++) {
      const r = idx[i];
      out.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
    }
  },

  scatterAddRows(src: F32, idx: I32, out: F32, n: number, rowSize: number, outRows: number) {
    checkIndices('scatterAddRows', idx, n, outRows);
    for (let i = 0; i < n; i++) {
      const o = idx[i] * rowSize;
      const s = i * rowSize;
      for (let c = 0; c < rowSize; c++) out[o + c] += src[s + c];
    }
  },
};
