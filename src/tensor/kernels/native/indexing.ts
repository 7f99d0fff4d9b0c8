// Placeholder until the indexing kernels land: every function throws.
import type { NativeAddon } from '../../native-addon.ts';
import type { IndexingKernels } from '../types.ts';

export function nativeIndexing(_addon: NativeAddon): IndexingKernels {
  return new Proxy({} as IndexingKernels, {
    get(_t, name) {
      throw new Error(`native kernel ${String(name)} is not implemented yet`);
    },
  });
}
