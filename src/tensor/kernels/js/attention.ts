// Placeholder until the attention kernels land: every function throws.
import type { AttentionKernels } from '../types.ts';

export const jsAttention: AttentionKernels = new Proxy({} as AttentionKernels, {
  get(_t, name) {
    throw new Error(`js kernel ${String(name)} is not implemented yet`);
  },
});
