// Placeholder until the attention kernels land: every function throws.
import type { NativeAddon } from '../../native-addon.ts';
import type { AttentionKernels } from '../types.ts';

export function nativeAttention(_addon: NativeAddon): AttentionKernels {
  return new Proxy({} as AttentionKernels, {
    get(_t, name) {
      throw new Error(`native kernel ${String(name)} is not implemented yet`);
    },
  });
}
