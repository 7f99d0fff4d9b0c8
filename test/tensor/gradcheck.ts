// Finite-difference gradient checking for ops. The loss is ⟨f(x), R⟩ for a fixed random R, evaluated in
// float64 from the f32 outputs; central differences with step h are compared against backward's gradients.
import assert from 'node:assert/strict';
import { backward, noGrad, type Tensor, tidy, sum, mul, tensor } from '../../src/tensor/index.ts';
import { randn } from '../helpers.ts';

export interface GradcheckOptions {
  h?: number;
  atol?: number;
  rtol?: number;
  /** Check at most this many elements per input (spread evenly). */
  maxChecks?: number;
  /** Inputs (by position) that are not differentiated (indices, masks). */
  skip?: number[];
}

function lossValue(out: Tensor, r: Float32Array): number {
  const d = out.f32();
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i] * r[i];
  return s;
}

export function gradcheck(
  label: string,
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: GradcheckOptions = {},
): void {
  const { h = 1e-2, atol = 2e-3, rtol = 2e-2, maxChecks = 40, skip = [] } = opts;
  tidy(() => {
    const diff = inputs.map((_, i) => !skip.includes(i));
    inputs.forEach((x, i) => {
      x.requiresGrad = diff[i];
      x.grad = null;
    });
    const out = f(...inputs);
    const r = randn(out.size, 1234, 1);
    const loss = sum(mul(out, tensor(r, out.shape)));
    backward(loss);
    inputs.forEach((x, i) => {
      if (!diff[i]) return;
      assert.ok(x.grad, `${label}: input ${i} got no gradient`);
      const analytic = x.grad!.f32();
      const xd = x.f32();
      const n = xd.length;
      const step = Math.max(1, Math.floor(n / maxChecks));
      let scale = 0;
      for (let j = 0; j < n; j++) scale = Math.max(scale, Math.abs(analytic[j]));
      for (let j = 0; j < n; j += step) {
        const orig = xd[j];
        xd[j] = orig + h;
        const lp = noGrad(() => tidy(() => lossValue(f(...inputs), r)));
        xd[j] = orig - h;
        const lm = noGrad(() => tidy(() => lossValue(f(...inputs), r)));
        xd[j] = orig;
        const numeric = (lp - lm) / (2 * h);
        const tol = atol + rtol * Math.max(Math.abs(numeric), scale);
        if (!(Math.abs(numeric - analytic[j]) <= tol)) {
          assert.fail(`${label}: d/d input${i}[${j}]: analytic ${analytic[j]}, numeric ${numeric} (tol ${tol})`);
        }
      }
      x.requiresGrad = false;
      x.grad = null;
    });
  });
}
