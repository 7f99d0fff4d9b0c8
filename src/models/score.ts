// Log-likelihood scoring for evaluation, with lm-eval's `loglikelihood` semantics: for each (context,
// continuation) pair, the log-probability of every continuation token given everything before it, their
// sum, and whether greedy decoding would have produced the continuation. Each distinct context is run once
// (prefilled into a KV cache) and forked for all of its continuations.
//
// Batching: contexts are prefilled several at a time (right-padded to the longest of the batch), and the
// continuations after them run several at a time on copies of their contexts' cache rows (right-padded to the
// longest). Batch invariance: a request's numbers never depend on which other requests are scored with it —
// every kernel treats a row independently of the others (the GEMMs sum each element in one order whatever
// the row count) and forward's `lengths` makes the right padding invisible to the real tokens even where a
// kernel's rounding would see it (attention). So batched scoring equals one request at a time bit for bit,
// and one at a time is a prefill of the context alone and a forward of the continuation alone, as before.
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
  /** Contexts, and continuations, run together in one forward pass (default 16); results never depend on it. */
  batchSize?: number;
  /**
   * Most padded tokens in one forward pass (default 512): batching pays for short inputs, whose forward passes
   * are too small to keep the cores busy; long ones already are, and a bigger batch only spills the caches.
   * An input longer than this runs alone.
   */
  batchTokens?: number;
  /** Context length of the model (default: max_position_embeddings); longer inputs lose context tokens from the left. */
  maxLength?: number;
  /** Called after each batch of contexts with (requests done, total). */
  onProgress?: (done: number, total: number) => void;
}

interface Group {
  context: number[];
  members: number[];
}

export function scoreLoglikelihood(
  model: CausalLM,
  requests: readonly LoglikelihoodRequest[],
  opts: ScoreOptions = {},
): LoglikelihoodResult[] {
  const batchSize = opts.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const batchTokens = opts.batchTokens ?? 512;
  if (!Number.isInteger(batchTokens) || batchTokens < 1)
    throw new Error(`batchTokens must be a positive integer, got ${batchTokens}`);
  const maxLength = opts.maxLength ?? model.config.maxPositionEmbeddings;
  const groups = groupByContext(model, requests, maxLength);
  // Similar lengths side by side, so that batches carry little padding (the order changes no number).
  groups.sort((a, b) => a.context.length - b.context.length);
  const limits = { batchSize, batchTokens };
  const results: LoglikelihoodResult[] = new Array(requests.length);
  let done = 0;
  noGrad(() => {
    for (const chunk of batches(groups, (g) => g.context.length, limits)) {
      scoreContextBatch(model, chunk, requests, limits, results);
      done += chunk.reduce((n, g) => n + g.members.length, 0);
      opts.onProgress?.(done, requests.length);
    }
  });
  return results;
}

/** Checks the requests and groups them by their (left-truncated) context. */
function groupByContext(model: CausalLM, requests: readonly LoglikelihoodRequest[], maxLength: number): Group[] {
  const vocab = model.config.vocabSize;
  const groups = new Map<string, Group>();
  requests.forEach((r, i) => {
    if (r.continuation.length === 0) throw new Error(`request ${i}: the continuation is empty`);
    if (r.context.length === 0)
      throw new Error(`request ${i}: the context is empty (use the EOS token as context for unconditional scoring)`);
    for (const id of [...r.context, ...r.continuation]) {
      if (!Number.isInteger(id) || id < 0 || id >= vocab)
        throw new Error(`request ${i}: token id ${id} is outside the vocabulary [0, ${vocab})`);
    }
    if (r.continuation.length > maxLength) {
      throw new Error(
        `request ${i}: continuation of ${r.continuation.length} tokens exceeds the model's context length ${maxLength}`,
      );
    }
    // lm-eval: the model sees (context + continuation)[-(maxLength + 1):][:-1]; the context is truncated on the left.
    const keep = Math.max(1, maxLength + 1 - r.continuation.length);
    const context = r.context.slice(-keep);
    const key = context.join(',');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { context, members: [] }));
    g.members.push(i);
  });
  return [...groups.values()];
}

/** Consecutive runs of items, each at most batchSize long and (beyond its first item) batchTokens padded tokens. */
function* batches<T>(
  items: readonly T[],
  length: (item: T) => number,
  limits: { batchSize: number; batchTokens: number },
): Generator<T[]> {
  let run: T[] = [];
  let width = 0;
  for (const item of items) {
    const w = Math.max(width, length(item));
    if (run.length > 0 && (run.length === limits.batchSize || (run.length + 1) * w > limits.batchTokens)) {
      yield run;
      run = [];
    }
    width = run.length === 0 ? length(item) : w;
    run.push(item);
  }
  if (run.length > 0) yield run;
}

/**
 * Prefills a batch of contexts (right-padded to the longest) into one cache, then scores their requests: a
 * one-token continuation from its context's last logits, longer ones in batches on copies of the cache rows.
 */
function scoreContextBatch(
  model: CausalLM,
  chunk: Group[],
  requests: readonly LoglikelihoodRequest[],
  limits: { batchSize: number; batchTokens: number },
  results: LoglikelihoodResult[],
): void {
  const steps = (m: number) => requests[m].continuation.length - 1;
  const width = Math.max(...chunk.map((g) => g.context.length));
  const longest = Math.max(...chunk.flatMap((g) => g.members.map(steps)));
  const cache = model.createCache(chunk.length, width + longest);
  try {
    const lastRows = forwardRows(
      model,
      cache,
      chunk.map((g) => g.context),
      true,
    );
    cache.lengths.set(chunk.map((g) => g.context.length));
    const rowOf = new Map<number, number>();
    chunk.forEach((g, row) => g.members.forEach((m) => rowOf.set(m, row)));
    const longer: number[] = [];
    for (const [m, row] of rowOf) {
      if (steps(m) === 0) results[m] = scoreRows([lastRows[row][0]], requests[m].continuation);
      else longer.push(m);
    }
    longer.sort((a, b) => steps(a) - steps(b));
    for (const members of batches(longer, steps, limits)) {
      const forked = cache.select(members.map((m) => rowOf.get(m)!));
      try {
        const rows = forwardRows(
          model,
          forked,
          members.map((m) => requests[m].continuation.slice(0, -1)),
          false,
        );
        members.forEach(
          (m, i) => (results[m] = scoreRows([lastRows[rowOf.get(m)!][0], ...rows[i]], requests[m].continuation)),
        );
      } finally {
        forked.dispose();
      }
    }
  } finally {
    cache.dispose();
  }
}

/**
 * One forward of token rows right-padded to the longest (forward's `lengths` keeps the padding out of the real
 * tokens' numbers) after what `cache` holds; returns each input row's logit rows: all its tokens', or only its
 * last token's when `lastOnly` (forward's logitsAt: the LM head runs on those rows alone).
 */
function forwardRows(
  model: CausalLM,
  cache: KVCache,
  inputs: readonly (readonly number[])[],
  lastOnly: boolean,
): Float32Array[][] {
  const width = Math.max(...inputs.map((r) => r.length));
  const ids = new Int32Array(inputs.length * width).fill(model.config.padTokenId ?? 0);
  inputs.forEach((r, b) => ids.set(r, b * width));
  return tidy(() => {
    const { logits } = model.forward(tensor(ids, [inputs.length, width], 'i32'), {
      cache,
      lengths: inputs.map((r) => r.length),
      logitsAt: lastOnly ? inputs.map((r) => r.length - 1) : undefined,
    });
    const [t, v] = [logits.shape[1], logits.shape[2]];
    const d = logits.f32();
    const row = (b: number, j: number) => d.slice((b * t + j) * v, (b * t + j + 1) * v);
    return inputs.map((r, b) => (lastOnly ? [row(b, 0)] : Array.from({ length: r.length }, (_, j) => row(b, j))));
  });
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
