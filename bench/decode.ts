// Decoding benchmark: prefill and decode tokens/s of random-weight OLMo 2 models of about 30M and 150M
// parameters, at batch 1 and 8, with the KV cache, and the process's resident memory.
//
// Prefill: a 128-token prompt per sequence. Decode: 32 greedy tokens per sequence after it. Each figure is
// the best of 3 runs (after a warm-up run) on the native backend.
import { Generator, backendName, noGrad, numThreads, tensor, tidy } from '../src/tensor/index.ts';
import type { CausalLM } from '../src/models/index.ts';
import { OLMO2_150M, randomOlmo2 } from './random-model.ts';
import type { BenchOptions, Measurement } from './run.ts';

const MODELS: Record<string, Record<string, unknown>> = {
  // 8 layers, d 384, vocab 20480 (untied): ≈ 30M parameters.
  '30M': { hidden_size: 384, intermediate_size: 1024, num_hidden_layers: 8, num_attention_heads: 6, vocab_size: 20480 },
  '150M': OLMO2_150M,
};

const PROMPT = 128;
const NEW = 32;

const makeModel = (raw: Record<string, unknown>): CausalLM => randomOlmo2({ max_position_embeddings: 4096, ...raw });

function timeRun(model: CausalLM, batch: number): { prefillSeconds: number; decodeSeconds: number } {
  const vocab = model.config.vocabSize;
  const gen = new Generator(1);
  const ids = new Int32Array(batch * PROMPT);
  for (let i = 0; i < ids.length; i++) ids[i] = gen.int(vocab);
  const cache = model.createCache(batch, PROMPT + NEW);
  try {
    return noGrad(() => {
      let t0 = performance.now();
      let next = tidy(() => {
        const { logits } = model.forward(tensor(ids, [batch, PROMPT], 'i32'), { cache });
        return lastTokens(logits.f32(), batch, PROMPT, vocab);
      });
      const prefillSeconds = (performance.now() - t0) / 1000;
      t0 = performance.now();
      for (let step = 0; step < NEW; step++) {
        next = tidy(() => {
          const { logits } = model.forward(tensor(next, [batch, 1], 'i32'), { cache });
          return lastTokens(logits.f32(), batch, 1, vocab);
        });
      }
      return { prefillSeconds, decodeSeconds: (performance.now() - t0) / 1000 };
    });
  } finally {
    cache.dispose();
  }
}

function lastTokens(logits: Float32Array, batch: number, seq: number, vocab: number): Int32Array {
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const row = logits.subarray(((b + 1) * seq - 1) * vocab, (b + 1) * seq * vocab);
    let best = 0;
    for (let i = 1; i < vocab; i++) if (row[i] > row[best]) best = i;
    out[b] = best;
  }
  return out;
}

export async function run(opts: BenchOptions): Promise<Measurement[]> {
  opts.log(`backend ${backendName()}, ${numThreads()} threads; prompt ${PROMPT} tokens, ${NEW} new tokens, best of 3`);
  const results: Measurement[] = [];
  const only = opts.args.find((a) => a in MODELS);
  for (const [name, raw] of Object.entries(MODELS)) {
    if (only && name !== only) continue;
    const model = makeModel(raw);
    opts.log(`${name}: ${(model.numParameters() / 1e6).toFixed(1)}M parameters`);
    for (const batch of [1, 8]) {
      timeRun(model, batch); // warm-up
      let prefill = Infinity;
      let decode = Infinity;
      for (let rep = 0; rep < 3; rep++) {
        const r = timeRun(model, batch);
        prefill = Math.min(prefill, r.prefillSeconds);
        decode = Math.min(decode, r.decodeSeconds);
      }
      results.push({ name: `${name} prefill batch ${batch}`, value: (batch * PROMPT) / prefill, unit: 'tokens/s' });
      results.push({ name: `${name} decode batch ${batch}`, value: (batch * NEW) / decode, unit: 'tokens/s' });
    }
    results.push({ name: `${name} resident memory`, value: process.memoryUsage().rss / 1048576, unit: 'MiB' });
  }
  return results;
}
