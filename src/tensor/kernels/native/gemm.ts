// Native GEMM: forwards to the addon's `gemm` (native/gemm.cc validates every argument).
import type { NativeAddon } from '../../native-addon.ts';
import type { F32, GemmKernels } from '../types.ts';

type GemmFn = (
  a: F32, b: F32, c: F32, batch: number, m: number, n: number, k: number,
  transA: boolean, transB: boolean, strideA: number, strideB: number, strideC: number, accumulate: boolean,
) => void;

export function nativeGemm(addon: NativeAddon): GemmKernels {
  const gemm = addon.gemm as unknown as GemmFn;
  return {
    gemm(a, b, c, batch, m, n, k, transA, transB, strideA, strideB, strideC, accumulate) {
      gemm(a, b, c, batch, m, n, k, transA, transB, strideA, strideB, strideC, accumulate);
    },
  };
}
