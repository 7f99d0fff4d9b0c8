// Placeholder until the rope kernels land: every function throws.
import type { RopeKernels } from '../types.ts';

export const jsRope: RopeKernels = new Proxy({} as RopeKernels, {
  get(_t, name) {
    throw new Error(`js kernel ${String(name)} is not implemented yet`);
  },
});
