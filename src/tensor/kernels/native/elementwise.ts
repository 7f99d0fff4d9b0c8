// Native elementwise kernels: thin forwarding to the addon (native/elementwise.cc validates every argument).
import type { NativeAddon } from '../../native-addon.ts';
import type { ElementwiseKernels } from '../types.ts';

type AddonFn = (...args: unknown[]) => void;

export function nativeElementwise(addon: NativeAddon): ElementwiseKernels {
  const fn = (name: string): AddonFn => {
    const f = addon[name] as unknown as AddonFn | undefined;
    if (typeof f !== 'function') throw new Error(`native addon lacks ${name}: rebuild it (npm run build:native)`);
    return f;
  };
  return {
    binary: (op, a, aStrides, b, bStrides, out, shape) => fn('binary')(op, a, aStrides, b, bStrides, out, shape),
    unary: (op, x, out, n, p0, p1) => fn('unary')(op, x, out, n, p0, p1),
    unaryBackward: (op, x, y, gy, gx, n, p0, p1) => fn('unaryBackward')(op, x, y, gy, gx, n, p0, p1),
    axpy: (x, y, n, alpha) => fn('axpy')(x, y, n, alpha),
    copyStrided: (x, offset, strides, out, shape) => fn('copyStrided')(x, offset, strides, out, shape),
    scatterStrided: (x, out, offset, strides, shape, accumulate) =>
      fn('scatterStrided')(x, out, offset, strides, shape, accumulate),
    swiglu: (gate, up, out, n) => fn('swiglu')(gate, up, out, n),
    swigluBackward: (gate, up, gOut, gGate, gUp, n) => fn('swigluBackward')(gate, up, gOut, gGate, gUp, n),
  };
}
