// Placeholder until the elementwise kernels land: every function throws.
import type { NativeAddon } from '../../native-addon.ts';
import type { ElementwiseKernels } from '../types.ts';

export function nativeElementwise(_addon: NativeAddon): ElementwiseKernels {
  return new Proxy({} as ElementwiseKernels, {
    get(_t, name) {
      throw new Error(`native kernel ${String(name)} is not implemented yet`);
    },
  });
}
