// Native fused cross-entropy: the addon's functions as they are (native/losses.cc validates every argument;
// an out-of-range target throws a RangeError naming the row and value).
import type { NativeAddon } from '../../native-addon.ts';
import type { LossKernels } from '../types.ts';

export function nativeLosses(addon: NativeAddon): LossKernels {
  const fn = <K extends keyof LossKernels>(name: K): LossKernels[K] => {
    const f = addon[name];
    if (typeof f !== 'function') throw new Error(`native addon lacks '${name}' (rebuild it)`);
    return f as unknown as LossKernels[K];
  };
  return {
    crossEntropy: fn('crossEntropy'),
    crossEntropyBackward: fn('crossEntropyBackward'),
  };
}
