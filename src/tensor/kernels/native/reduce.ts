// Native reductions, softmax family and top-k: the addon's functions as they are (native/reduce.cc
// validates every argument and throws a TypeError naming the kernel and argument).
import type { NativeAddon } from '../../native-addon.ts';
import type { ReduceKernels } from '../types.ts';

export function nativeReduce(addon: NativeAddon): ReduceKernels {
  const fn = <K extends keyof ReduceKernels>(name: K): ReduceKernels[K] => {
    const f = addon[name];
    if (typeof f !== 'function') throw new Error(`native addon lacks '${name}' (rebuild it)`);
    return f as unknown as ReduceKernels[K];
  };
  return {
    reduceSum: fn('reduceSum'),
    reduceMax: fn('reduceMax'),
    sumSquares: fn('sumSquares'),
    softmax: fn('softmax'),
    softmaxBackward: fn('softmaxBackward'),
    logSoftmax: fn('logSoftmax'),
    logSoftmaxBackward: fn('logSoftmaxBackward'),
    topk: fn('topk'),
  };
}
