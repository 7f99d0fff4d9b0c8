// The basic layers: Linear (bias-free, as in every OLMo), Embedding, RMSNorm, non-parametric LayerNorm.
import { embedding, layerNorm, linear, residualRmsNorm, rmsNorm, type Tensor } from '../tensor/index.ts';
import { Module } from './module.ts';
import type { Init } from './init.ts';

export class Linear extends Module {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    init: Init,
  ) {
    super();
    this.param('weight', init([outFeatures, inFeatures]));
  }
  get weight(): Tensor {
    return this.get('weight');
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight);
  }
}

export class Embedding extends Module {
  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    init: Init,
  ) {
    super();
    this.param('weight', init([numEmbeddings, dim]));
  }
  get weight(): Tensor {
    return this.get('weight');
  }
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}

export class RMSNorm extends Module {
  constructor(
    readonly dim: number,
    readonly eps: number,
    init: Init,
  ) {
    super();
    this.param('weight', init([dim], 'ones'));
  }
  get weight(): Tensor {
    return this.get('weight');
  }
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
  /** residual + this norm of x (a post-norm residual), in one kernel (residualRmsNorm). */
  addTo(residual: Tensor, x: Tensor): Tensor {
    return residualRmsNorm(residual, x, this.weight, this.eps);
  }
}

/** OLMo 1's LayerNorm: no weight, no bias, eps 1e-5. */
export class NonParametricLayerNorm extends Module {
  constructor(readonly eps = 1e-5) {
    super();
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.eps);
  }
}
