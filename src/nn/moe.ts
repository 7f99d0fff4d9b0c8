// OLMoE's sparse mixture-of-experts feed-forward: a linear router, softmax over all experts (in f32),
// top-k, optional renormalisation of the selected weights, and dropless dispatch of every token to its k
// experts (each a SwiGLU MLP); outputs are combined weighted by the router probabilities.
import {
  concat,
  div,
  gatherRows,
  linearGroup,
  reshape,
  scatterAddRows,
  softmax,
  swiglu,
  sum,
  tensor,
  topk,
  mul,
  type Tensor,
} from '../tensor/index.ts';
import type { Init } from './init.ts';
import { Linear } from './layers.ts';
import { SwiGLUMLP } from './mlp.ts';
import { Module } from './module.ts';

export interface MoEConfig {
  hiddenSize: number;
  intermediateSize: number;
  numExperts: number;
  topK: number;
  normTopkProb: boolean;
}

export interface MoEOutput {
  out: Tensor;
  /** Router logits [tokens, experts] (for the load-balancing and router z-losses). */
  routerLogits: Tensor;
  /** Chosen experts [tokens, k]. */
  expertIndices: Tensor;
  /** Tokens routed to each expert. */
  expertLoad: Int32Array;
}

class ExpertList extends Module {
  readonly experts: SwiGLUMLP[];
  constructor(cfg: MoEConfig, init: Init) {
    super();
    this.experts = Array.from({ length: cfg.numExperts }, (_, e) =>
      this.child(String(e), new SwiGLUMLP(cfg.hiddenSize, cfg.intermediateSize, init)),
    );
  }
}

export class SparseMoE extends Module {
  readonly gate: Linear;
  readonly expertList: ExpertList;

  constructor(
    readonly cfg: MoEConfig,
    init: Init,
  ) {
    super();
    if (cfg.topK < 1 || cfg.topK > cfg.numExperts) {
      throw new Error(`MoE: top-k ${cfg.topK} must be between 1 and the number of experts ${cfg.numExperts}`);
    }
    this.gate = this.child('gate', new Linear(cfg.hiddenSize, cfg.numExperts, init));
    this.expertList = this.child('experts', new ExpertList(cfg, init));
  }

  forward(x: Tensor): MoEOutput {
    const { hiddenSize, numExperts, topK, normTopkProb } = this.cfg;
    const tokens = x.size / hiddenSize;
    const flat = reshape(x, [tokens, hiddenSize]);
    const routerLogits = this.gate.forward(flat);
    const probs = softmax(routerLogits);
    const top = topk(probs, topK);
    const indices = top.indices;
    let weights = top.values;
    if (normTopkProb) weights = div(weights, sum(weights, -1, true));

    // Group the (token, slot) pairs by expert, in token order within each expert.
    const idx = indices.i32();
    const byExpert: number[][] = Array.from({ length: numExperts }, () => []);
    for (let s = 0; s < tokens * topK; s++) byExpert[idx[s]].push(s);
    const expertLoad = Int32Array.from(byExpert.map((slots) => slots.length));

    const flatWeights = reshape(weights, [tokens * topK, 1]);
    // Each routed (token, slot)'s expert output times its weight, expert by expert, and the tokens they add into.
    let weighted: Tensor;
    const destTokens: number[] = [];
    if (tokens === 1) {
      // One token: its experts' outputs stacked in expert order and weighted by one multiply (the same products as
      // one multiply per expert).
      const routed = byExpert.flatMap((slots, e) => (slots.length > 0 ? [e] : []));
      const slots = routed.map((e) => byExpert[e][0]);
      const slotIds = tensor(Int32Array.from(slots), [slots.length], 'i32');
      weighted = mul(concat(this.oneTokenExperts(flat, routed), 0), gatherRows(flatWeights, slotIds));
      destTokens.push(...slots.map(() => 0));
    } else {
      const outputs: Tensor[] = [];
      byExpert.forEach((slots, e) => {
        if (slots.length === 0) return;
        const tokenIds = Int32Array.from(slots, (s) => Math.floor(s / topK));
        const y = this.expertList.experts[e].forward(gatherRows(flat, tensor(tokenIds, [slots.length], 'i32')));
        outputs.push(mul(y, gatherRows(flatWeights, tensor(Int32Array.from(slots), [slots.length], 'i32'))));
        destTokens.push(...tokenIds);
      });
      weighted = concat(outputs, 0);
    }
    const combined = scatterAddRows(weighted, tensor(Int32Array.from(destTokens), [destTokens.length], 'i32'), tokens);
    return { out: reshape(combined, x.shape), routerLogits, expertIndices: indices, expertLoad };
  }

  /**
   * The routed experts' outputs for one token (decoding one sequence), in `routed` order: every expert takes that
   * same row, so their gate and up projections go through one linearGroup call, and their down projections, each on
   * its own expert's activations, through another (one kernel call each for compact inference weights), with the
   * bits of each expert's own forward.
   */
  private oneTokenExperts(x: Tensor, routed: readonly number[]): Tensor[] {
    const experts = routed.map((e) => this.expertList.experts[e]);
    const gateUp = linearGroup(
      x,
      experts.flatMap((m) => [m.gateProj.weight, m.upProj.weight]),
    );
    const hidden = experts.map((_, i) => swiglu(gateUp[2 * i], gateUp[2 * i + 1]));
    return linearGroup(
      hidden,
      experts.map((m) => m.downProj.weight),
    );
  }
}
