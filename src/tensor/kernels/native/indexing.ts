// Native indexing kernels: thin forwarding to the addon (native/indexing.cc validates every argument and index).
import type { NativeAddon } from '../../native-addon.ts';
import type { IndexingKernels } from '../types.ts';

type AddonFn = (...args: unknown[]) => void;

export function nativeIndexing(addon: NativeAddon): IndexingKernels {
  const fn = (name: string): AddonFn => {
    const f = addon[name] as unknown as AddonFn | undefined;
    if (typeof f !== 'function') throw new Error(`native addon lacks ${name}: rebuild it (npm run build:native)`);
    return f;
  };
  return {
    gatherRows: (src, idx, out, n, rowSize, srcRows) => fn('gatherRows')(src, idx, out, n, rowSize, srcRows),
    scatterAddRows: (src, idx, out, n, rowSize, outRows) =>
      fn('scatterAddRows')(src, idx, out, n, rowSize, outRows),
  };
}
