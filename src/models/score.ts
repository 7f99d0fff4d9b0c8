// Log-likelihood scoring for evaluation, with lm-eval's `loglikelihood` semantics: for each (context,
// continuation) pair, the log-probability of every continuation token given everything before it, their
// sum, and whether greedy decoding would have produced the continuation. Each distinct context is run once
// (prefilled into a KV cache) and forked for all of its continuations.
//
// Batch invariance: a request's numbers never depend on which other requests are scored with it. Each
// context is prefilled on its own and each continuation runs on its own fork of that context's cache, so every
// kernel call a request makes has the same shapes — and so the same arithmetic — whatever the batch. (The f32
// GEMM is now batch-invariant — every path sums each element in one order, native/gemm_problem.h — so
// merging requests into one padded forward is the next step; it is not done yet.)
import { KVCache } from '../nn/index.ts';
import { kernels, noGrad, tensor, tidy } from '../tensor/index.ts';
import type { CausalLM } from './decoder.ts';

export interface LoglikelihoodRequest {
  context: readonly number[];
  continuation: readonly number[];
}

export interface LoglikelihoodResult {
  /** Log-probability of each continuation token. */
  logprobs: number[];
  sum: number;
  /** Whether each continuation token is the argmax at its position. */
  isGreedy: boolean;
}

export interface ScoreOptions {
  /** Context groups scored between progress callbacks (default 8); results never depend on it. */
  batchSize?: number;
  /** Context length of the model (default: max_position_embeddings); longer inputs lose context tokens from the left. */
  maxLength?: number;
  /** Called after each context group with (requests done, total). */
  onProgress?: (done: number, total: number) => void;
}

interface Group {
  context: number[];
  members: number[];
}

export function scoreLoglikelihood(model: CausalLM, requests: readonly LoglikelihoodRequest[], opts: ScoreOptions = {}): LoglikelihoodResult[] {
  const batchSize = opts.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const maxLength = opts.maxLength ?? model.config.maxPositionEmbeddings;
  const vocab = model.config.vocabSize;
  const groups = new Map<string, Group>();
  requests.forEach((r, i) => {
    if (r.continuation.length === 0) throw new Error(`request ${i}: the continuation is empty`);
    if (r.context.length === 0) throw new Error(`request ${i}: the context is empty (use the EOS token as context for unconditional scoring)`);
    for (const id of [...r.context, ...r.continuation]) {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new Error(`request ${i}: token id ${id} is outside the vocabulary [0, ${vocab})`);
    }
    if (r.continuation.length > maxLength) {
      throw new Error(`request ${i}: continuation of ${r.continuation.length} tokens exceeds the model's context length ${maxLength}`);
    }
    // lm-eval: the model sees (context + continuation)[-(maxLength + 1):][:-1]; the context is truncated on the left.
    const keep = Math.max(1, maxLength + 1 - r.continuation.length);
    const context = r.context.slice(-keep);
    const key = context.join(',');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { context, members: [] }));
    g.members.push(i);
  });

  const results: LoglikelihoodResult[] = new Array(requests.length);
  const all = [...groups.values()];
  let done = 0;
  noGrad(() => {
    all.forEach((g, gi) => {
      const { cache, lastRow } = prefill(model, g.context);
      try {
        for (const m of g.members) results[m] = scoreContinuation(model, cache, lastRow, requests[m].continuation);
      } finally {
        cache.dispose();
      }
      done += g.members.length;
      if ((gi + 1) % batchSize === 0 || gi === all.length - 1) opts.onProgress?.(done, requests.length);
    });
  });
  return results;
}

/** Runs one context into a fresh cache; returns it and the context's last logit row. */
function prefill(model: CausalLM, context: number[]): { cache: KVCache; lastRow: Float32Array } {
  const cache = model.createCache(1, context.length);
  const lastRow = tidy(() => {
    const { logits } = model.forward(tensor(Int32Array.from(context), [1, context.length], 'i32'), { cache });
    const v = logits.shape[2];
    return logits.f32().slice((context.length - 1) * v, context.length * v);
  });
  return { cache, lastRow };
}

/** Log-probabilities of a continuation after a prefilled context (row 0 of its logits is the context's last). */
function scoreContinuation(model: CausalLM, cache: KVCache, lastRow: Float32Array, continuation: readonly number[]): LoglikelihoodResult {
  const rows: Float32Array[] = [lastRow];
  const steps = continuation.length - 1;
  if (steps > 0) {
    const forked = KVCache.forkFrom(cache, 0, 1, cache.lengths[0] + steps);
    try {
      tidy(() => {
        const { logits } = model.forward(tensor(Int32Array.from(continuation.slice(0, steps)), [1, steps], 'i32'), { cache: forked });
        const v = logits.shape[2];
        const d = logits.f32();
        for (let j = 0; j < steps; j++) rows.push(d.slice(j * v, (j + 1) * v));
      });
    } finally {
      forked.dispose();
    }
  }
  return scoreRows(rows, continuation);
}

function scoreRows(rows: Float32Array[], continuation: readonly number[]): LoglikelihoodResult {
  const logprobs: number[] = [];
  let isGreedy = true;
  const k = kernels();
  for (let j = 0; j < continuation.length; j++) {
    const row = rows[j];
    const lsm = new Float32Array(row.length);
    k.logSoftmax(row, lsm, 1, row.length);
    const tok = continuation[j];
    logprobs.push(lsm[tok]);
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    if (best !== tok) isGreedy = false;
  }
  // Summed in float64 in a fixed order, so the total is batch-invariant too.
  return { logprobs, sum: logprobs.reduce((a, b) => a + b, 0), isGreedy };
}
