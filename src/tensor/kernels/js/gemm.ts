// Placeholder until the gemm kernels land: every function throws.
import type { GemmKernels } from '../types.ts';

export const jsGemm: GemmKernels = new Proxy({} as GemmKernels, {
  get(_t, name) {
    throw new Error(`js kernel ${String(name)} is not implemented yet`);
  },
});
