// OLMo 1 (HF `olmo`): a pre-norm block with non-parametric LayerNorm (eps 1e-5) and optional clip_qkv
// right after the projections, as transformers' modeling_olmo.py has it (`OlmoDecoderLayer`,
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/olmo/modeling_olmo.py):
//   h  = x + Attn(LN(x))
//   x' = h + down(silu(gate(LN(h))) ⊙ up(LN(h)))
// then a final LN and the LM head (tied to the embedding in OLMo-1B).
import { add, type Tensor } from '../tensor/index.ts';
import {
  Module,
  NonParametricLayerNorm,
  SelfAttention,
  SwiGLUMLP,
  type AttentionContext,
  type Init,
} from '../nn/index.ts';
import { attentionConfigOf, type ModelConfig } from './config.ts';
import { CausalLM, type BlockOutput, type DecoderBlock } from './decoder.ts';

export class OlmoBlock extends Module implements DecoderBlock {
  readonly norm = new NonParametricLayerNorm(1e-5);
  readonly selfAttn: SelfAttention;
  readonly mlp: SwiGLUMLP;

  constructor(cfg: ModelConfig, init: Init) {
    super();
    this.selfAttn = this.child(
      'self_attn',
      new SelfAttention(
        attentionConfigOf(cfg, { qkNorm: false, normEps: 1e-5, clipQkv: cfg.clipQkv, clipAfterNorm: false }),
        init,
      ),
    );
    this.mlp = this.child('mlp', new SwiGLUMLP(cfg.hiddenSize, cfg.intermediateSize, init));
  }

  forward(x: Tensor, ctx: AttentionContext): BlockOutput {
    const h = add(x, this.selfAttn.forward(this.norm.forward(x), ctx));
    return { x: add(h, this.mlp.forward(this.norm.forward(h))) };
  }
}

export function createOlmo(cfg: ModelConfig, init: Init): CausalLM {
  return new CausalLM(cfg, init, () => new OlmoBlock(cfg, init), new NonParametricLayerNorm(1e-5));
}
