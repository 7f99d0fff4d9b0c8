// Placeholder until the convert kernels land: every function throws.
import type { NativeAddon } from '../../native-addon.ts';
import type { ConvertKernels } from '../types.ts';

export function nativeConvert(_addon: NativeAddon): ConvertKernels {
  return new Proxy({} as ConvertKernels, {
    get(_t, name) {
      throw new Error(`native kernel ${String(name)} is not implemented yet`);
    },
  });
}
