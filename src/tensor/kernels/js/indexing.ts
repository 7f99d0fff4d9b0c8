// Placeholder until the indexing kernels land: every function throws.
import type { IndexingKernels } from '../types.ts';

export const jsIndexing: IndexingKernels = new Proxy({} as IndexingKernels, {
  get(_t, name) {
    throw new Error(`js kernel ${String(name)} is not implemented yet`);
  },
});
