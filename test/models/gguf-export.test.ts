// exportGguf on the fixture models: llama.cpp's keys, tensor names and GGUF shapes (dims reversed, experts stacked),
// OLMo 1's Q/K rows permuted for llama.cpp's RoPE, q8_0 written from int8 weights as they are, the tokenizer's
// tokens/types/merges/pre-tokenizer, and every refusal naming what cannot be represented, leaving no file.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gguf } from '@huggingface/gguf';
import { unpackQ8_0 } from '../../src/io/gguf/q8_0.ts';
import { readGguf } from '../../src/io/gguf/reader.ts';
import { exportGguf, ExportRefusal, writeModelGguf } from '../../src/models/gguf-export.ts';
import { ggufPreTokenizer } from '../../src/models/gguf-vocab.ts';
import { loadModel } from '../../src/models/index.ts';
import { q8Parts, type Tensor } from '../../src/tensor/index.ts';
import { tinyTokenizerJson } from '../tokenizers/tiny-tokenizer.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'olmo-gguf-export-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function read(file: string) {
  const r = await gguf(file, { allowLocalFile: true });
  return {
    meta: r.metadata as unknown as Record<string, unknown>,
    tensors: r.tensorInfos,
    data: Number(r.tensorDataOffset),
  };
}

/** A copy of a fixture folder with a config edit and the tiny NeoX-style tokenizer. */
function variant(name: string, edit: (cfg: Record<string, unknown>) => void = () => {}, withTokenizer = true): string {
  const dir = fs.mkdtempSync(path.join(tmp, `${name}-`));
  fs.cpSync(path.join(FIXTURES, name, 'model'), dir, { recursive: true });
  const cfgPath = path.join(dir, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  edit(cfg);
  fs.writeFileSync(cfgPath, JSON.stringify(cfg));
  if (withTokenizer) fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  return dir;
}

const param = (m: ReturnType<typeof loadModel>, name: string): Tensor =>
  [...m.namedParameters()].find(([n]) => n === name)![1];

describe('exportGguf', () => {
  it('olmo2: llama.cpp keys, tensor names, reversed dims; the tokenizer with its types and pre-tokenizer', async () => {
    const out = path.join(tmp, 'olmo2.gguf');
    const r = await exportGguf({ model: variant('olmo2'), out });
    assert.equal(r.dtype, 'f32');
    assert.equal(r.preTokenizer, 'olmo');
    const { meta, tensors } = await read(out);
    assert.equal(meta['general.architecture'], 'olmo2');
    assert.equal(meta['olmo2.block_count'], 2);
    assert.equal(meta['olmo2.embedding_length'], 64);
    assert.equal(meta['olmo2.feed_forward_length'], 160);
    assert.equal(meta['olmo2.attention.head_count_kv'], 2);
    assert.equal(meta['olmo2.rope.freq_base'], 500000);
    assert.equal(meta['olmo2.attention.layer_norm_rms_epsilon'], Math.fround(1e-6));
    assert.equal(meta['tokenizer.ggml.model'], 'gpt2');
    const tokens = meta['tokenizer.ggml.tokens'] as string[];
    const types = meta['tokenizer.ggml.token_type'] as number[];
    assert.equal(tokens.length, 320, 'one token per embedding row');
    assert.deepEqual([tokens[0], types[0], tokens[265], types[265]], ['<|endoftext|>', 3, '  ', 4]);
    assert.deepEqual([tokens[300], types[300]], ['[PAD300]', 5]);
    assert.equal((meta['tokenizer.ggml.merges'] as string[])[0], 'h e');
    assert.equal(meta['tokenizer.ggml.eos_token_id'], 0);
    const byName = new Map(tensors.map((t) => [t.name, t]));
    assert.equal(byName.size, 3 + 2 * 11);
    assert.deepEqual(byName.get('blk.0.attn_k.weight')!.shape.map(Number), [64, 32]);
    assert.deepEqual(byName.get('blk.1.post_ffw_norm.weight')!.shape.map(Number), [64]);
    assert.ok(byName.has('blk.1.post_attention_norm.weight') && byName.has('output.weight'));
    for (const t of tensors) assert.equal(Number(t.offset) % 32, 0, `${t.name} is aligned`);
  });

  it('a GGUF re-exported (to q8_0) keeps its tokenizer keys, their types and its name', async () => {
    const first = path.join(tmp, 'olmo2-first.gguf');
    await exportGguf({ model: variant('olmo2'), out: first, name: 'tiny olmo2' });
    const again = path.join(tmp, 'olmo2-again.gguf');
    const r = await exportGguf({ model: first, out: again, dtype: 'q8_0' });
    assert.deepEqual([r.dtype, r.preTokenizer], ['q8_0', 'olmo']);
    const [a, b] = [readGguf(first), readGguf(again)];
    const tokenizerKeys = (f: ReturnType<typeof readGguf>) =>
      [...f.metadata.keys()].filter((k) => k.startsWith('tokenizer.'));
    assert.ok(tokenizerKeys(a).length >= 8, tokenizerKeys(a).join(', '));
    assert.deepEqual(tokenizerKeys(b), tokenizerKeys(a));
    for (const k of tokenizerKeys(a)) {
      assert.deepEqual(b.metadata.get(k), a.metadata.get(k), k);
      assert.deepEqual(b.metadataTypes.get(k), a.metadataTypes.get(k), `${k}'s type`);
    }
    assert.equal(b.metadata.get('general.name'), 'tiny olmo2');
    // --tokenizer none still writes none
    const bare = path.join(tmp, 'olmo2-bare.gguf');
    assert.equal((await exportGguf({ model: first, out: bare, tokenizer: null })).preTokenizer, null);
    assert.ok(!readGguf(bare).metadata.has('tokenizer.ggml.tokens'));
  });

  it('olmoe: experts stacked as ffn_*_exps [n_expert, …], router and norms f32 under q8_0', async () => {
    const out = path.join(tmp, 'olmoe.gguf');
    await exportGguf({ tokenizer: null, model: path.join(FIXTURES, 'olmoe', 'model'), out, dtype: 'q8_0' });
    const { meta, tensors, data } = await read(out);
    assert.equal(meta['olmoe.expert_count'], 8);
    assert.equal(meta['olmoe.expert_used_count'], 2);
    assert.equal(meta['tokenizer.ggml.model'], 'none', 'no tokenizer.json: llama.cpp’s empty vocabulary');
    const byName = new Map(tensors.map((t) => [t.name, t]));
    assert.deepEqual(byName.get('blk.0.ffn_down_exps.weight')!.shape.map(Number), [32, 64, 8]);
    assert.equal(byName.get('blk.0.ffn_up_exps.weight')!.dtype, 8);
    assert.equal(byName.get('blk.0.ffn_gate_inp.weight')!.dtype, 0);
    assert.equal(byName.get('blk.0.attn_norm.weight')!.dtype, 0);
    // expert 3's up_proj block equals quantizeWeight of that expert (via the int8 load)
    const m = loadModel(path.join(FIXTURES, 'olmoe', 'model'), { weights: 'int8', verify: 'none' });
    const up3 = param(m, 'model.layers.0.mlp.experts.3.up_proj.weight');
    const raw = fs.readFileSync(out);
    const per = (32 * 64 * 34) / 32;
    const at = data + Number(byName.get('blk.0.ffn_up_exps.weight')!.offset) + 3 * per;
    const got = unpackQ8_0(raw.subarray(at, at + per));
    assert.deepEqual(got, q8Parts(up3));
  });

  it('int8-loaded weights are written as they are (no requantisation)', async () => {
    const m = loadModel(path.join(FIXTURES, 'olmo2', 'model'), { weights: 'int8', verify: 'none' });
    const out = path.join(tmp, 'olmo2-int8.gguf');
    assert.equal(writeModelGguf(m, out).dtype, 'q8_0');
    const { tensors, data } = await read(out);
    const q = tensors.find((t) => t.name === 'blk.1.ffn_down.weight')!;
    const w = param(m, 'model.layers.1.mlp.down_proj.weight');
    const raw = fs.readFileSync(out);
    const at = data + Number(q.offset);
    assert.deepEqual(unpackQ8_0(raw.subarray(at, at + (64 * 160 * 34) / 32)), q8Parts(w));
  });

  it('olmo: Q/K rows permuted from HF half-split to llama.cpp adjacent pairs; V unchanged', async () => {
    const out = path.join(tmp, 'olmo.gguf');
    await exportGguf({ tokenizer: null, model: path.join(FIXTURES, 'olmo', 'model'), out, dtype: 'f32' });
    const { meta, tensors, data } = await read(out);
    assert.equal(meta['olmo.attention.layer_norm_epsilon'], Math.fround(1e-5));
    assert.ok(!tensors.some((t) => t.name === 'output_norm.weight'));
    const m = loadModel(path.join(FIXTURES, 'olmo', 'model'), { verify: 'none' });
    const raw = fs.readFileSync(out);
    const row = (name: string, r: number) => {
      const t = tensors.find((x) => x.name === name)!;
      const at = data + Number(t.offset) + r * 64 * 4;
      return new Float32Array(raw.buffer.slice(raw.byteOffset + at, raw.byteOffset + at + 256));
    };
    const q = param(m, 'model.layers.0.self_attn.q_proj.weight').f32();
    const v = param(m, 'model.layers.0.self_attn.v_proj.weight').f32();
    // head size 16: output row 16 + 2·3 + 1 (head 1, pair 3, second of the pair) is source row 16 + 8 + 3
    assert.deepEqual(row('blk.0.attn_q.weight', 23), q.subarray(27 * 64, 28 * 64));
    assert.deepEqual(row('blk.0.attn_q.weight', 22), q.subarray(19 * 64, 20 * 64));
    assert.deepEqual(row('blk.0.attn_v.weight', 23), v.subarray(23 * 64, 24 * 64));
  });

  const refusals: [string, () => Promise<unknown>, RegExp][] = [
    [
      'clip_qkv on olmo2',
      () =>
        exportGguf({
          tokenizer: null,
          model: variant('olmo2', (c) => (c.clip_qkv = 8)),
          out: path.join(tmp, 'r.gguf'),
        }),
      /clip_qkv = 8: llama.cpp's olmo2 graph does not clamp/,
    ],
    [
      'norm_topk_prob on olmoe',
      () =>
        exportGguf({
          tokenizer: null,
          model: variant('olmoe', (c) => (c.norm_topk_prob = true)),
          out: path.join(tmp, 'r.gguf'),
        }),
      /norm_topk_prob = true/,
    ],
    [
      'grouped KV heads on olmoe',
      () =>
        exportGguf({
          tokenizer: null,
          model: variant('olmoe', (c) => (c.num_key_value_heads = 2)),
          out: path.join(tmp, 'r.gguf'),
        }),
      /num_key_value_heads 2 ≠ num_attention_heads 4/,
    ],
    [
      'a head_dim other than hidden/heads',
      () =>
        exportGguf({
          tokenizer: null,
          model: variant('olmo2', (c) => (c.head_dim = 32)),
          out: path.join(tmp, 'r.gguf'),
        }),
      /head_dim 32 × num_attention_heads 4 ≠ hidden_size 64/,
    ],
    [
      'q8_0 of a matrix whose rows are 176 long',
      () =>
        exportGguf({
          tokenizer: null,
          model: path.join(FIXTURES, 'olmo', 'model'),
          out: path.join(tmp, 'r.gguf'),
          dtype: 'q8_0',
        }),
      /model\.layers\.0\.mlp\.down_proj\.weight → blk\.0\.ffn_down\.weight \[64, 176\]: q8_0 needs rows whose length is a multiple of 32/,
    ],
    [
      'a tokenizer with more tokens than embedding rows',
      () =>
        exportGguf({
          model: variant('olmo2', (c) => (c.vocab_size = 320)),
          out: path.join(tmp, 'r.gguf'),
          tokenizer: (() => {
            const d = fs.mkdtempSync(path.join(tmp, 'tok-'));
            const j = tinyTokenizerJson();
            (j.model as { vocab: Record<string, number> }).vocab['extra'] = 400;
            fs.writeFileSync(path.join(d, 'tokenizer.json'), JSON.stringify(j));
            return d;
          })(),
        }),
      /token "extra" has id 400, but the model's embedding has 320 rows/,
    ],
  ];
  for (const [what, run, re] of refusals) {
    it(`refuses ${what}, naming it, and leaves no file`, async () => {
      await assert.rejects(run, (e: Error) => e instanceof ExportRefusal && re.test(e.message));
      assert.equal(fs.existsSync(path.join(tmp, 'r.gguf')), false);
    });
  }

  it('names the pre-tokenizer: cl100k split → dbrx, ByteLevel+NFC → olmo, plain ByteLevel → gpt2, else null', () => {
    const bl = { type: 'ByteLevel', add_prefix_space: false, use_regex: true };
    assert.equal(ggufPreTokenizer({ pre_tokenizer: bl, normalizer: { type: 'NFC' } }), 'olmo');
    assert.equal(ggufPreTokenizer({ pre_tokenizer: bl, normalizer: null }), 'gpt2');
    assert.equal(ggufPreTokenizer({ pre_tokenizer: bl, normalizer: { type: 'Lowercase' } }), null);
    assert.equal(ggufPreTokenizer({ pre_tokenizer: { type: 'Whitespace' } }), null);
  });
});
