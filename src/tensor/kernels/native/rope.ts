// Placeholder until the rope kernels land: every function throws.
import type { NativeAddon } from '../../native-addon.ts';
import type { RopeKernels } from '../types.ts';

export function nativeRope(_addon: NativeAddon): RopeKernels {
  return new Proxy({} as RopeKernels, {
    get(_t, name) {
      throw new Error(`native kernel ${String(name)} is not implemented yet`);
    },
  });
}
