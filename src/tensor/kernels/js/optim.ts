// AdamW, the reference: PyTorch's single-tensor torch.optim.AdamW step replayed in float32. Scalars are
// formed in float64 as Python does and rounded to float32 as PyTorch does when applying them to a float32
// tensor; every elementwise operation is rounded to float32 (Math.fround) in PyTorch's order:
//   g = grad·gradScale; p ← p·(1 − lr·wd); m ← m·β1 + (1−β1)·g; v ← v·β2 + ((1−β2)·g)·g;
//   denom = sqrt(v) / sqrt(1 − β2^step) + eps; p ← p + ((−lr/(1 − β1^step))·m) / denom.
import type { OptimKernels } from '../types.ts';

const f = Math.fround;

export const jsOptim: OptimKernels = {
  adamw(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale) {
    if (!(step >= 1)) throw new RangeError(`adamw: step must be ≥ 1 (steps count from 1), got ${step}`);
    const gs = f(gradScale);
    const decay = f(1 - lr * weightDecay);
    const b1 = f(beta1);
    const omb1 = f(1 - beta1);
    const b2 = f(beta2);
    const omb2 = f(1 - beta2);
    const bc2Sqrt = f(Math.sqrt(1 - Math.pow(beta2, step)));
    const epsF = f(eps);
    const negStep = f(-(lr / (1 - Math.pow(beta1, step))));
    for (let i = 0; i < n; i++) {
      const g = f(grad[i] * gs);
      const p = f(param[i] * decay);
      const mi = f(f(m[i] * b1) + f(omb1 * g));
      const vi = f(f(v[i] * b2) + f(f(omb2 * g) * g));
      const denom = f(f(f(Math.sqrt(vi)) / bc2Sqrt) + epsF);
      m[i] = mi;
      v[i] = vi;
      param[i] = p + f(f(negStep * mi) / denom);
    }
  },
};
