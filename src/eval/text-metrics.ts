// Generative-answer metrics: SQuAD-style answer normalisation with exact match and token F1 (max over gold
// answers), HF-evaluate exact_match with its options (as GSM8K uses it).

/** Python's string.punctuation. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'.split(''));

/** SQuAD normalize_answer: lower-case, drop ASCII punctuation, drop articles a/an/the, collapse whitespace. */
export function squadNormalize(s: string): string {
  let t = s.toLowerCase();
  t = Array.from(t)
    .filter((ch) => !PUNCTUATION.has(ch))
    .join('');
  t = t.replace(/\b(a|an|the)\b/g, ' ');
  return t
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .join(' ');
}

export function squadExactMatch(prediction: string, gold: string): number {
  return squadNormalize(prediction) === squadNormalize(gold) ? 1 : 0;
}

/** SQuAD token F1 between normalised prediction and gold (bag of tokens). Both empty → 1; one empty → 0. */
export function squadF1(prediction: string, gold: string): number {
  const p = squadNormalize(prediction)
    .split(' ')
    .filter((w) => w);
  const g = squadNormalize(gold)
    .split(' ')
    .filter((w) => w);
  if (p.length === 0 || g.length === 0) return p.length === g.length ? 1 : 0;
  return tokenF1(p, g);
}

/** F1 of two token multisets; 0 when they share nothing. */
function tokenF1(p: readonly string[], g: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const w of g) counts.set(w, (counts.get(w) ?? 0) + 1);
  let common = 0;
  for (const w of p) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      common++;
      counts.set(w, c - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / p.length;
  const recall = common / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/** max over gold answers of a metric (SQuAD's metric_max_over_ground_truths). */
export function maxOverGolds(
  metric: (pred: string, gold: string) => number,
  prediction: string,
  golds: readonly string[],
): number {
  if (golds.length === 0) throw new Error('maxOverGolds: no gold answers');
  return Math.max(...golds.map((g) => metric(prediction, g)));
}

export interface HfExactMatchOptions {
  /** applied in order with replace-all to both prediction and reference (Python re.sub) */
  regexesToIgnore?: RegExp[];
  ignoreCase?: boolean;
  ignorePunctuation?: boolean;
  ignoreNumbers?: boolean;
}

/** HF evaluate's exact_match for one pair (1 or 0). Python's `(?s)` inline flag is JavaScript's `s` flag. */
export function hfExactMatch(prediction: string, reference: string, opts: HfExactMatchOptions = {}): number {
  let p = prediction;
  let r = reference;
  for (const re of opts.regexesToIgnore ?? []) {
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
    p = p.replace(g, '');
    r = r.replace(g, '');
  }
  if (opts.ignoreCase) {
    p = p.toLowerCase();
    r = r.toLowerCase();
  }
  if (opts.ignorePunctuation) {
    p = Array.from(p)
      .filter((c) => !PUNCTUATION.has(c))
      .join('');
    r = Array.from(r)
      .filter((c) => !PUNCTUATION.has(c))
      .join('');
  }
  if (opts.ignoreNumbers) {
    p = p.replace(/[0-9]/g, '');
    r = r.replace(/[0-9]/g, '');
  }
  return p === r ? 1 : 0;
}

// ---- SQuAD v1.1 EM/F1 as olmes' squad_emf1.py (TriviaQA) ----

/** Python's `\b(a|an|the)\b` on a str pattern: word boundaries use Unicode word characters, not ASCII only. */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** SQuAD normalize_answer with Python's Unicode-aware word boundaries. */
export function squadNormalizePy(s: string): string {
  const t = Array.from(s.toLowerCase())
    .filter((c) => !PUNCTUATION.has(c))
    .join('');
  return t
    .replace(ARTICLES, ' ')
    .split(/\s+/)
    .filter((w) => w !== '')
    .join(' ');
}

/** SQuAD v1.1 f1_score: token-multiset F1; 0 when nothing is shared (so two empty answers score 0, unlike v2). */
export function squadV1F1(prediction: string, gold: string): number {
  return tokenF1(
    squadNormalizePy(prediction)
      .split(' ')
      .filter((w) => w),
    squadNormalizePy(gold)
      .split(' ')
      .filter((w) => w),
  );
}

export function squadV1ExactMatch(prediction: string, gold: string): number {
  return squadNormalizePy(prediction) === squadNormalizePy(gold) ? 1 : 0;
}
