// Log-probabilities of a logits row as the API reports them: the chosen token's, its rank, and the most likely
// alternatives. Computed with the same log-softmax kernel as the in-process scorer (src/models/score.ts), over the
// whole row, so a log-likelihood evaluated through the server equals the one evaluated in-process.
import { kernels } from '../tensor/index.ts';

export interface TopEntry {
  id: number;
  logprob: number;
}

export interface TokenLogprob {
  id: number;
  logprob: number;
  /** 1 + the number of tokens more likely than this one (vLLM's rank). */
  rank: number;
  /** The `top` most likely tokens (ids below `vocabLimit`), most likely first; ties: lower id first. */
  top: TopEntry[];
}

/** The log-softmax of a logits row, into `out` when given (a scratch row reused from step to step). */
export function logSoftmaxRow(row: Float32Array, out: Float32Array = new Float32Array(row.length)): Float32Array {
  if (out.length !== row.length)
    throw new Error(`logSoftmaxRow: output holds ${out.length} values for a row of ${row.length}`);
  kernels().logSoftmax(row, out, 1, row.length);
  return out;
}

export function tokenLogprob(lsm: Float32Array, id: number, top: number, vocabLimit: number): TokenLogprob {
  const own = lsm[id];
  let rank = 1;
  for (let i = 0; i < lsm.length; i++) if (lsm[i] > own) rank++;
  return { id, logprob: own, rank, top: topEntries(lsm, top, vocabLimit) };
}

/** The k largest entries below `limit` by a bounded insertion (k is small: the API allows at most 20). */
function topEntries(lsm: Float32Array, k: number, limit: number): TopEntry[] {
  const best: TopEntry[] = [];
  if (k <= 0) return best;
  const n = Math.min(limit, lsm.length);
  for (let i = 0; i < n; i++) {
    const v = lsm[i];
    if (best.length === k && v <= best[k - 1].logprob) continue;
    let j = best.length < k ? best.length : k - 1;
    while (j > 0 && best[j - 1].logprob < v) j--;
    best.splice(j, 0, { id: i, logprob: v });
    if (best.length > k) best.pop();
  }
  return best;
}
