// The native backend: C++ kernels (AVX2/FMA chosen at run time, a persistent thread pool) behind N-API.
import type { NativeAddon } from '../../native-addon.ts';
import type { Kernels } from '../types.ts';
import { nativeAttention } from './attention.ts';
import { nativeConvert } from './convert.ts';
import { nativeElementwise } from './elementwise.ts';
import { nativeGemm } from './gemm.ts';
import { nativeIndexing } from './indexing.ts';
import { nativeLosses } from './losses.ts';
import { nativeNorms } from './norms.ts';
import { nativeOptim } from './optim.ts';
import { nativeReduce } from './reduce.ts';
import { nativeRope } from './rope.ts';

export function createNativeKernels(addon: NativeAddon): Kernels {
  return Object.freeze({
    name: 'native' as const,
    ...nativeGemm(addon),
    ...nativeElementwise(addon),
    ...nativeReduce(addon),
    ...nativeNorms(addon),
    ...nativeRope(addon),
    ...nativeAttention(addon),
    ...nativeLosses(addon),
    ...nativeIndexing(addon),
    ...nativeOptim(addon),
    ...nativeConvert(addon),
  });
}
