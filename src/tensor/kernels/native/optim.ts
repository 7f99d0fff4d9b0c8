// Placeholder until the optim kernels land: every function throws.
import type { NativeAddon } from '../../native-addon.ts';
import type { OptimKernels } from '../types.ts';

export function nativeOptim(_addon: NativeAddon): OptimKernels {
  return new Proxy({} as OptimKernels, {
    get(_t, name) {
      throw new Error(`native kernel ${String(name)} is not implemented yet`);
    },
  });
}
