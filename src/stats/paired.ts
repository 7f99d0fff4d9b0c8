// Paired comparison of two models on the same items (each item passed or failed by each model): how many items the
// second model fixed and broke, and the exact two-sided sign test (McNemar's exact test) on those discordant items.
// With a small held-out set this is far more sensitive than comparing two accuracies as independent samples: the
// items both models pass or both fail carry no information about which is better.

export interface PairedComparison {
  /** Items compared. */
  n: number;
  /** Failed by the first model, passed by the second. */
  fixed: number;
  /** Passed by the first model, failed by the second. */
  broken: number;
  before: number;
  after: number;
  /** Exact two-sided sign-test p-value of fixed vs broken (1 when there are no discordant items). */
  pValue: number;
}

/** Compares per-item outcomes (true = passed) of two models on the same items, in the same order. */
export function pairedComparison(before: readonly boolean[], after: readonly boolean[]): PairedComparison {
  if (before.length !== after.length)
    throw new Error(
      `pairedComparison: ${before.length} outcomes before but ${after.length} after; the items must be the same`,
    );
  let fixed = 0;
  let broken = 0;
  let passedBefore = 0;
  let passedAfter = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i]) passedBefore++;
    if (after[i]) passedAfter++;
    if (!before[i] && after[i]) fixed++;
    else if (before[i] && !after[i]) broken++;
  }
  const n = before.length;
  return {
    n,
    fixed,
    broken,
    before: n ? passedBefore / n : 0,
    after: n ? passedAfter / n : 0,
    pValue: signTestPValue(fixed, broken),
  };
}

/** Exact two-sided binomial test of k successes out of k + m trials at p = ½ (doubled smaller tail, capped at 1). */
export function signTestPValue(k: number, m: number): number {
  const n = k + m;
  if (n === 0) return 1;
  const low = Math.min(k, m);
  // P(X ≤ low) for X ~ Binomial(n, ½), summed in log space so large n does not underflow term by term.
  let logTerm = -n * Math.LN2; // C(n, 0) / 2^n
  let tail = Math.exp(logTerm);
  for (let i = 1; i <= low; i++) {
    logTerm += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
}
