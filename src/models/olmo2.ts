// OLMo 2 (HF `olmo2`): the "reordered norm" block, with norms on sublayer outputs and QK-norm over the full
// projected width, as transformers' modeling_olmo2.py has it (`Olmo2DecoderLayer`,
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/olmo2/modeling_olmo2.py):
//   q = RMSNorm_q(x Wqᵀ), k = RMSNorm_k(x Wkᵀ), v = x Wvᵀ      (before the head split and RoPE)
//   h  = x + RMSNorm_post_attention(Attn(x))
//   x' = h + RMSNorm_post_feedforward(down(silu(gate(h)) ⊙ up(h)))
// then a final RMSNorm and the (untied) LM head. There is no norm on a block's input.
import type { Tensor } from '../tensor/index.ts';
import { Module, RMSNorm, SelfAttention, SwiGLUMLP, type AttentionContext, type Init } from '../nn/index.ts';
import { attentionConfigOf, type ModelConfig } from './config.ts';
import { CausalLM, type BlockOutput, type DecoderBlock } from './decoder.ts';

export class Olmo2Block extends Module implements DecoderBlock {
  readonly selfAttn: SelfAttention;
  readonly postAttentionLayernorm: RMSNorm;
  readonly mlp: SwiGLUMLP;
  readonly postFeedforwardLayernorm: RMSNorm;

  constructor(cfg: ModelConfig, init: Init) {
    super();
    this.selfAttn = this.child(
      'self_attn',
      new SelfAttention(
        attentionConfigOf(cfg, { qkNorm: true, normEps: cfg.normEps, clipQkv: null, clipAfterNorm: false }),
        init,
      ),
    );
    this.postAttentionLayernorm = this.child(
      'post_attention_layernorm',
      new RMSNorm(cfg.hiddenSize, cfg.normEps, init),
    );
    this.mlp = this.child('mlp', new SwiGLUMLP(cfg.hiddenSize, cfg.intermediateSize, init));
    this.postFeedforwardLayernorm = this.child(
      'post_feedforward_layernorm',
      new RMSNorm(cfg.hiddenSize, cfg.normEps, init),
    );
  }

  forward(x: Tensor, ctx: AttentionContext): BlockOutput {
    const h = this.postAttentionLayernorm.addTo(x, this.selfAttn.forward(x, ctx));
    return { x: this.postFeedforwardLayernorm.addTo(h, this.mlp.forward(h)) };
  }
}

export function createOlmo2(cfg: ModelConfig, init: Init): CausalLM {
  return new CausalLM(cfg, init, () => new Olmo2Block(cfg, init), new RMSNorm(cfg.hiddenSize, cfg.normEps, init));
}
