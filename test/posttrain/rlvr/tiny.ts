// A tiny RLVR setup for tests: a 12-id vocabulary (0 EOS, 1 pad, 2–11 the digits 0–9), a random-init OLMo 2 and
// one fixed question whose verified answer is "4".
import { initModel, parseConfig, type CausalLM } from '../../../src/models/index.ts';
import { truncatedNormalInit } from '../../../src/nn/index.ts';
import { Generator } from '../../../src/tensor/index.ts';
import { resolveRlvrConfig, type RlvrConfigInput, type RlvrPrompt } from '../../../src/posttrain/rlvr/index.ts';

export const TINY_VOCAB = 12;
export const decodeDigits = (ids: number[]): string =>
  ids
    .filter((i) => i >= 2)
    .map((i) => String(i - 2))
    .join('');

export function tinyModel(seed = 3): CausalLM {
  const cfg = parseConfig(
    {
      model_type: 'olmo2',
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      vocab_size: TINY_VOCAB,
      max_position_embeddings: 32,
      eos_token_id: 0,
      pad_token_id: 1,
    },
    'tiny',
  );
  return initModel(cfg, truncatedNormalInit(new Generator(seed), 0.02));
}

export function fourPrompts(n: number): RlvrPrompt[] {
  // "2 + 2 =" as digit ids: the prompt content does not matter, only that it is fixed.
  return Array.from({ length: n }, (_, i) => ({ id: `q${i}`, ids: [4, 4, 11], groundTruth: '4', verifier: 'gsm8k' }));
}

export function tinyRlvrConfig(over: Partial<RlvrConfigInput> = {}) {
  return resolveRlvrConfig({
    output: '/nonexistent',
    model: '/nonexistent',
    data: { train: 'unused.jsonl' },
    steps: 12,
    promptsPerStep: 4,
    samplesPerPrompt: 8,
    epochsPerBatch: 2,
    lr: 0.02,
    generation: { maxNewTokens: 2, temperature: 1 },
    reward: { nonStopPenalty: false },
    eval: { limit: 64, temperature: 1 },
    seed: 5,
    ...over,
  });
}
