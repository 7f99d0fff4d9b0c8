// The pure-TypeScript reference backend: every kernel, written for clarity over speed.
import type { Kernels } from '../types.ts';
import { jsAttention } from './attention.ts';
import { jsConvert } from './convert.ts';
import { jsElementwise } from './elementwise.ts';
import { jsGemm } from './gemm.ts';
import { jsIndexing } from './indexing.ts';
import { jsLosses } from './losses.ts';
import { jsNorms } from './norms.ts';
import { jsOptim } from './optim.ts';
import { jsReduce } from './reduce.ts';
import { jsRope } from './rope.ts';
import { jsWgemm } from './wgemm.ts';

export const jsKernels: Kernels = Object.freeze({
  name: 'js' as const,
  ...bindAll(jsGemm),
  ...bindAll(jsElementwise),
  ...bindAll(jsReduce),
  ...bindAll(jsNorms),
  ...bindAll(jsRope),
  ...bindAll(jsAttention),
  ...bindAll(jsLosses),
  ...bindAll(jsIndexing),
  ...bindAll(jsOptim),
  ...bindAll(jsConvert),
  ...bindAll(jsWgemm),
});

function bindAll<T extends object>(family: T): T {
  return { ...family };
}
