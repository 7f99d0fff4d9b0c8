// Placeholder until the reduce kernels land: every function throws.
import type { NativeAddon } from '../../native-addon.ts';
import type { ReduceKernels } from '../types.ts';

export function nativeReduce(_addon: NativeAddon): ReduceKernels {
  return new Proxy({} as ReduceKernels, {
    get(_t, name) {
      throw new Error(`native kernel ${String(name)} is not implemented yet`);
    },
  });
}
