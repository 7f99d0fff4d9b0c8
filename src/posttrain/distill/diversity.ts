// Diversity filtering for self-distillation: drop a candidate whose word n-gram set is too similar (Jaccard) to
// one already kept. δ-RoT filters with NLI mutual entailment; n-gram Jaccard is the cheap, model-free stand-in.

/** Lower-cased word n-grams of a text (the whole text as one gram when it has fewer than n words). */
export function ngrams(text: string, n: number): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
  const out = new Set<string>();
  if (words.length === 0) return out;
  if (words.length < n) {
    out.add(words.join(' '));
    return out;
  }
  for (let i = 0; i + n <= words.length; i++) out.add(words.slice(i, i + n).join(' '));
  return out;
}

/** |A ∩ B| / |A ∪ B|; two empty sets are identical (1). */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/**
 * Greedy near-duplicate removal in order: keeps a text unless its n-gram Jaccard similarity to a kept one is
 * ≥ threshold. Returns the indices kept.
 */
export function dedupeByJaccard(texts: readonly string[], opts: { n?: number; threshold?: number } = {}): number[] {
  const n = opts.n ?? 3;
  const threshold = opts.threshold ?? 0.7;
  const kept: { i: number; grams: Set<string> }[] = [];
  for (let i = 0; i < texts.length; i++) {
    const grams = ngrams(texts[i], n);
    if (kept.some((k) => jaccard(k.grams, grams) >= threshold)) continue;
    kept.push({ i, grams });
  }
  return kept.map((k) => k.i);
}
