// Log-likelihood scoring for evaluation, with lm-eval's `loglikelihood` semantics: for each (context,
// continuation) pair, the log-probability of every continuation token given everything before it, their
// sum, and whether greedy decoding would have produced the continuation. Each distinct context is run once
// (prefilled into a KV cache) and forked for all of its continuations.
//
// Batch invariance: every kernel computes a row of its output with the same arithmetic whatever the other
// rows are, so a request's numbers do not depend on which requests share its batch.
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
  /** Contexts prefilled together, and continuations run together (default 8). */
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
    for (let start = 0; start < all.length; start += batchSize) {
      const chunk = all.slice(start, start + batchSize);
      const { cache, lastRows } = prefill(model, chunk.map((g) => g.context));
      try {
        chunk.forEach((g, ci) => {
          scoreGroup(model, g, requests, cache, ci, lastRows[ci], batchSize, results);
          done += g.members.length;
        });
      } finally {
        cache.dispose();
      }
      opts.onProgress?.(done, requests.length);
    }
  });
  return results;
}

/** Runs the contexts (right-padded) into a cache; returns it and each context's last logit row. */
function prefill(model: CausalLM, contexts: number[][]): { cache: KVCache; lastRows: Float32Array[] } {
  const maxLen = Math.max(...contexts.map((c) => c.length));
  const cache = model.createCache(contexts.length, maxLen);
  const pad = model.config.padTokenId ?? 0;
  const lastRows = tidy(() => {
    const ids = new Int32Array(contexts.length * maxLen).fill(pad);
    contexts.forEach((c, b) => ids.set(c, b * maxLen));
    const { logits } = model.forward(tensor(ids, [contexts.length, maxLen], 'i32'), { cache });
    const v = logits.shape[2];
    const d = logits.f32();
    return contexts.map((c, b) => d.slice((b * maxLen + c.length - 1) * v, (b * maxLen + c.length) * v));
  });
  contexts.forEach((c, b) => (cache.lengths[b] = c.length));
  return { cache, lastRows };
}

function scoreGroup(
  model: CausalLM,
  g: Group,
  requests: readonly LoglikelihoodRequest[],
  cache: KVCache,
  index: number,
  lastRow: Float32Array,
  batchSize: number,
  results: LoglikelihoodResult[],
): void {
  const pad = model.config.padTokenId ?? 0;
  for (let s = 0; s < g.members.length; s += batchSize) {
    const members = g.members.slice(s, s + batchSize);
    const conts = members.map((m) => requests[m].continuation);
    const steps = Math.max(...conts.map((c) => c.length)) - 1;
    // Row j of each continuation's logits predicts token j: row 0 is the context's last row.
    const rows: Float32Array[][] = conts.map(() => [lastRow]);
    if (steps > 0) {
      const forked = KVCache.forkFrom(cache, index, members.length, g.context.length + steps);
      try {
        tidy(() => {
          const ids = new Int32Array(members.length * steps).fill(pad);
          conts.forEach((c, b) => ids.set(c.slice(0, c.length - 1), b * steps));
          const { logits } = model.forward(tensor(ids, [members.length, steps], 'i32'), { cache: forked });
          const v = logits.shape[2];
          const d = logits.f32();
          conts.forEach((c, b) => {
            for (let j = 0; j < c.length - 1; j++) rows[b].push(d.slice((b * steps + j) * v, (b * steps + j + 1) * v));
          });
        });
      } finally {
        forked.dispose();
      }
    }
    members.forEach((m, b) => {
      results[m] = scoreRows(rows[b], conts[b]);
    });
  }
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
