// Native dtype conversions: thin forwarding to the addon (native/convert.cc validates every argument).
import type { NativeAddon } from '../../native-addon.ts';
import type { ConvertKernels } from '../types.ts';

type AddonFn = (...args: unknown[]) => void;

export function nativeConvert(addon: NativeAddon): ConvertKernels {
  const fn = (name: string): AddonFn => {
    const f = addon[name] as unknown as AddonFn | undefined;
    if (typeof f !== 'function') throw new Error(`native addon lacks ${name}: rebuild it (npm run build:native)`);
    return f;
  };
  return {
    f32ToBf16: (src, dst, n) => fn('f32ToBf16')(src, dst, n),
    bf16ToF32: (src, dst, n) => fn('bf16ToF32')(src, dst, n),
    f32ToF16: (src, dst, n) => fn('f32ToF16')(src, dst, n),
    f16ToF32: (src, dst, n) => fn('f16ToF32')(src, dst, n),
  };
}
