// Small random models beyond the fixtures' shapes, shared by the model tests.
import { Generator } from '../../src/tensor/index.ts';
import { initModel, parseConfig, type CausalLM } from '../../src/models/index.ts';
import { truncatedNormalInit } from '../../src/nn/index.ts';

/** Small random models beyond the fixtures' shapes: GQA/MQA, tying, clip_qkv, expert counts, top-k, renormalisation. */
export const VARIANTS: Record<string, Record<string, unknown>> = {
  'olmo tied clip_qkv': {
    model_type: 'olmo',
    hidden_size: 48,
    intermediate_size: 80,
    num_hidden_layers: 2,
    num_attention_heads: 3,
    vocab_size: 97,
    tie_word_embeddings: true,
    clip_qkv: 0.05,
    rope_theta: 10000,
  },
  'olmo2 MQA': {
    model_type: 'olmo2',
    hidden_size: 48,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 6,
    num_key_value_heads: 1,
    vocab_size: 101,
    rms_norm_eps: 1e-6,
    rope_parameters: { rope_theta: 500000, rope_type: 'default' },
  },
  'olmo2 GQA tied': {
    model_type: 'olmo2',
    hidden_size: 32,
    intermediate_size: 40,
    num_hidden_layers: 3,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 64,
    tie_word_embeddings: true,
    rope_theta: 500000,
  },
  'olmoe top-3 of 5 renormalised clip': {
    model_type: 'olmoe',
    hidden_size: 32,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 80,
    num_experts: 5,
    num_experts_per_tok: 3,
    norm_topk_prob: true,
    clip_qkv: 0.5,
    rope_theta: 10000,
  },
};

export function randomModel(raw: Record<string, unknown>, seed = 7): CausalLM {
  return initModel(
    parseConfig({ max_position_embeddings: 64, eos_token_id: 0, pad_token_id: 1, ...raw }),
    truncatedNormalInit(new Generator(seed), 0.2),
  );
}
