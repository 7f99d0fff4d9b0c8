// The official DROP metric (allennlp-reading-comprehension drop_eval.py, as copied into lm-eval's and olmes'
// drop.py): answers normalised token by token (lower-case, ASCII punctuation dropped unless the token is a number,
// numbers rewritten as Python's str(float(x)), articles dropped), exact match on the set of normalised spans, and F1
// as the mean over an optimal one-to-one alignment of predicted and gold span bags (scipy's linear_sum_assignment,
// here a Hungarian algorithm), where a pair scores 0 unless the gold bag's numbers (if any) meet a predicted number;
// F1 is rounded to 2 decimals with Python's round. OLMES uses it for drop::olmes and naturalqs::olmes.

/** Python's string.punctuation. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'.split(''));

/** Python's `\b(a|an|the)\b` on str patterns (Unicode word characters), replaced by a space. */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** Python float(text) grammar (ASCII digits): sign, digits with single underscores between them, point, exponent; inf/nan. */
const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

/** Python's float(text), or null where Python raises ValueError. Leading/trailing whitespace is allowed as in Python. */
export function pyParseFloat(text: string): number | null {
  const t = text.trim();
  if (PY_SPECIAL.test(t)) {
    const neg = t.startsWith('-');
    if (/nan/i.test(t)) return NaN;
    return neg ? -Infinity : Infinity;
  }
  if (!PY_FLOAT.test(t)) return null;
  return Number(t.replace(/_/g, ''));
}

/** Python's repr(float) / str(float): shortest round-trip digits; exponent form when exp < -4 or exp >= 16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e'); // shortest digits, e.g. "-1.2345e+3"
  const exp = parseInt(expStr, 10);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const sign = neg ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** Python's round(x, 2) for a float: the nearest 2-decimal value, exact ties (x = k/8) to the even last digit. */
export function pyRound2(x: number): number {
  if (!Number.isFinite(x)) return x;
  const h = x * 100; // exact for the tie candidates k/8 of moderate size
  if (Number.isInteger(x * 8) && !Number.isInteger(h) && Number.isInteger(h * 2)) {
    const lo = Math.floor(h);
    return (lo % 2 === 0 ? lo : lo + 1) / 100;
  }
  return Number(x.toFixed(2)); // toFixed rounds the exact binary value; only exact ties differ, handled above
}

function isNumber(text: string): boolean {
  return pyParseFloat(text) !== null;
}

function removePunc(text: string): string {
  return isNumber(text)
    ? text
    : Array.from(text)
        .filter((c) => !PUNCTUATION.has(c))
        .join('');
}

function fixNumber(text: string): string {
  const v = pyParseFloat(text);
  return v === null ? text : pyFloatRepr(v);
}

function whiteSpaceFix(text: string): string {
  return text
    .split(/\s+/)
    .filter((w) => w !== '')
    .join(' ');
}

/** drop_eval `_normalize_answer`: per token of re.split(" |-", text): lower, remove_punc, fix_number, remove_articles, white_space_fix. */
export function dropNormalize(text: string): string {
  const tokens = text
    .split(/ |-/)
    .map((tok) => whiteSpaceFix(fixNumber(removePunc(tok.toLowerCase())).replace(ARTICLES, ' ')))
    .filter((tok) => tok.trim() !== '');
  return tokens.join(' ').trim();
}

/** drop_eval `_answer_to_bags`: the normalised spans and their token sets. */
export function answerToBags(answer: string | readonly string[]): { spans: string[]; bags: Set<string>[] } {
  const raw = typeof answer === 'string' ? [answer] : answer;
  const spans = raw.map(dropNormalize);
  return { spans, bags: spans.map((s) => new Set(s.split(' ').filter((w) => w !== ''))) };
}

function bagF1(pred: Set<string>, gold: Set<string>): number {
  let inter = 0;
  for (const w of gold) if (pred.has(w)) inter++;
  const precision = pred.size === 0 ? 1 : inter / pred.size;
  const recall = gold.size === 0 ? 1 : inter / gold.size;
  return precision === 0 && recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/** drop_eval `_match_numbers_if_present`: true when the gold bag has no number or shares one with the prediction. */
function numbersMatch(gold: Set<string>, pred: Set<string>): boolean {
  const goldNums = [...gold].filter(isNumber);
  if (goldNums.length === 0) return true;
  const predNums = new Set([...pred].filter(isNumber));
  return goldNums.some((g) => predNums.has(g));
}

/**
 * Maximum-weight assignment (rows to distinct columns, min(n, m) pairs) of a score matrix: the total that scipy's
 * linear_sum_assignment(-scores) reaches. Hungarian algorithm with potentials, O(n²m) for n ≤ m.
 */
export function maxAssignment(scores: readonly (readonly number[])[]): { total: number; pairs: [number, number][] } {
  const rows = scores.length;
  const cols = rows === 0 ? 0 : scores[0].length;
  if (rows === 0 || cols === 0) return { total: 0, pairs: [] };
  const transpose = rows > cols;
  const n = transpose ? cols : rows;
  const m = transpose ? rows : cols;
  const cost = (i: number, j: number) => -(transpose ? scores[j][i] : scores[i][j]);
  // 1-based arrays as in the classic formulation; column 0 is a virtual column.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j]: row matched to column j (0 = none)
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  const pairs: [number, number][] = [];
  let total = 0;
  for (let j = 1; j <= m; j++) {
    if (p[j] === 0) continue;
    const r = p[j] - 1;
    const c = j - 1;
    const pair: [number, number] = transpose ? [c, r] : [r, c];
    pairs.push(pair);
    total += scores[pair[0]][pair[1]];
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return { total, pairs };
}

/** drop_eval `_align_bags`: per-gold-bag scores of the best alignment, padded with zeros to max(#gold, #pred). */
export function alignBags(predicted: readonly Set<string>[], gold: readonly Set<string>[]): number[] {
  const scores = gold.map((g) => predicted.map((p) => (numbersMatch(g, p) ? bagF1(p, g) : 0)));
  const out = new Array<number>(Math.max(gold.length, predicted.length)).fill(0);
  for (const [r, c] of maxAssignment(scores).pairs) out[r] = Math.max(out[r], scores[r][c]);
  return out;
}

/** drop_eval `get_metrics(predicted, gold)`: exact match and F1 (rounded to 2 decimals) for one gold answer. */
export function dropGetMetrics(
  predicted: string | readonly string[],
  gold: string | readonly string[],
): { exact_match: number; f1: number } {
  const p = answerToBags(predicted);
  const g = answerToBags(gold);
  const ps = new Set(p.spans);
  const gs = new Set(g.spans);
  const exact = ps.size === gs.size && [...ps].every((s) => gs.has(s)) && p.spans.length === g.spans.length ? 1 : 0;
  const perBag = alignBags(p.bags, g.bags);
  const f1 = pyRound2(perBag.reduce((a, b) => a + b, 0) / perBag.length);
  return { exact_match: exact, f1 };
}

/**
 * DROP `process_results`: the maximum exact match and F1 over the gold answers (each a tuple of spans), skipping
 * golds whose first span is blank. No usable gold gives 0 and 0.
 */
export function dropMetrics(
  prediction: string,
  golds: readonly (readonly string[])[],
): { exact_match: number; f1: number } {
  let em = 0;
  let f1 = 0;
  for (const gold of golds) {
    if (gold.length === 0 || gold[0].trim() === '') continue;
    const m = dropGetMetrics(prediction, gold);
    em = Math.max(em, m.exact_match);
    f1 = Math.max(f1, m.f1);
  }
  return { exact_match: em, f1 };
}
