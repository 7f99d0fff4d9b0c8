// OLMoE (HF `olmoe`): a pre-norm block with QK-norm and a sparse mixture-of-experts feed-forward, as transformers'
// modeling_olmoe.py has it (`OlmoeDecoderLayer`, `OlmoeSparseMoeBlock`,
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/olmoe/modeling_olmoe.py):
//   u  = RMSNorm_input(x);  q = RMSNorm_q(u Wqᵀ), k = RMSNorm_k(u Wkᵀ), v = u Wvᵀ  (clip_qkv after the norms)
//   h  = x + Attn(u)
//   x' = h + MoE(RMSNorm_post_attention(h)),  MoE(z) = Σ_{e ∈ topk(softmax(z Wgᵀ))} p_e · Expert_e(z)
// then a final RMSNorm and the untied LM head. Also HF's load-balancing auxiliary loss.
import { add, mean, mul, scale, softmax, sum, concat, tensor, type Tensor } from '../tensor/index.ts';
import {
  Module,
  RMSNorm,
  SelfAttention,
  SparseMoE,
  type AttentionContext,
  type Init,
  type MoEOutput,
} from '../nn/index.ts';
import { attentionConfigOf, type ModelConfig } from './config.ts';
import { CausalLM, type BlockOutput, type DecoderBlock } from './decoder.ts';

export class OlmoeBlock extends Module implements DecoderBlock {
  readonly inputLayernorm: RMSNorm;
  readonly selfAttn: SelfAttention;
  readonly postAttentionLayernorm: RMSNorm;
  readonly mlp: SparseMoE;

  constructor(cfg: ModelConfig, init: Init) {
    super();
    this.inputLayernorm = this.child('input_layernorm', new RMSNorm(cfg.hiddenSize, cfg.normEps, init));
    this.selfAttn = this.child(
      'self_attn',
      new SelfAttention(
        attentionConfigOf(cfg, { qkNorm: true, normEps: cfg.normEps, clipQkv: cfg.clipQkv, clipAfterNorm: true }),
        init,
      ),
    );
    this.postAttentionLayernorm = this.child(
      'post_attention_layernorm',
      new RMSNorm(cfg.hiddenSize, cfg.normEps, init),
    );
    this.mlp = this.child(
      'mlp',
      new SparseMoE(
        {
          hiddenSize: cfg.hiddenSize,
          intermediateSize: cfg.intermediateSize,
          numExperts: cfg.numExperts,
          topK: cfg.numExpertsPerTok,
          normTopkProb: cfg.normTopkProb,
        },
        init,
      ),
    );
  }

  forward(x: Tensor, ctx: AttentionContext): BlockOutput {
    const h = add(x, this.selfAttn.forward(this.inputLayernorm.forward(x), ctx));
    const moe = this.mlp.forward(this.postAttentionLayernorm.forward(h));
    return { x: add(h, moe.out), moe };
  }
}

export function createOlmoe(cfg: ModelConfig, init: Init): CausalLM {
  return new CausalLM(cfg, init, () => new OlmoeBlock(cfg, init), new RMSNorm(cfg.hiddenSize, cfg.normEps, init));
}

/**
 * transformers' `load_balancing_loss_func` (no attention mask): over the router logits of all layers
 * concatenated, E · Σ_e f_e · P_e, where f_e is the share of (token, slot) assignments to expert e per
 * top-k slot and P_e the mean router probability. Gradients flow through P only.
 */
export function hfLoadBalancingLoss(moe: MoEOutput[], numExperts: number, topK: number): Tensor {
  const logits = concat(
    moe.map((m) => m.routerLogits),
    0,
  );
  const tokens = logits.shape[0];
  const probs = softmax(logits);
  const meanProb = mean(probs, 0); // [E]
  // tokens_per_expert[j, e] = share of tokens whose j-th choice is e; summed over j against meanProb.
  const share = new Float32Array(numExperts);
  for (const m of moe) {
    const idx = m.expertIndices.i32();
    for (let s = 0; s < idx.length; s++) share[idx[s]] += 1 / tokens;
  }
  void topK;
  return scale(sum(mul(meanProb, tensor(share, [numExperts]))), numExperts);
}
