// Placeholder until the norms kernels land: every function throws.
import type { NormKernels } from '../types.ts';

export const jsNorms: NormKernels = new Proxy({} as NormKernels, {
  get(_t, name) {
    throw new Error(`js kernel ${String(name)} is not implemented yet`);
  },
});
