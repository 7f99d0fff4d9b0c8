// Pieces of the post-training stages (SFT, DPO) on top of src/train: the optimizer, the LR schedule from a warmup
// ratio, a deterministic epoch order (so the data position is a function of the step and a resumed run is exact)
// and micro-batching (optionally length-packed).
import { permutation } from '../../data/index.ts';
import type { CausalLM } from '../../models/index.ts';
import { AdamW, lrAt, type Schedule } from '../../train/index.ts';
import type { OptimizerConfig } from './config.ts';

export function makeOptimizer(model: CausalLM, o: OptimizerConfig): AdamW {
  const groups = [...model.namedParameters()].map(([name, param]) => ({ name, param, weightDecay: o.weightDecay }));
  return new AdamW(groups, { lr: 1, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay });
}

/** HF's schedules with a warmup ratio: warmup = ceil(ratio × total) steps, then linear (or cosine) decay to 0. */
export function warmupRatioSchedule(
  s: { lr: number; schedule: 'linear' | 'cosine' | 'constant'; warmupRatio: number },
  totalSteps: number,
): Schedule {
  return {
    kind: s.schedule,
    peak: s.lr,
    warmupSteps: Math.ceil(s.warmupRatio * totalSteps),
    alphaF: 0,
    horizon: totalSteps,
    decaySteps: 0,
    warmupMinLr: 0,
  };
}

export { lrAt };

/**
 * The order of the examples: a fresh seeded permutation per epoch, global batches of `batchSize` (the last one of
 * an epoch may be smaller, as a DataLoader without drop_last gives it).
 */
export class EpochPlan {
  readonly batchesPerEpoch: number;
  readonly totalSteps: number;
  private cache: { epoch: number; order: Uint32Array } | null = null;

  constructor(
    readonly examples: number,
    readonly batchSize: number,
    readonly epochs: number,
    readonly seed: number,
  ) {
    if (examples <= 0) throw new Error('no training examples');
    this.batchesPerEpoch = Math.ceil(examples / batchSize);
    this.totalSteps = this.batchesPerEpoch * epochs;
  }

  /** Example indices of optimizer step `step` (0-based) and its epoch. */
  batch(step: number): { epoch: number; indices: number[] } {
    const epoch = Math.floor(step / this.batchesPerEpoch);
    const b = step % this.batchesPerEpoch;
    if (this.cache?.epoch !== epoch)
      this.cache = { epoch, order: permutation(this.examples, this.seed, `posttrain-epoch-${epoch}`) };
    return {
      epoch,
      indices: Array.from(
        this.cache.order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, this.examples)),
      ),
    };
  }
}

/**
 * Splits a global batch into micro-batches. Without packing: consecutive groups of `microBatchSize` sequences.
 * With packing: sequences sorted by length and filled greedily into micro-batches whose padded size
 * (rows × longest) stays within `tokenBudget` — one conversation per row, so no cross-document attention, and
 * far less padding. The loss is a sum over tokens, so the grouping changes only the speed, not the gradient.
 */
export function microBatches(
  indices: readonly number[],
  lengths: (i: number) => number,
  opts: { microBatchSize: number; packing?: boolean; tokenBudget?: number },
): number[][] {
  if (!opts.packing) {
    const out: number[][] = [];
    for (let i = 0; i < indices.length; i += opts.microBatchSize) out.push(indices.slice(i, i + opts.microBatchSize));
    return out;
  }
  const budget = opts.tokenBudget ?? Infinity;
  const sorted = [...indices].sort((a, b) => lengths(b) - lengths(a) || a - b);
  const out: number[][] = [];
  let cur: number[] = [];
  let longest = 0;
  for (const i of sorted) {
    const len = lengths(i);
    const nextLongest = Math.max(longest, len);
    if (cur.length > 0 && (nextLongest * (cur.length + 1) > budget || cur.length >= opts.microBatchSize)) {
      out.push(cur);
      cur = [];
      longest = 0;
    }
    cur.push(i);
    longest = Math.max(longest, len);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Weighted mean helper for metrics. */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}
