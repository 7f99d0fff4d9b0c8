// OLMES's MCAccuracy (oe_eval/metrics/metric.py process_one_doc) as pure functions: the normalisations
// none / per-token / per-character / per-byte / PMI, the acc_* metrics with ties to the lowest index, and the
// mean over docs. Character counts are code points of the continuation INCLUDING its leading space (OLMES, not
// lm-eval's acc_norm); byte counts are UTF-8; every count is floored at 1.
import { pyLen, utf8Length } from '../pycompat/pystr.ts';

export type Normalization = 'none' | 'token' | 'char' | 'byte' | 'pmi';

/** The metric each normalisation selects by (OLMES names). */
export const NORMALIZATION_METRIC: Record<Normalization, McMetricName> = {
  none: 'acc_raw',
  token: 'acc_per_token',
  char: 'acc_per_char',
  byte: 'acc_per_byte',
  pmi: 'acc_uncond',
};

export type McMetricName = 'acc_raw' | 'acc_per_token' | 'acc_per_char' | 'acc_per_byte' | 'acc_uncond';

/** One choice's scores: S_i with its token count and continuation string, and U_i when PMI is computed. */
export interface ChoiceScore {
  logprob: number;
  numTokens: number;
  continuation: string;
  uncondLogprob?: number;
}

const LOG2_E = 1 / Math.LN2;

export function charCount(continuation: string): number {
  return Math.max(1, pyLen(continuation));
}
export function byteCount(continuation: string): number {
  return Math.max(1, utf8Length(continuation));
}

/** bits per byte of a choice: −log2(e)·S/B. */
export function bitsPerByte(logprob: number, continuation: string): number {
  return (-LOG2_E * logprob) / byteCount(continuation);
}

/** Index of the largest value; the lowest index wins ties (numpy argmax). NaN never wins. */
export function argmax(values: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    if (best < 0 || values[i] > values[best]) best = i;
  }
  return best < 0 ? 0 : best;
}

/** Index of the smallest value; the lowest index wins ties (numpy argmin). */
export function argmin(values: readonly number[]): number {
  return argmax(values.map((v) => -v));
}

/** The per-choice score a normalisation ranks by (larger is better). */
export function normalizedScores(kind: Normalization, choices: readonly ChoiceScore[]): number[] {
  switch (kind) {
    case 'none':
      return choices.map((c) => c.logprob);
    case 'token':
      return choices.map((c) => c.logprob / Math.max(1, c.numTokens));
    case 'char':
      return choices.map((c) => c.logprob / charCount(c.continuation));
    case 'byte':
      return choices.map((c) => -bitsPerByte(c.logprob, c.continuation));
    case 'pmi':
      return choices.map((c, i) => {
        if (c.uncondLogprob === undefined)
          throw new Error(`PMI normalisation: choice ${i} has no unconditioned log-prob`);
        return c.logprob - c.uncondLogprob;
      });
  }
}

export interface McDocMetrics {
  [key: string]: number;
}

/**
 * Per-doc metrics as OLMES writes them in predictions.jsonl: predicted_index_{raw,per_token,per_char,per_byte[,uncond]},
 * correct_choice, acc_*, sum_logits_corr, logits_per_token_corr, logits_per_char_corr, bits_per_byte_corr.
 * acc_uncond is present only when every choice has an unconditioned log-prob.
 */
export function mcDocMetrics(choices: readonly ChoiceScore[], gold: number): McDocMetrics {
  if (choices.length === 0) throw new Error('mcDocMetrics: a doc with no choices');
  if (!Number.isInteger(gold) || gold < 0 || gold >= choices.length) {
    throw new Error(`mcDocMetrics: gold index ${gold} out of range for ${choices.length} choices`);
  }
  const raw = argmax(normalizedScores('none', choices));
  const perToken = argmax(normalizedScores('token', choices));
  const perChar = argmax(normalizedScores('char', choices));
  const perByte = argmin(choices.map((c) => bitsPerByte(c.logprob, c.continuation)));
  const g = choices[gold];
  const out: McDocMetrics = {
    predicted_index_raw: raw,
    predicted_index_per_token: perToken,
    predicted_index_per_char: perChar,
    predicted_index_per_byte: perByte,
    correct_choice: gold,
    acc_raw: raw === gold ? 1 : 0,
    acc_per_token: perToken === gold ? 1 : 0,
    acc_per_char: perChar === gold ? 1 : 0,
    acc_per_byte: perByte === gold ? 1 : 0,
    sum_logits_corr: g.logprob,
    logits_per_token_corr: g.logprob / Math.max(1, g.numTokens),
    logits_per_char_corr: g.logprob / charCount(g.continuation),
    bits_per_byte_corr: bitsPerByte(g.logprob, g.continuation),
  };
  if (choices.every((c) => c.uncondLogprob !== undefined)) {
    const uncond = argmax(normalizedScores('pmi', choices));
    out.predicted_index_uncond = uncond;
    out.acc_uncond = uncond === gold ? 1 : 0;
  }
  return out;
}

/** Task-level metrics: the mean over docs of every numeric per-doc metric except the indices. */
export function meanMetrics(perDoc: readonly Record<string, number>[]): Record<string, number> {
  const skip = (k: string) => k.startsWith('predicted_index') || k === 'correct_choice';
  const sums = new Map<string, { sum: number; n: number }>();
  for (const m of perDoc) {
    for (const [k, v] of Object.entries(m)) {
      if (skip(k) || typeof v !== 'number') continue;
      const e = sums.get(k) ?? { sum: 0, n: 0 };
      e.sum += v;
      e.n += 1;
      sums.set(k, e);
    }
  }
  const out: Record<string, number> = {};
  for (const [k, { sum, n }] of sums) out[k] = sum / n;
  return out;
}
