// WorldValuesBench's metric (evaluation/evaluate.py, evaluation_and_plot.ipynb): per question, the Wasserstein-1
// distance between the human and the model answer samples after min-max normalisation with the question's scale,
// x' = (x − min)/(max − min), NOT clipped; the headline is the share of questions with W1 within 0.2.
//
// `wasserstein1` is scipy.stats.wasserstein_distance in 1-D: ∫|F_u − F_v| dx over the merged sorted support, with
// optional weights (our log-probability variant gives a weighted model distribution).

export function wasserstein1(
  u: readonly number[],
  v: readonly number[],
  uWeights?: readonly number[],
  vWeights?: readonly number[],
): number {
  if (u.length === 0 || v.length === 0)
    throw new Error(`wasserstein1: empty sample (${u.length} and ${v.length} values)`);
  const check = (w: readonly number[] | undefined, n: number, what: string) => {
    if (!w) return;
    if (w.length !== n) throw new Error(`wasserstein1: ${what} has ${w.length} weights for ${n} values`);
    if (w.some((x) => !(x >= 0) || !Number.isFinite(x)) || w.reduce((a, b) => a + b, 0) <= 0)
      throw new Error(`wasserstein1: ${what} weights must be non-negative with a positive sum`);
  };
  check(uWeights, u.length, 'u');
  check(vWeights, v.length, 'v');
  for (const x of [...u, ...v]) if (!Number.isFinite(x)) throw new Error(`wasserstein1: non-finite value ${x}`);
  const ui = u.map((_, i) => i).sort((a, b) => u[a] - u[b]);
  const vi = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
  const all = [...u, ...v].sort((a, b) => a - b);
  const uw = uWeights ?? u.map(() => 1);
  const vw = vWeights ?? v.map(() => 1);
  const uTot = uw.reduce((a, b) => a + b, 0);
  const vTot = vw.reduce((a, b) => a + b, 0);
  // F(x) at each support point x = all[k] (right-continuous: values ≤ x), then Σ |F_u − F_v| · (all[k+1] − all[k])
  let iu = 0;
  let iv = 0;
  let cu = 0;
  let cv = 0;
  let total = 0;
  for (let k = 0; k < all.length - 1; k++) {
    const x = all[k];
    while (iu < ui.length && u[ui[iu]] <= x) cu += uw[ui[iu++]];
    while (iv < vi.length && v[vi[iv]] <= x) cv += vw[vi[iv++]];
    const d = all[k + 1] - x;
    if (d > 0) total += Math.abs(cu / uTot - cv / vTot) * d;
  }
  return total;
}

export interface Scale {
  min: number;
  max: number;
}

export function normalize(x: number, s: Scale): number {
  return (x - s.min) / (s.max - s.min);
}

/**
 * evaluate.py's coercion of a SCORE: pandas to_numeric(errors="coerce"), drop NaN, astype(int) (truncation toward 0).
 * Returns null for a value the paper drops.
 */
export function coerceScore(raw: unknown): number | null {
  if (typeof raw === 'number') return Number.isFinite(raw) ? Math.trunc(raw) : null;
  if (typeof raw !== 'string') return null;
  const s = raw.trim();
  if (s === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? Math.trunc(n) : null;
}

/** The paper's W1 for one question: invalid model answers dropped, out-of-range ones kept, both sides normalised. */
export function questionW1(
  human: readonly number[],
  model: readonly number[],
  scale: Scale,
  modelWeights?: readonly number[],
): number {
  return wasserstein1(
    human.map((x) => normalize(x, scale)),
    model.map((x) => normalize(x, scale)),
    undefined,
    modelWeights,
  );
}

/**
 * Our stricter W1 (`w1_strict`): every invalid or out-of-range model answer keeps its share of the mass and is charged
 * the largest possible distance, 1: W1_strict = v·W1(human, valid in-range answers) + (1 − v), v = their share.
 * A model cannot improve its score by answering off-scale or not at all.
 */
export function questionW1Strict(
  human: readonly number[],
  answers: readonly (number | null)[],
  scale: Scale,
): { w1: number; validShare: number } {
  const ok = answers.filter((a): a is number => a !== null && a >= scale.min && a <= scale.max);
  const v = answers.length === 0 ? 0 : ok.length / answers.length;
  if (ok.length === 0) return { w1: 1, validShare: 0 };
  return { w1: v * questionW1(human, ok, scale) + (1 - v), validShare: v };
}

/** The uniform baseline: one copy of each scale point. */
export function uniformBaseline(human: readonly number[], scale: Scale): number {
  const pts = Array.from({ length: scale.max - scale.min + 1 }, (_, i) => scale.min + i);
  return questionW1(human, pts, scale);
}

/** The majority baseline: a single point at the human mode (the smallest mode on ties). */
export function majorityBaseline(human: readonly number[], scale: Scale): number {
  const counts = new Map<number, number>();
  for (const h of human) counts.set(h, (counts.get(h) ?? 0) + 1);
  let mode = human[0];
  for (const [x, c] of counts) if (c > counts.get(mode)! || (c === counts.get(mode)! && x < mode)) mode = x;
  return questionW1(human, [mode], scale);
}

export const W1_THRESHOLD = 0.2;
/** The notebook's threshold curve: 0, 0.05, …, 0.40. */
export const W1_CURVE = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4];

/** Percentage of questions with W1 ≤ t (the notebook) and < t (the abstract's wording). */
export function shareWithin(w1s: readonly number[], t: number): { le: number; lt: number } {
  if (w1s.length === 0) throw new Error('shareWithin: no questions');
  return {
    le: (100 * w1s.filter((w) => w <= t).length) / w1s.length,
    lt: (100 * w1s.filter((w) => w < t).length) / w1s.length,
  };
}

/** evaluate.py end to end: rows (QUESTION_ID, PARTICIPANT_ID, SCORE) and the human answers → {question: W1}. */
export function evaluateOfficial(
  rows: readonly { QUESTION_ID: string; PARTICIPANT_ID: string; SCORE: unknown }[],
  human: (question: string, participant: string) => number | null,
  scaleOf: (question: string) => Scale,
): Record<string, number> {
  const byQ = new Map<string, { h: number[]; m: number[] }>();
  for (const r of rows) {
    const e = byQ.get(r.QUESTION_ID) ?? { h: [], m: [] };
    const h = human(r.QUESTION_ID, r.PARTICIPANT_ID);
    if (h !== null) e.h.push(h);
    const m = coerceScore(r.SCORE);
    if (m !== null) e.m.push(m);
    byQ.set(r.QUESTION_ID, e);
  }
  const out: Record<string, number> = {};
  for (const [q, { h, m }] of byQ) {
    if (h.length === 0 || m.length === 0) continue;
    out[q] = questionW1(h, m, scaleOf(q));
  }
  return out;
}
