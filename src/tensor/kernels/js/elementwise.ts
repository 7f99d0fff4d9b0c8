// Placeholder until the elementwise kernels land: every function throws.
import type { ElementwiseKernels } from '../types.ts';

export const jsElementwise: ElementwiseKernels = new Proxy({} as ElementwiseKernels, {
  get(_t, name) {
    throw new Error(`js kernel ${String(name)} is not implemented yet`);
  },
});
