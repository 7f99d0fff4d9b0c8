// Native RMSNorm / LayerNorm: the addon's functions as they are (native/norms.cc validates every argument
// and throws a TypeError naming the kernel and argument).
import type { NativeAddon } from '../../native-addon.ts';
import type { NormKernels } from '../types.ts';

export function nativeNorms(addon: NativeAddon): NormKernels {
  const fn = <K extends keyof NormKernels>(name: K): NormKernels[K] => {
    const f = addon[name];
    if (typeof f !== 'function') throw new Error(`native addon lacks '${name}' (rebuild it)`);
    return f as unknown as NormKernels[K];
  };
  return {
    rmsNorm: fn('rmsNorm'),
    rmsNormBackward: fn('rmsNormBackward'),
    layerNorm: fn('layerNorm'),
    layerNormBackward: fn('layerNormBackward'),
  };
}
