// The SwiGLU feed-forward of every OLMo: down(silu(gate(x)) ⊙ up(x)), bias-free.
import { linearGroup, swiglu, type Tensor } from '../tensor/index.ts';
import type { Init } from './init.ts';
import { Linear } from './layers.ts';
import { Module } from './module.ts';

export class SwiGLUMLP extends Module {
  readonly gateProj: Linear;
  readonly upProj: Linear;
  readonly downProj: Linear;

  constructor(hiddenSize: number, intermediateSize: number, init: Init) {
    super();
    this.gateProj = this.child('gate_proj', new Linear(hiddenSize, intermediateSize, init));
    this.upProj = this.child('up_proj', new Linear(hiddenSize, intermediateSize, init));
    this.downProj = this.child('down_proj', new Linear(intermediateSize, hiddenSize, init));
  }

  forward(x: Tensor): Tensor {
    // gate and up in one call (linearGroup: one kernel call for compact inference weights).
    const [gate, up] = linearGroup(x, [this.gateProj.weight, this.upProj.weight]);
    return this.downProj.forward(swiglu(gate, up));
  }
}
