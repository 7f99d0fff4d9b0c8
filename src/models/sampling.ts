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
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`temperature must be ≥ 0, got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`top-k must be a non-negative integer, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`top-p must be in (0, 1], got ${topP}`);
}

/** Index of the largest logit (the first on ties). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export function sampleToken(logits: Float32Array, p: SamplingParams, gen: Generator): number {
  const { temperature = 0, topK = 0, topP = 1 } = p;
  if (temperature === 0) return argmax(logits);
  const n = logits.length;
  let order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => logits[b] - logits[a] || a - b);
  if (topK > 0 && topK < n) order = order.slice(0, topK);
  const maxLogit = logits[order[0]];
  const probs = order.map((i) => Math.exp((logits[i] - maxLogit) / temperature));
  let total = probs.reduce((s, x) => s + x, 0);
  if (topP < 1) {
    let cumulative = 0;
    let keep = probs.length;
    for (let j = 0; j < probs.length; j++) {
      cumulative += probs[j] / total;
      if (cumulative >= topP) {
        keep = j + 1;
        break;
      }
    }
    order = order.slice(0, keep);
    probs.length = keep;
    total = probs.reduce((s, x) => s + x, 0);
  }
  let u = gen.uniform() * total;
  for (let j = 0; j < order.length; j++) {
    u -= probs[j];
    if (u < 0) return order[j];
  }
  return order[order.length - 1];
}
