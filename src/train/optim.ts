// AdamW (PyTorch's decoupled weight decay, single-tensor update order) and global-norm gradient clipping, as
// OLMo 2 trains with them (allenai/OLMo configs/official-1124/OLMo2-7B-stage1.yaml and olmo/optim.py,
// https://github.com/allenai/OLMo): β = (0.9, 0.95), ε = 1e-8, weight decay 0.1 except on embeddings,
// clipping to 1.0.
import { kernels, type Tensor } from '../tensor/index.ts';

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export interface ParamGroup {
  name: string;
  param: Tensor;
  /** Overrides the optimizer's weight decay (0 for embeddings in OLMo 2). */
  weightDecay?: number;
}

interface Moments {
  m: Float32Array;
  v: Float32Array;
}

export class AdamW {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Steps taken (bias correction uses step + 1 on the next update). */
  step = 0;
  private readonly groups: ParamGroup[];
  private readonly moments = new Map<string, Moments>();

  constructor(params: ParamGroup[], opts: AdamWOptions) {
    const [b1, b2] = opts.betas ?? [0.9, 0.95];
    for (const [name, value, ok] of [
      ['lr', opts.lr, opts.lr >= 0],
      ['beta1', b1, b1 >= 0 && b1 < 1],
      ['beta2', b2, b2 >= 0 && b2 < 1],
      ['eps', opts.eps ?? 1e-8, (opts.eps ?? 1e-8) >= 0],
      ['weightDecay', opts.weightDecay ?? 0, (opts.weightDecay ?? 0) >= 0],
    ] as const) {
      if (!ok || !Number.isFinite(value)) throw new Error(`AdamW: invalid ${name} ${value}`);
    }
    const names = new Set<string>();
    for (const g of params) {
      if (names.has(g.name)) throw new Error(`AdamW: parameter ${g.name} listed twice`);
      names.add(g.name);
    }
    this.groups = params;
    this.lr = opts.lr;
    this.beta1 = b1;
    this.beta2 = b2;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
  }

  get params(): readonly ParamGroup[] {
    return this.groups;
  }

  /**
   * One update of every parameter that has a gradient, at learning rate `lr` (default: the configured one),
   * with gradients multiplied by `gradScale` (the clipping factor).
   */
  update(lr = this.lr, gradScale = 1): void {
    this.step++;
    const k = kernels();
    for (const g of this.groups) {
      const grad = g.param.grad;
      if (!grad) continue;
      const n = g.param.size;
      let mom = this.moments.get(g.name);
      if (!mom) this.moments.set(g.name, (mom = { m: new Float32Array(n), v: new Float32Array(n) }));
      k.adamw(
        g.param.f32(),
        grad.f32(),
        mom.m,
        mom.v,
        n,
        lr,
        this.beta1,
        this.beta2,
        this.eps,
        g.weightDecay ?? this.weightDecay,
        this.step,
        gradScale,
      );
    }
  }

  /** Optimizer moments by parameter name, for checkpoints. */
  stateTensors(): Map<string, Moments> {
    return this.moments;
  }

  loadState(step: number, moments: Map<string, Moments>): void {
    for (const [name, m] of moments) {
      const g = this.groups.find((p) => p.name === name);
      if (!g) throw new Error(`optimizer state has moments for unknown parameter ${name}`);
      if (m.m.length !== g.param.size || m.v.length !== g.param.size) {
        throw new Error(`optimizer state for ${name} has ${m.m.length} elements, the parameter has ${g.param.size}`);
      }
    }
    this.step = step;
    this.moments.clear();
    for (const [name, m] of moments) this.moments.set(name, m);
  }
}

/** The global L2 norm of all gradients (accumulated in float64). */
export function gradNorm(params: Iterable<Tensor>): number {
  const k = kernels();
  let sq = 0;
  for (const p of params) if (p.grad) sq += k.sumSquares(p.grad.f32(), p.size);
  return Math.sqrt(sq);
}

/**
 * torch.nn.utils.clip_grad_norm_'s factor: min(1, maxNorm / (norm + 1e-6)). Returns the pre-clip norm and
 * the factor to pass to AdamW.update (the gradients themselves are not rewritten).
 */
export function clipFactor(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6));
}
