// Hugging Face config.json for the OLMo families (model_type olmo, olmo2, olmoe), in both the v4 style
// (top-level rope_theta, torch_dtype) and the v5 style (rope_parameters.rope_theta, dtype).

import type { AttentionConfig } from '../nn/index.ts';

export const SUPPORTED_MODEL_TYPES = ['olmo', 'olmo2', 'olmoe'] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

export interface ModelConfig {
  modelType: ModelType;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** Embedding rows (the padded vocabulary). */
  vocabSize: number;
  maxPositionEmbeddings: number;
  ropeTheta: number;
  /** RMSNorm eps (olmo2, olmoe); OLMo 1's LayerNorm eps is fixed at 1e-5. */
  normEps: number;
  tieWordEmbeddings: boolean;
  clipQkv: number | null;
  eosTokenId: number | null;
  padTokenId: number | null;
  bosTokenId: number | null;
  /** MoE (olmoe only). */
  numExperts: number;
  numExpertsPerTok: number;
  normTopkProb: boolean;
  routerAuxLossCoef: number;
  /** The dtype the checkpoint declares (torch_dtype / dtype), e.g. "float32", "bfloat16". */
  dtype: string;
  /**
   * RoPE inverse frequencies rounded to bf16. transformers keeps inv_freq in the model's dtype, so a
   * checkpoint loaded in bf16 (and run in f32 afterwards) rotates with bf16-rounded frequencies; we follow
   * the checkpoint's declared dtype to give the same numbers.
   */
  ropeInvFreqBf16: boolean;
  /** The original JSON, kept so a saved checkpoint carries every field it came with. */
  raw: Record<string, unknown>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Json = Record<string, unknown>;

/** `min` is inclusive; `positive` asks for a value above 0 (eps, RoPE base: 0 is as wrong as negative). */
function field(
  raw: Json,
  source: string,
  name: string,
  kind: 'int' | 'number',
  opts: { min?: number; positive?: boolean; optional?: boolean } = {},
): number | undefined {
  const v = raw[name];
  if (v === undefined || v === null) {
    if (opts.optional) return undefined;
    throw new ConfigError(`${source}: missing required field '${name}'`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || (kind === 'int' && !Number.isInteger(v))) {
    throw new ConfigError(
      `${source}: field '${name}' must be ${kind === 'int' ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`,
    );
  }
  if (opts.min !== undefined && v < opts.min) {
    throw new ConfigError(`${source}: field '${name}' must be ≥ ${opts.min}, got ${v}`);
  }
  if (opts.positive && !(v > 0)) {
    throw new ConfigError(`${source}: field '${name}' must be > 0, got ${v}`);
  }
  return v;
}

function tokenId(raw: Json, source: string, name: string): number | null {
  const v = raw[name];
  if (v === undefined || v === null) return null;
  if (Array.isArray(v) && v.length > 0 && Number.isInteger(v[0])) return v[0] as number; // some configs list several EOS ids
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new ConfigError(`${source}: field '${name}' must be a token id, got ${JSON.stringify(v)}`);
}

/** Parses and validates a config.json object; `source` names the file in error messages. */
export function parseConfig(raw: unknown, source = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`${source}: expected a JSON object`);
  const r = raw as Json;
  const modelType = r.model_type;
  if (typeof modelType !== 'string' || !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new ConfigError(
      `${source}: unsupported model_type ${JSON.stringify(modelType)}; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    );
  }
  const type = modelType as ModelType;
  const hiddenSize = field(r, source, 'hidden_size', 'int', { min: 1 })!;
  const numHeads = field(r, source, 'num_attention_heads', 'int', { min: 1 })!;
  const numKvHeads = field(r, source, 'num_key_value_heads', 'int', { min: 1, optional: true }) ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    throw new ConfigError(
      `${source}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`,
    );
  }
  const headDim = field(r, source, 'head_dim', 'int', { min: 1, optional: true }) ?? hiddenSize / numHeads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new ConfigError(
      `${source}: head dimension ${headDim} (hidden_size / num_attention_heads) must be an even integer`,
    );
  }
  const ropeParams = r.rope_parameters as Json | undefined;
  const ropeTheta =
    (ropeParams && typeof ropeParams === 'object'
      ? field(ropeParams, `${source} rope_parameters`, 'rope_theta', 'number', { positive: true, optional: true })
      : undefined) ??
    field(r, source, 'rope_theta', 'number', { positive: true, optional: true }) ??
    10000;
  const ropeType =
    ropeParams?.rope_type ??
    (r.rope_scaling as Json | null | undefined)?.rope_type ??
    (r.rope_scaling as Json | null | undefined)?.type;
  if (ropeType !== undefined && ropeType !== 'default') {
    throw new ConfigError(
      `${source}: RoPE scaling type ${JSON.stringify(ropeType)} is not supported (only the default RoPE)`,
    );
  }
  const clip = r.clip_qkv;
  if (clip !== undefined && clip !== null && (typeof clip !== 'number' || !(clip > 0))) {
    throw new ConfigError(`${source}: clip_qkv must be null or a positive number, got ${JSON.stringify(clip)}`);
  }
  const isMoE = type === 'olmoe';
  const numExperts = isMoE
    ? (field(r, source, 'num_experts', 'int', { min: 1, optional: true }) ??
      field(r, source, 'num_local_experts', 'int', { min: 1 })!)
    : 0;
  const numExpertsPerTok = isMoE ? field(r, source, 'num_experts_per_tok', 'int', { min: 1 })! : 0;
  if (isMoE && numExpertsPerTok > numExperts) {
    throw new ConfigError(`${source}: num_experts_per_tok (${numExpertsPerTok}) exceeds num_experts (${numExperts})`);
  }
  return {
    modelType: type,
    hiddenSize,
    intermediateSize: field(r, source, 'intermediate_size', 'int', { min: 1 })!,
    numLayers: field(r, source, 'num_hidden_layers', 'int', { min: 1 })!,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: field(r, source, 'vocab_size', 'int', { min: 1 })!,
    maxPositionEmbeddings: field(r, source, 'max_position_embeddings', 'int', { min: 1, optional: true }) ?? 4096,
    ropeTheta,
    normEps:
      type === 'olmo'
        ? 1e-5
        : (field(r, source, 'rms_norm_eps', 'number', { positive: true, optional: true }) ??
          (type === 'olmo2' ? 1e-6 : 1e-5)),
    tieWordEmbeddings: r.tie_word_embeddings === true,
    clipQkv: typeof clip === 'number' ? clip : null,
    eosTokenId: tokenId(r, source, 'eos_token_id'),
    padTokenId: tokenId(r, source, 'pad_token_id'),
    bosTokenId: tokenId(r, source, 'bos_token_id'),
    numExperts,
    numExpertsPerTok,
    normTopkProb: r.norm_topk_prob === true,
    routerAuxLossCoef: isMoE ? (field(r, source, 'router_aux_loss_coef', 'number', { optional: true }) ?? 0.01) : 0,
    dtype: String(r.dtype ?? r.torch_dtype ?? 'float32'),
    ropeInvFreqBf16: String(r.dtype ?? r.torch_dtype ?? 'float32') === 'bfloat16',
    raw: { ...r },
  };
}

const ARCHITECTURES: Record<ModelType, string> = {
  olmo: 'OlmoForCausalLM',
  olmo2: 'Olmo2ForCausalLM',
  olmoe: 'OlmoeForCausalLM',
};

/** The config.json to save: the original fields, updated from the parsed config, readable by transformers v4 and v5. */
export function toHfConfig(cfg: ModelConfig, dtype: 'float32' | 'bfloat16' = 'float32'): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...cfg.raw,
    architectures: [ARCHITECTURES[cfg.modelType]],
    model_type: cfg.modelType,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    num_key_value_heads: cfg.numKvHeads,
    vocab_size: cfg.vocabSize,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    rope_theta: cfg.ropeTheta,
    rope_parameters: { rope_theta: cfg.ropeTheta, rope_type: 'default' },
    tie_word_embeddings: cfg.tieWordEmbeddings,
    eos_token_id: cfg.eosTokenId,
    pad_token_id: cfg.padTokenId,
    bos_token_id: cfg.bosTokenId,
    attention_bias: false,
    attention_dropout: 0,
    hidden_act: 'silu',
    dtype,
    torch_dtype: dtype,
  };
  if (cfg.headDim !== cfg.hiddenSize / cfg.numHeads) out.head_dim = cfg.headDim;
  if (cfg.modelType !== 'olmo2') out.clip_qkv = cfg.clipQkv;
  if (cfg.modelType !== 'olmo') out.rms_norm_eps = cfg.normEps;
  if (cfg.modelType === 'olmoe') {
    out.num_experts = cfg.numExperts;
    out.num_experts_per_tok = cfg.numExpertsPerTok;
    out.norm_topk_prob = cfg.normTopkProb;
    out.router_aux_loss_coef = cfg.routerAuxLossCoef;
  }
  return out;
}

/** The attention settings every family shares, from the config; the family says where QK-norm and clipping go. */
export function attentionConfigOf(
  cfg: ModelConfig,
  family: { qkNorm: boolean; normEps: number; clipQkv: number | null; clipAfterNorm: boolean },
): AttentionConfig {
  return {
    hiddenSize: cfg.hiddenSize,
    numHeads: cfg.numHeads,
    numKvHeads: cfg.numKvHeads,
    headDim: cfg.headDim,
    ropeTheta: cfg.ropeTheta,
    ropeInvFreqBf16: cfg.ropeInvFreqBf16,
    ...family,
  };
}
