// Multi-head causal self-attention with grouped KV heads, optional QK-norm over the full projected width
// (OLMo 2, OLMoE), optional clip_qkv (OLMo 1, OLMoE), RoPE, and a KV cache for decoding.
import { attention, clamp, linearGroup, reshape, rope, ropeInvFreq, type Tensor } from '../tensor/index.ts';
import type { Init } from './init.ts';
import type { LayerKVCache, PackedRows } from './kv-cache.ts';
import { Linear, RMSNorm } from './layers.ts';
import { Module } from './module.ts';
import { packedAttention } from './packed-attention.ts';

export interface AttentionConfig {
  hiddenSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  ropeTheta: number;
  /** Round RoPE's inverse frequencies to bf16, as transformers leaves them in a model loaded in bf16. */
  ropeInvFreqBf16?: boolean;
  /** RMSNorm on q and k over the full projected width (before the head split). */
  qkNorm: boolean;
  normEps: number;
  /** Clamp q, k, v to [−c, c]. */
  clipQkv: number | null;
  /** Clamp after the QK-norm (HF OLMoE) rather than right after the projections (HF OLMo). */
  clipAfterNorm: boolean;
}

export interface AttentionContext {
  /** Cache for this layer (decoding); null for training and full recomputation. */
  cache: LayerKVCache | null;
  /** Tokens already cached per sequence (positions start there). */
  lengths: Int32Array | null;
  /** i32 [B, T] absolute positions (for RoPE). */
  positions: Tensor | number;
  /** Real positions per sequence, cached ones included; the rest is right padding (attention's validLens). */
  validLens?: Int32Array | null;
  /** A packed batch (B = 1): which cache rows its tokens continue; cache and lengths are then the whole cache's. */
  packed?: PackedRows | null;
}

export class SelfAttention extends Module {
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly oProj: Linear;
  readonly qNorm: RMSNorm | null;
  readonly kNorm: RMSNorm | null;
  private readonly invFreq: Float32Array;

  constructor(
    readonly cfg: AttentionConfig,
    init: Init,
  ) {
    super();
    const { hiddenSize: h, numHeads, numKvHeads, headDim } = cfg;
    this.qProj = this.child('q_proj', new Linear(h, numHeads * headDim, init));
    this.kProj = this.child('k_proj', new Linear(h, numKvHeads * headDim, init));
    this.vProj = this.child('v_proj', new Linear(h, numKvHeads * headDim, init));
    this.oProj = this.child('o_proj', new Linear(numHeads * headDim, h, init));
    this.qNorm = cfg.qkNorm ? this.child('q_norm', new RMSNorm(numHeads * headDim, cfg.normEps, init)) : null;
    this.kNorm = cfg.qkNorm ? this.child('k_norm', new RMSNorm(numKvHeads * headDim, cfg.normEps, init)) : null;
    this.invFreq = ropeInvFreq(cfg.ropeTheta, headDim, cfg.ropeInvFreqBf16 ?? false);
  }

  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const { numHeads, numKvHeads, headDim, clipQkv, clipAfterNorm } = this.cfg;
    const [b, t] = x.shape;
    const clip = (z: Tensor) => (clipQkv === null ? z : clamp(z, -clipQkv, clipQkv));
    // One call for the three projections (linearGroup: one kernel call for compact inference weights).
    let [q, k, v] = linearGroup(x, [this.qProj.weight, this.kProj.weight, this.vProj.weight]);
    if (!clipAfterNorm) [q, k, v] = [clip(q), clip(k), clip(v)];
    if (this.qNorm && this.kNorm) [q, k] = [this.qNorm.forward(q), this.kNorm.forward(k)];
    if (clipAfterNorm) [q, k, v] = [clip(q), clip(k), clip(v)];
    q = rope(reshape(q, [b, t, numHeads, headDim]), ctx.positions, this.invFreq);
    k = rope(reshape(k, [b, t, numKvHeads, headDim]), ctx.positions, this.invFreq);
    v = reshape(v, [b, t, numKvHeads, headDim]);
    let out: Tensor;
    if (ctx.packed && ctx.cache && ctx.lengths) {
      out = packedAttention(q, k, v, ctx.cache, ctx.lengths, ctx.packed);
    } else if (ctx.cache && ctx.lengths) {
      ctx.cache.write(k, v, ctx.lengths);
      const kvLens = ctx.lengths.map((len) => len + t);
      out = attention(q, ctx.cache.k, ctx.cache.v, { kvLens, validLens: ctx.validLens });
    } else {
      out = attention(q, k, v, { validLens: ctx.validLens });
    }
    return this.oProj.forward(reshape(out, [b, t, numHeads * headDim]));
  }
}
