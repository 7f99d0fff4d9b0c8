// llama.cpp computes what olmo-ts computes from the GGUF files olmo-ts writes: the OLMo 2 and OLMoE fixtures are
// exported (f32 and q8_0), loaded in llama.cpp (node-llama-cpp's prebuilt CPU binary) and fed the same token ids;
// next-token log-probabilities agree at every position over the whole vocabulary, and greedy continuations are
// the same tokens.
//
// llama.cpp runs with attention in f32 (KV cache f32, flash attention off; see LlamaRunnerOptions.f32Attention),
// so that what is compared is the model's arithmetic; F32_BOUND and Q8_BOUND (llama-cpp.ts) say what each allows
// and why. Greedy continuations on these random-weight fixtures are compared at f32 only: their next-token
// distributions are nearly flat, so q8_0's activation rounding can swap near-tied tokens. The trained quickstart
// model's parity, greedy q8_0 chat included, is checked on the quickstart test's own run (quickstart-parity.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { exportGguf, type GgufDType } from '../../src/models/gguf-export.ts';
import { generate, loadModel } from '../../src/models/index.ts';
import { saveTrainedTokenizer, trainByteLevelBpeSync } from '../../src/tokenizers/train-bpe.ts';
import { randInts } from '../helpers.ts';
import { setInt8Fast } from '../../src/tensor/index.ts';
import { assertLogProbsClose, F32_BOUND, LlamaRunner, loadLlama, Q8_BOUND } from './llama-cpp.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const GREEDY_TOKENS = 24;

const dir = mkdtempSync(join(tmpdir(), 'olmo-llama-parity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The fixtures have no tokenizer, and llama.cpp (through node-llama-cpp) cannot load a GGUF without one: a byte-level
// BPE of 300 tokens (2 specials, 256 bytes, 42 merges) fits their 320-row embeddings; the exporter pads the rest.
const tokenizerDir = join(dir, 'tokenizer');
saveTrainedTokenizer(
  trainByteLevelBpeSync({ texts: ['the cat sat on the mat; the dog sat on the log. '.repeat(4)], vocabSize: 300 }),
  tokenizerDir,
);

const llama = await loadLlama();
const skip = typeof llama === 'string' ? llama : false;

/** Seeded prompts of a few lengths, ids anywhere in the vocabulary. */
function prompts(vocab: number): number[][] {
  return [5, 17, 40].map((n, i) => Array.from(randInts(n, 0, vocab, 100 + i)));
}

async function exported(name: string, dtype: GgufDType): Promise<string> {
  const out = join(dir, `${name}-${dtype}.gguf`);
  await exportGguf({ model: join(FIXTURES, name, 'model'), out, dtype, tokenizer: tokenizerDir });
  return out;
}

for (const name of ['olmo2', 'olmoe']) {
  describe(`llama.cpp parity: ${name} fixture exported to GGUF`, { skip }, () => {
    it(`f32: next-token log-probs within ${F32_BOUND} at every position; greedy ${GREEDY_TOKENS} tokens equal`, async () => {
      const runner = await LlamaRunner.open(llama as Exclude<typeof llama, string>, await exported(name, 'f32'), {
        contextSize: 128,
        f32Attention: true,
      });
      try {
        const model = loadModel(join(FIXTURES, name, 'model'), { trainable: false });
        await assertLogProbsClose(model, runner, prompts(model.config.vocabSize), F32_BOUND, `${name} f32`);
        for (const ids of prompts(model.config.vocabSize)) {
          const ours = generate(model, [ids], { maxNewTokens: GREEDY_TOKENS, temperature: 0, eosTokenIds: [] });
          assert.deepEqual(
            await runner.greedy(ids, GREEDY_TOKENS),
            ours.tokens[0],
            `greedy after ${ids.length} tokens`,
          );
        }
      } finally {
        await runner.dispose();
      }
    });

    it(`q8_0: next-token log-probs within ${Q8_BOUND} of olmo-ts's int8 weights, exact and fast modes`, async () => {
      const runner = await LlamaRunner.open(llama as Exclude<typeof llama, string>, await exported(name, 'q8_0'), {
        contextSize: 128,
        f32Attention: true,
      });
      try {
        const model = loadModel(join(FIXTURES, name, 'model'), { trainable: false, weights: 'int8' });
        await assertLogProbsClose(model, runner, prompts(model.config.vocabSize), Q8_BOUND, `${name} q8_0`);
        // The int8 fast mode quantises activations to q8_0 as llama.cpp's q8_0 matmul does (the same blocks, the
        // same quants; llama.cpp keeps the activations' scales in f16, olmo-ts in f32): within the same bound.
        setInt8Fast(true);
        try {
          await assertLogProbsClose(
            model,
            runner,
            prompts(model.config.vocabSize),
            Q8_BOUND,
            `${name} q8_0, int8 fast mode`,
          );
        } finally {
          setInt8Fast(undefined);
        }
      } finally {
        await runner.dispose();
      }
    });
  });
}
