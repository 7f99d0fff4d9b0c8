// Placeholder until the losses kernels land: every function throws.
import type { NativeAddon } from '../../native-addon.ts';
import type { LossKernels } from '../types.ts';

export function nativeLosses(_addon: NativeAddon): LossKernels {
  return new Proxy({} as LossKernels, {
    get(_t, name) {
      throw new Error(`native kernel ${String(name)} is not implemented yet`);
    },
  });
}
