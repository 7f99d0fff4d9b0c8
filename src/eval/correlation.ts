// Corpus-level statistics of the generation tasks: Pearson's r, Spearman's ρ (scipy.stats conventions) and
// distinct-n diversity.

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Pearson's r; NaN with fewer than 2 pairs or a constant series. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`pearson: ${x.length} vs ${y.length} values`);
  if (x.length < 2) return NaN;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/** Ranks 1..n with ties given their average rank (as scipy.stats.rankdata 'average'). */
export function averageRanks(x: readonly number[]): number[] {
  const idx = x.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const r = new Array<number>(x.length);
  for (let s = 0; s < idx.length;) {
    let e = s;
    while (e + 1 < idx.length && idx[e + 1].v === idx[s].v) e++;
    const avg = (s + e) / 2 + 1;
    for (let k = s; k <= e; k++) r[idx[k].i] = avg;
    s = e + 1;
  }
  return r;
}

/** Spearman's ρ: Pearson's r of the average ranks (scipy.stats.spearmanr). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(averageRanks(x), averageRanks(y));
}

/** Distinct-n: unique word n-grams over all n-grams of the texts (lower-cased, split on non-word runs). */
export function distinctN(texts: readonly string[], n: number): number {
  let total = 0;
  const seen = new Set<string>();
  for (const t of texts) {
    const w = t
      .toLowerCase()
      .split(/[^\p{L}\p{N}']+/u)
      .filter((x) => x !== '');
    for (let i = 0; i + n <= w.length; i++) {
      seen.add(w.slice(i, i + n).join(' '));
      total++;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}
