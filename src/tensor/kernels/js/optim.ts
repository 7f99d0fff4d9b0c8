// Placeholder until the optim kernels land: every function throws.
import type { OptimKernels } from '../types.ts';

export const jsOptim: OptimKernels = new Proxy({} as OptimKernels, {
  get(_t, name) {
    throw new Error(`js kernel ${String(name)} is not implemented yet`);
  },
});
