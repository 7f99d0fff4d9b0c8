// AdamW: the js reference against a float64 re-implementation of torch.optim.AdamW's single-tensor step
// (agreement within float32 rounding, over several steps), native against js bit for bit (AVX2 and scalar
// paths, awkward sizes, multithreaded sizes), and argument validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsOptim } from '../../../src/tensor/kernels/js/optim.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import { nativeAddonOrNull, nativeSkipReason, randn } from '../../helpers.ts';
import { testBothPaths } from './kernel-test-utils.ts';

interface Hyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  wd: number;
  gradScale: number;
}

/** torch.optim.AdamW (foreach=False, amsgrad=False, maximize=False) for one tensor, in float64. */
function adamw64(p: number[], g: number[], m: number[], v: number[], h: Hyper, step: number): void {
  const bc1 = 1 - h.beta1 ** step;
  const bc2 = 1 - h.beta2 ** step;
  const stepSize = h.lr / bc1;
  const bc2Sqrt = Math.sqrt(bc2);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * h.gradScale;
    p[i] *= 1 - h.lr * h.wd;
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * gi;
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * gi * gi;
    const denom = Math.sqrt(v[i]) / bc2Sqrt + h.eps;
    p[i] -= (stepSize * m[i]) / denom;
  }
}

const ULP = 2 ** -23;

test('adamw (js) matches a float64 AdamW within float32 rounding, step by step', () => {
  const n = 4096;
  const hypers: Hyper[] = [
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.1, gradScale: 1 },
    { lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, wd: 0, gradScale: 0.25 },
    { lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, wd: 0.01, gradScale: 1 / 3 },
  ];
  for (const [hi, h] of hypers.entries()) {
    const p = randn(n, 10 + hi);
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    for (let step = 1; step <= 12; step++) {
      const g = randn(n, 100 * hi + step, step % 3 === 0 ? 1e-3 : 1);
      if (step === 2) g.fill(0, 0, 64); // zero gradients: the update is then m-driven, v decays
      // The float64 step starts from the current float32 state, so errors cannot compound.
      const p64 = [...p];
      const m64 = [...m];
      const v64 = [...v];
      adamw64(p64, [...g], m64, v64, h, step);
      const pBefore = Float32Array.from(p);
      jsOptim.adamw(p, g, m, v, n, h.lr, h.beta1, h.beta2, h.eps, h.wd, step, h.gradScale);
      for (let i = 0; i < n; i++) {
        const upd = Math.abs(p64[i] - pBefore[i] * (1 - h.lr * h.wd));
        const tol = {
          p: ULP * (2 * Math.abs(p64[i]) + 8 * upd) + 1e-30,
          m: ULP * 3 * (Math.abs(m64[i]) + Math.abs(g[i] * h.gradScale)) + 1e-30,
          v: ULP * 4 * Math.abs(v64[i]) + 1e-38,
        };
        const where = `hyper ${hi} step ${step} i ${i}`;
        assert.ok(Math.abs(p[i] - p64[i]) <= tol.p, `${where}: p ${p[i]} vs ${p64[i]}`);
        assert.ok(Math.abs(m[i] - m64[i]) <= tol.m, `${where}: m ${m[i]} vs ${m64[i]}`);
        assert.ok(Math.abs(v[i] - v64[i]) <= tol.v, `${where}: v ${v[i]} vs ${v64[i]}`);
      }
    }
  }
});

test('adamw (js): hand-computed first step', () => {
  // Step 1 with zero state: m = (1−β1)g, v = (1−β2)g², m̂ = g, v̂ = g², so p ← p(1 − lr·wd) − lr·g/(|g| + eps').
  const p = Float32Array.of(1, -2, 0.5);
  const g = Float32Array.of(0.5, -4, 0);
  const m = new Float32Array(3);
  const v = new Float32Array(3);
  jsOptim.adamw(p, g, m, v, 3, 0.1, 0.9, 0.999, 1e-8, 0.5, 1, 1);
  const expected = [1 * 0.95 - 0.1, -2 * 0.95 + 0.1, 0.5 * 0.95];
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(p[i] - expected[i]) < 1e-6, `p[${i}] ${p[i]} vs ${expected[i]}`);
  assert.ok(Math.abs(m[1] - -0.4) < 1e-7 && Math.abs(v[1] - 0.016) < 1e-8);
  assert.throws(() => jsOptim.adamw(p, g, m, v, 3, 0.1, 0.9, 0.999, 1e-8, 0, 0, 1), /adamw: step/);
});

const addon = nativeAddonOrNull();

testBothPaths('adamw: native matches js bit for bit', '_optimForceScalar', () => {
  const nat = createNativeKernels(addon!);
  for (const n of [0, 1, 7, 8, 9, 31, 33, 1000, 100000]) {
    const init = [randn(n, n + 1), randn(n, n + 2), randn(n, n + 3, 0.1), randn(n, n + 4, 0.01).map(Math.abs)];
    const a = init.map((x) => Float32Array.from(x));
    const b = init.map((x) => Float32Array.from(x));
    for (let step = 1; step <= 3; step++) {
      const g = randn(n, 7 * n + step);
      nat.adamw(a[0], g, a[2], a[3], n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step + 5, 0.5);
      jsOptim.adamw(b[0], g, b[2], b[3], n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step + 5, 0.5);
    }
    for (const k of [0, 2, 3]) {
      for (let i = 0; i < n; i++) {
        if (!Object.is(a[k][i], b[k][i])) assert.fail(`n=${n} array ${k} i=${i}: native ${a[k][i]} js ${b[k][i]}`);
      }
    }
  }
});

test('adamw: native validates its arguments', { skip: nativeSkipReason() }, () => {
  const nat = createNativeKernels(addon!);
  const f = () => new Float32Array(8);
  const bad = nat as unknown as Record<string, (...a: unknown[]) => void>;
  assert.throws(() => nat.adamw(f(), f(), f(), new Float32Array(7), 8, 1e-3, 0.9, 0.99, 1e-8, 0, 1, 1), /adamw.*'v'/);
  assert.throws(
    () => nat.adamw(new Float32Array(3), f(), f(), f(), 8, 1e-3, 0.9, 0.99, 1e-8, 0, 1, 1),
    /adamw.*'param'/,
  );
  assert.throws(() => nat.adamw(f(), f(), f(), f(), -1, 1e-3, 0.9, 0.99, 1e-8, 0, 1, 1), /adamw.*'n'/);
  assert.throws(() => nat.adamw(f(), f(), f(), f(), 8, 1e-3, 0.9, 0.99, 1e-8, 0, 0, 1), /adamw.*'step'/);
  assert.throws(() => nat.adamw(f(), f(), f(), f(), 8, 1e-3, 1, 0.99, 1e-8, 0, 1, 1), /adamw.*'beta1'/);
  assert.throws(
    () => bad.adamw(f(), new Float64Array(8), f(), f(), 8, 1e-3, 0.9, 0.99, 1e-8, 0, 1, 1),
    /adamw.*'grad'/,
  );
  assert.throws(() => bad.adamw(f(), f(), f(), f(), 8, '1e-3', 0.9, 0.99, 1e-8, 0, 1, 1), /adamw.*'lr'/);
});
