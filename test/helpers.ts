// Shared test utilities: seeded random data and closeness assertions with useful failure messages.
import assert from 'node:assert/strict';
import { loadNativeAddon, nativeLoadError, type NativeAddon } from '../src/tensor/native-addon.ts';
import { mulberry32 } from '../src/random/index.ts';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared workspace beside the checkout (../shared): reference fixtures too large for the repository. Tests
 * that need it skip with a message naming "shared" where it is absent (scripts/run-tests.mjs fails such a skip in
 * CI when it is present).
 */
export const SHARED_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared');

/** Whether this run is CI (CI set to anything but '', '0', 'false'): skips for missing prerequisites then fail. */
export const IN_CI = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());

/** A small deterministic PRNG (mulberry32, from the project's random module), so failures reproduce. */
export const rng: (seed: number) => () => number = mulberry32;

/** Standard normal samples (Box–Muller) times `scale`. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r()) * scale;
  }
  return out;
}

/** Uniform integers in [lo, hi). */
export function randInts(n: number, lo: number, hi: number, seed: number): Int32Array {
  const r = rng(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + Math.floor(r() * (hi - lo));
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) {
      if (!(Number.isNaN(a[i]) && Number.isNaN(b[i])) && a[i] !== b[i]) return Infinity;
    } else if (d > m) m = d;
  }
  return m;
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise (NaN equals NaN, ±Inf must match),
 * naming the first offending index.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  opts: { atol?: number; rtol?: number; label?: string } = {},
): void {
  const { atol = 1e-5, rtol = 1e-5, label = 'values' } = opts;
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} vs expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    const tol = atol + rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= tol)) {
      assert.fail(`${label}: index ${i}: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > tol ${tol})`);
    }
  }
}

/** The native addon, or null with a note when it is not built (tests of native kernels then skip). */
export function nativeAddonOrNull(): NativeAddon | null {
  return loadNativeAddon();
}

/** False when the native addon loads; else why native tests skip. In CI a missing addon is an error instead. */
export function nativeSkipReason(): string | false {
  if (loadNativeAddon()) return false;
  if (IN_CI) throw new Error(`CI: the native addon must load: ${nativeLoadError()}`);
  return `native addon unavailable: ${nativeLoadError()}`;
}
