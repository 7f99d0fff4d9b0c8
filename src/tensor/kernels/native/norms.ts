// Placeholder until the norms kernels land: every function throws.
import type { NativeAddon } from '../../native-addon.ts';
import type { NormKernels } from '../types.ts';

export function nativeNorms(_addon: NativeAddon): NormKernels {
  return new Proxy({} as NormKernels, {
    get(_t, name) {
      throw new Error(`native kernel ${String(name)} is not implemented yet`);
    },
  });
}
