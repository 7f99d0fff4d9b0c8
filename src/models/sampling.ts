// Choosing the next token from a row of logits: greedy, or sampling with temperature, top-k and top-p
// (nucleus), from a seeded generator so runs reproduce.
import type { Generator } from '../tensor/index.ts';

export interface SamplingParams {
  /** 0 (default) is greedy. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 or undefined: all). */
  topP?: number;
}

export function validateSampling(p: SamplingParams): void {
  const { temperature = 0, topK = 0, topP = 1 } = p;
  if (!(temperature >= 0) || !Number.isFinite(temperature))
    throw new Error(`temperature must be ≥ 0, got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`top-k must be a non-negative integer, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`top-p must be in (0, 1], got ${topP}`);
}

/** Index of the largest logit (the first on ties). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * The next token: the argmax at temperature 0; otherwise a draw from softmax(logits / temperature), restricted
 * to the top-k and then the top-p nucleus when those are set. One uniform from `gen` per draw.
 */
export function sampleToken(logits: Float32Array, p: SamplingParams, gen: Generator): number {
  const { temperature = 0, topK = 0, topP = 1 } = p;
  if (temperature === 0) return argmax(logits);
  const n = logits.length;
  if ((topK === 0 || topK >= n) && topP >= 1) return sampleFullVocabulary(logits, temperature, gen);
  return sampleTruncated(logits, temperature, topK > 0 && topK < n ? topK : n, topP, gen);
}

/**
 * Plain temperature sampling: one pass in vocabulary order, as torch.multinomial draws (no sort: a sort per
 * token is most of a decode step's time at real vocabulary sizes).
 */
function sampleFullVocabulary(logits: Float32Array, temperature: number, gen: Generator): number {
  const n = logits.length;
  let maxLogit = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > maxLogit) maxLogit = logits[i];
  const weights = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i] = Math.exp((logits[i] - maxLogit) / temperature);
  let u = gen.uniform() * total;
  let last = 0;
  for (let i = 0; i < n; i++) {
    if (weights[i] === 0) continue;
    last = i;
    u -= weights[i];
    if (u < 0) return i;
  }
  return last; // rounding left u just above the total: the last token with any weight
}

/**
 * Top-k / top-p: the candidates in order of decreasing logit (ties: lower id first), the k best, then the
 * shortest prefix whose probability reaches p, renormalised; the draw walks them in that order. The cut-off is
 * found on a natively sorted copy of the values, so only the kept candidates are sorted by the (slow) comparator.
 */
function sampleTruncated(logits: Float32Array, temperature: number, k: number, topP: number, gen: Generator): number {
  const values = Float32Array.from(logits).sort().reverse();
  const maxLogit = values[0];
  const weights = new Float64Array(k);
  let total = 0;
  for (let j = 0; j < k; j++) total += weights[j] = Math.exp((values[j] - maxLogit) / temperature);
  let keep = k;
  if (topP < 1) {
    let cumulative = 0;
    for (let j = 0; j < k; j++) {
      cumulative += weights[j] / total;
      if (cumulative >= topP) {
        keep = j + 1;
        break;
      }
    }
  }
  const threshold = values[keep - 1];
  const order: number[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i] >= threshold) order.push(i);
  order.sort((a, b) => logits[b] - logits[a] || a - b);
  order.length = keep;
  let kept = 0;
  for (let j = 0; j < keep; j++) kept += weights[j];
  let u = gen.uniform() * kept;
  for (let j = 0; j < keep; j++) {
    u -= weights[j];
    if (u < 0) return order[j];
  }
  return order[keep - 1];
}
