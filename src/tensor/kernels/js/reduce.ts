// Placeholder until the reduce kernels land: every function throws.
import type { ReduceKernels } from '../types.ts';

export const jsReduce: ReduceKernels = new Proxy({} as ReduceKernels, {
  get(_t, name) {
    throw new Error(`js kernel ${String(name)} is not implemented yet`);
  },
});
