// The one table between olmo-ts (Hugging Face parameter names and config.json fields) and llama.cpp's GGUF
// (tensor names and metadata keys), for each architecture llama.cpp has for the OLMo families. The writer
// (gguf-export.ts) and the reader (gguf-load.ts) both go through it, so the two directions cannot drift.
//
// Facts from llama.cpp: architecture names in src/llama-arch.cpp, tensor names and shapes in
// src/models/olmo.cpp, olmo2.cpp and olmoe.cpp, keys in gguf-py/gguf/constants.py, and the HF → GGUF
// conversion (Q/K permutation for OLMo 1, experts stacked for OLMoE) in convert_hf_to_gguf.py:
// https://github.com/ggml-org/llama.cpp (files named above).

import type { ModelConfig, ModelType } from './config.ts';

/** llama.cpp's architecture names equal our model_type names for the three families. */
export type GgufArch = ModelType;
export const GGUF_ARCHES: readonly GgufArch[] = ['olmo', 'olmo2', 'olmoe'];

export function isGgufArch(name: unknown): name is GgufArch {
  return typeof name === 'string' && (GGUF_ARCHES as readonly string[]).includes(name);
}

/** Tensors outside the blocks. OLMo 1 has no parametric norms (its LayerNorm has no weight), so no output_norm. */
export const GLOBAL_TENSORS: Readonly<Record<GgufArch, Readonly<Record<string, string>>>> = {
  olmo: { 'model.embed_tokens.weight': 'token_embd.weight', 'lm_head.weight': 'output.weight' },
  olmo2: {
    'model.embed_tokens.weight': 'token_embd.weight',
    'model.norm.weight': 'output_norm.weight',
    'lm_head.weight': 'output.weight',
  },
  olmoe: {
    'model.embed_tokens.weight': 'token_embd.weight',
    'model.norm.weight': 'output_norm.weight',
    'lm_head.weight': 'output.weight',
  },
};

const ATTENTION: Readonly<Record<string, string>> = {
  'self_attn.q_proj.weight': 'attn_q.weight',
  'self_attn.k_proj.weight': 'attn_k.weight',
  'self_attn.v_proj.weight': 'attn_v.weight',
  'self_attn.o_proj.weight': 'attn_output.weight',
};
const QK_NORM: Readonly<Record<string, string>> = {
  'self_attn.q_norm.weight': 'attn_q_norm.weight',
  'self_attn.k_norm.weight': 'attn_k_norm.weight',
};
const DENSE_MLP: Readonly<Record<string, string>> = {
  'mlp.gate_proj.weight': 'ffn_gate.weight',
  'mlp.up_proj.weight': 'ffn_up.weight',
  'mlp.down_proj.weight': 'ffn_down.weight',
};

/**
 * Per-block tensors: the name after `model.layers.{i}.` → the name after `blk.{i}.`. OLMo 2 normalises the
 * outputs of attention and MLP (post_attention_norm, post_ffw_norm in llama.cpp); OLMoE normalises their inputs
 * (attn_norm, ffn_norm), though HF calls its second norm post_attention_layernorm too.
 */
export const LAYER_TENSORS: Readonly<Record<GgufArch, Readonly<Record<string, string>>>> = {
  olmo: { ...ATTENTION, ...DENSE_MLP },
  olmo2: {
    ...ATTENTION,
    ...QK_NORM,
    'post_attention_layernorm.weight': 'post_attention_norm.weight',
    'post_feedforward_layernorm.weight': 'post_ffw_norm.weight',
    ...DENSE_MLP,
  },
  olmoe: {
    ...ATTENTION,
    ...QK_NORM,
    'input_layernorm.weight': 'attn_norm.weight',
    'post_attention_layernorm.weight': 'ffn_norm.weight',
    'mlp.gate.weight': 'ffn_gate_inp.weight',
  },
};

/**
 * OLMoE's experts: HF keeps one matrix per expert (`mlp.experts.{e}.gate_proj.weight`, [out, in]); GGUF stacks
 * them into one tensor per projection, torch shape [n_expert, out, in] (GGUF dims {in, out, n_expert}).
 */
export const EXPERT_TENSORS: Readonly<Record<'gate_proj' | 'up_proj' | 'down_proj', string>> = {
  gate_proj: 'ffn_gate_exps.weight',
  up_proj: 'ffn_up_exps.weight',
  down_proj: 'ffn_down_exps.weight',
};
export type ExpertProj = keyof typeof EXPERT_TENSORS;

export function expertHfName(layer: number, expert: number, proj: ExpertProj): string {
  return `model.layers.${layer}.mlp.experts.${expert}.${proj}.weight`;
}

/**
 * llama.cpp runs OLMo 1 with its NORM RoPE (rotating adjacent pairs), while HF rotates the two halves of each
 * head; convert_hf_to_gguf.py therefore permutes the rows of q_proj and k_proj for `olmo` (LlamaModel.permute).
 * OLMo 2 and OLMoE use the NEOX RoPE, which is HF's half split, and are stored unpermuted.
 */
export const PERMUTES_QK: Readonly<Record<GgufArch, boolean>> = { olmo: true, olmo2: false, olmoe: false };

/** Where one HF tensor goes in GGUF: a name, or a slot of a stacked expert tensor. */
export type GgufTarget = { name: string; expert?: undefined } | { name: string; expert: number; layer: number };

const LAYER_RE = /^model\.layers\.(\d+)\.(.+)$/;
const EXPERT_RE = /^mlp\.experts\.(\d+)\.(gate_proj|up_proj|down_proj)\.weight$/;

/** The GGUF tensor an HF parameter becomes, or null when llama.cpp's architecture has no place for it. */
export function hfToGguf(arch: GgufArch, hfName: string): GgufTarget | null {
  const global = GLOBAL_TENSORS[arch][hfName];
  if (global !== undefined) return { name: global };
  const m = LAYER_RE.exec(hfName);
  if (!m) return null;
  const layer = Number(m[1]);
  const inner = LAYER_TENSORS[arch][m[2]];
  if (inner !== undefined) return { name: `blk.${layer}.${inner}` };
  const e = arch === 'olmoe' ? EXPERT_RE.exec(m[2]) : null;
  if (!e) return null;
  return { name: `blk.${layer}.${EXPERT_TENSORS[e[2] as ExpertProj]}`, expert: Number(e[1]), layer };
}

/** Where one GGUF tensor comes from: an HF name, or (stacked experts) the layer and projection to unstack. */
export type HfSource = { hf: string; experts?: undefined } | { experts: { layer: number; proj: ExpertProj } };

const BLK_RE = /^blk\.(\d+)\.(.+)$/;

/** The HF parameter(s) a GGUF tensor holds, or null for a tensor name this architecture does not have. */
export function ggufToHf(arch: GgufArch, ggufName: string): HfSource | null {
  for (const [hf, g] of Object.entries(GLOBAL_TENSORS[arch])) if (g === ggufName) return { hf };
  const m = BLK_RE.exec(ggufName);
  if (!m) return null;
  const layer = Number(m[1]);
  for (const [hf, g] of Object.entries(LAYER_TENSORS[arch]))
    if (g === m[2]) return { hf: `model.layers.${layer}.${hf}` };
  if (arch !== 'olmoe') return null;
  for (const [proj, g] of Object.entries(EXPERT_TENSORS)) {
    if (g === m[2]) return { experts: { layer, proj: proj as ExpertProj } };
  }
  return null;
}

/** A config.json field and the GGUF key (after `{arch}.`) that carries it. */
export interface ConfigKey {
  /** The config.json field (HF name). */
  hf: string;
  /** The key without its `{arch}.` prefix. */
  key: string;
  type: 'u32' | 'f32';
  /** Architectures that write and read it (all when absent). */
  archs?: readonly GgufArch[];
  /** A reader may do without it (llama.cpp treats it as optional). */
  optional?: boolean;
  /** The value a writer stores, from the parsed config (null: not written). */
  get: (c: ModelConfig) => number | null;
}

/**
 * config.json ↔ `{arch}.*` keys. llama.cpp reads the RMSNorm eps as layer_norm_rms_epsilon (OLMo 2, OLMoE) and
 * OLMo 1's LayerNorm eps (fixed at 1e-5 in HF) as layer_norm_epsilon; OLMo 1's clip_qkv is clamp_kqv, which the
 * OLMo 2 and OLMoE graphs never read. head_dim travels as key_length and value_length.
 */
export const CONFIG_KEYS: readonly ConfigKey[] = [
  { hf: 'max_position_embeddings', key: 'context_length', type: 'u32', get: (c) => c.maxPositionEmbeddings },
  { hf: 'hidden_size', key: 'embedding_length', type: 'u32', get: (c) => c.hiddenSize },
  { hf: 'num_hidden_layers', key: 'block_count', type: 'u32', get: (c) => c.numLayers },
  { hf: 'intermediate_size', key: 'feed_forward_length', type: 'u32', get: (c) => c.intermediateSize },
  { hf: 'num_attention_heads', key: 'attention.head_count', type: 'u32', get: (c) => c.numHeads },
  { hf: 'num_key_value_heads', key: 'attention.head_count_kv', type: 'u32', get: (c) => c.numKvHeads },
  { hf: 'head_dim', key: 'attention.key_length', type: 'u32', optional: true, get: (c) => c.headDim },
  { hf: 'head_dim', key: 'attention.value_length', type: 'u32', optional: true, get: (c) => c.headDim },
  { hf: 'rope_theta', key: 'rope.freq_base', type: 'f32', get: (c) => c.ropeTheta },
  {
    hf: 'rms_norm_eps',
    key: 'attention.layer_norm_rms_epsilon',
    type: 'f32',
    archs: ['olmo2', 'olmoe'],
    get: (c) => c.normEps,
  },
  // HF's OLMo LayerNorm has a fixed eps of 1e-5 (and no config field for it)
  { hf: 'layer_norm_eps', key: 'attention.layer_norm_epsilon', type: 'f32', archs: ['olmo'], get: () => 1e-5 },
  {
    hf: 'clip_qkv',
    key: 'attention.clamp_kqv',
    type: 'f32',
    archs: ['olmo'],
    optional: true,
    get: (c) => c.clipQkv,
  },
  { hf: 'num_experts', key: 'expert_count', type: 'u32', archs: ['olmoe'], get: (c) => c.numExperts },
  {
    hf: 'num_experts_per_tok',
    key: 'expert_used_count',
    type: 'u32',
    archs: ['olmoe'],
    get: (c) => c.numExpertsPerTok,
  },
];

export function configKeysFor(arch: GgufArch): readonly ConfigKey[] {
  return CONFIG_KEYS.filter((k) => !k.archs || k.archs.includes(arch));
}

/** The full metadata key, e.g. `olmo2.attention.head_count`. */
export function archKey(arch: GgufArch, key: string): string {
  return `${arch}.${key}`;
}

/** Token-id fields of config.json ↔ tokenizer.ggml.* keys. */
export const TOKEN_ID_KEYS: Readonly<Record<'bos_token_id' | 'eos_token_id' | 'pad_token_id', string>> = {
  bos_token_id: 'tokenizer.ggml.bos_token_id',
  eos_token_id: 'tokenizer.ggml.eos_token_id',
  pad_token_id: 'tokenizer.ggml.padding_token_id',
};
