// Placeholder until the gemm kernels land: every function throws.
import type { NativeAddon } from '../../native-addon.ts';
import type { GemmKernels } from '../types.ts';

export function nativeGemm(_addon: NativeAddon): GemmKernels {
  return new Proxy({} as GemmKernels, {
    get(_t, name) {
      throw new Error(`native kernel ${String(name)} is not implemented yet`);
    },
  });
}
