// Native optimizer kernels: thin forwarding to the addon (native/optim.cc validates every argument).
import type { NativeAddon } from '../../native-addon.ts';
import type { OptimKernels } from '../types.ts';

type AddonFn = (...args: unknown[]) => void;

export function nativeOptim(addon: NativeAddon): OptimKernels {
  const fn = (name: string): AddonFn => {
    const f = addon[name] as unknown as AddonFn | undefined;
    if (typeof f !== 'function') throw new Error(`native addon lacks ${name}: rebuild it (npm run build:native)`);
    return f;
  };
  return {
    adamw: (param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale) =>
      fn('adamw')(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale),
  };
}
