// Placeholder until the convert kernels land: every function throws.
import type { ConvertKernels } from '../types.ts';

export const jsConvert: ConvertKernels = new Proxy({} as ConvertKernels, {
  get(_t, name) {
    throw new Error(`js kernel ${String(name)} is not implemented yet`);
  },
});
