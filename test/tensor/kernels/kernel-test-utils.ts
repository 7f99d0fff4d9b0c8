// Helpers shared by the kernel tests: float64 finite differences, running native kernels on their forced
// scalar paths, and checking the native argument errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CPU_PATHS, type CpuPathName } from '../../../src/tensor/native-addon.ts';
import { nativeAddonOrNull, nativeSkipReason } from '../../helpers.ts';

/** Central finite difference of a float64 scalar function f at x0 (a float64 copy is perturbed). */
export function fdGrad(f: (x: Float64Array) => number, x0: ArrayLike<number>, h = 1e-4): Float64Array {
  const x = Float64Array.from(x0);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = v + h;
    const fp = f(x);
    x[i] = v - h;
    const fm = f(x);
    x[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** The addon's test hooks, one per kernel family, that force its scalar paths on AVX2 machines. */
export type ScalarHook =
  | '_attentionForceScalar'
  | '_convertForceScalar'
  | '_elementwiseForceScalar'
  | '_indexingForceScalar'
  | '_lossesForceScalar'
  | '_normsForceScalar'
  | '_optimForceScalar'
  | '_reduceForceScalar';

/** Forces (on) or releases (off) a family's native scalar paths. Needs the addon. */
export function forceScalar(hook: ScalarHook, on: boolean): void {
  (nativeAddonOrNull()![hook] as unknown as (on: boolean) => void)(on);
}

/** Runs fn with the family's scalar paths forced when `scalar` (default), always releasing them after. */
export function withScalarPaths(hook: ScalarHook, fn: () => void, scalar = true): void {
  forceScalar(hook, scalar);
  try {
    fn();
  } finally {
    forceScalar(hook, false);
  }
}

/**
 * Registers `${name} (SIMD path)` and `${name} (scalar path)`: body runs once on each of the family's
 * native paths (skipped when the addon is not built).
 */
export function testBothPaths(name: string, hook: ScalarHook, body: (path: 'SIMD' | 'scalar') => void): void {
  for (const path of ['SIMD', 'scalar'] as const) {
    test(`${name} (${path} path)`, { skip: nativeSkipReason() }, () => {
      withScalarPaths(hook, () => body(path), path === 'scalar');
    });
  }
}

/** Asserts f throws an argument error from native `kernel` ("olmo native kernel: …") matching `what`. */
export function expectNativeError(kernel: string, f: () => void, what: RegExp): void {
  assert.throws(f, (e: Error) => e instanceof Error && e.message.includes(`native ${kernel}:`) && what.test(e.message));
}

/** Asserts f throws an error from the js reference `kernel` ("js kernel: …"). */
export function expectJsError(kernel: string, f: () => void): void {
  assert.throws(f, (e: Error) => e instanceof Error && e.message.includes(`js ${kernel}:`));
}

/** The SIMD paths this CPU can run, widest first ('avx512' and/or 'avx2'); empty without the addon. */
export function simdPaths(): CpuPathName[] {
  const addon = nativeAddonOrNull();
  if (!addon) return [];
  const detected = addon.cpuPath().detected;
  return CPU_PATHS.slice(CPU_PATHS.indexOf(detected)).filter((p) => p !== 'scalar');
}

/** Runs fn with the native kernels held to `path` (at most), restoring the widest path after. */
export function withCpuPath<T>(path: CpuPathName, fn: () => T): T {
  const addon = nativeAddonOrNull()!;
  addon.setCpuPath(path);
  try {
    return fn();
  } finally {
    addon.setCpuPath('avx512');
  }
}
