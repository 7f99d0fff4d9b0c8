// llama.cpp tokenises as dolma2 (OLMo 2's tokenizer) from a GGUF olmo-ts writes: a one-layer OLMo 2 with dolma2's
// 100,352-row vocabulary, exported with a dolma2 tokenizer.json (cl100k ranks and OLMo's special tokens, as
// allenai_dolma2.json spells them), loaded in llama.cpp, encodes pre-tokenizer edge cases to the same ids as the
// built-in dolma2 tokenizer. This checks the pre-tokenizer name the exporter writes (tokenizer.ggml.pre) against
// llama.cpp's own regexes for it; the quickstart's trained tokenizer gets the same check in quickstart-parity.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { exportGguf } from '../../src/models/gguf-export.ts';
import { initModel, parseConfig, saveModel } from '../../src/models/index.ts';
import { truncatedNormalInit } from '../../src/nn/index.ts';
import { Generator } from '../../src/tensor/index.ts';
import { dolma2Tokenizer, TULU_CHAT_TEMPLATE } from '../../src/tokenizers/index.ts';
import { dolma2TokenizerJson } from '../tokenizers/dolma2-json.ts';
import { LlamaRunner, loadLlama, TOKENIZER_TEXTS } from './llama-cpp.ts';

const dir = mkdtempSync(join(tmpdir(), 'olmo-llama-dolma2-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const llama = await loadLlama();

it('llama.cpp encodes text as dolma2 from an exported GGUF', { skip: typeof llama === 'string' && llama }, async () => {
  if (typeof llama === 'string') return;
  const cfg = parseConfig({
    model_type: 'olmo2',
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 2,
    vocab_size: 100352,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-6,
    rope_theta: 500000,
  });
  const modelDir = join(dir, 'model');
  saveModel(initModel(cfg, truncatedNormalInit(new Generator(0), 0.02)), modelDir);
  writeFileSync(join(modelDir, 'tokenizer.json'), JSON.stringify(dolma2TokenizerJson()));
  const special = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', pad_token: '<|pad|>' };
  writeFileSync(
    join(modelDir, 'tokenizer_config.json'),
    JSON.stringify({ ...special, chat_template: TULU_CHAT_TEMPLATE }),
  );
  const out = join(dir, 'dolma2.gguf');
  assert.equal((await exportGguf({ model: modelDir, out, dtype: 'f32' })).preTokenizer, 'dbrx');
  const runner = await LlamaRunner.open(llama, out, { contextSize: 256 });
  try {
    const dolma2 = dolma2Tokenizer();
    for (const text of [...TOKENIZER_TEXTS, '<|im_start|>user\nHi<|im_end|>', 'The quick brown fox, 2024-06-01.'])
      assert.deepEqual(runner.tokenize(text), dolma2.encode(text, { addSpecialTokens: false }), JSON.stringify(text));
  } finally {
    await runner.dispose();
  }
});
