// The random-weight OLMo 2 models the benchmarks run: OLMo 2's norm epsilon and RoPE base, the initialiser's
// std 0.02, seed 0, and the fields each benchmark sets (sizes, context, special ids) over them.
import { initModel, parseConfig, type CausalLM } from '../src/models/index.ts';
import { truncatedNormalInit } from '../src/nn/index.ts';
import { Generator, inferenceWeight } from '../src/tensor/index.ts';

/** The 150M OLMo 2 shape the decode and serve benchmarks share: 12 layers, d 768, vocab 50304 (untied), ≈ 162M parameters. */
export const OLMO2_150M = {
  hidden_size: 768,
  intermediate_size: 2048,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  vocab_size: 50304,
} as const;

export function randomOlmo2(fields: Record<string, unknown>): CausalLM {
  const cfg = parseConfig({ model_type: 'olmo2', rms_norm_eps: 1e-6, rope_theta: 500000, ...fields });
  return initModel(cfg, truncatedNormalInit(new Generator(0), 0.02));
}

/**
 * The model as `olmo serve` and `olmo generate` hold a checkpoint's f32 weights (loadModel's weights 'stored'):
 * no gradients, and every matrix an inference weight, multiplied by the weight-streaming wgemm kernels rather
 * than the training GEMM.
 */
export function forInference(model: CausalLM): CausalLM {
  for (const [, t] of model.namedParameters()) {
    t.requiresGrad = false;
    if (t.rank === 2) inferenceWeight(t);
  }
  return model;
}
