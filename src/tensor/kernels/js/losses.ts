// Placeholder until the losses kernels land: every function throws.
import type { LossKernels } from '../types.ts';

export const jsLosses: LossKernels = new Proxy({} as LossKernels, {
  get(_t, name) {
    throw new Error(`js kernel ${String(name)} is not implemented yet`);
  },
});
