// Loading GGUF models (src/models/gguf-load.ts): the fixture checkpoints exported with the GGUF writer load back
// with bit-identical logits (f32 and bf16 as stored, f32 trainable, --quantize int8 at load; q8_0 equal to our own
// int8 of the same weights); the config and tokenizer come from the file; bad files fail naming the file, the key
// or tensor, and what was expected.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GgufValueType } from '../../src/io/gguf/constants.ts';
import { kv, writeGguf, type GgufKv, type GgufTensorToWrite } from '../../src/io/gguf/writer.ts';
import { writeModelGguf, type GgufDType } from '../../src/models/gguf-export.ts';
import { hfToGguf } from '../../src/models/gguf-names.ts';
import { loadGguf, loadModel, readConfig, type CausalLM } from '../../src/models/index.ts';
import { createModel } from '../../src/models/families.ts';
import { parseConfig } from '../../src/models/config.ts';
import { placeholderInit } from '../../src/nn/index.ts';
import { tidy, type Tensor } from '../../src/tensor/index.ts';
import { readReference } from './reference.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const root = mkdtempSync(join(tmpdir(), 'olmo-gguf-load-'));
after(() => rmSync(root, { recursive: true, force: true }));

function logits(model: CausalLM, ids: Tensor): Float32Array {
  return tidy(() => model.forward(ids).logits.f32().slice());
}

/** The fixture folder exported as GGUF with the writer's library function. */
function exported(family: string, folder: string, dtype: GgufDType): string {
  const out = join(root, `${family}-${folder}-${dtype}.gguf`);
  writeModelGguf(loadModel(join(FIXTURES, family, folder), { weights: 'stored' }), out, { dtype, tokenizer: null });
  return out;
}

for (const family of ['olmo', 'olmo2', 'olmoe']) {
  describe(`${family}: GGUF round trip`, () => {
    const ids = readReference(family).ids('input_ids');
    const dir = join(FIXTURES, family, 'model');
    const f32 = exported(family, 'model', 'f32');

    it('the config read from the keys equals config.json (f32 keys back to their decimal values)', () => {
      const a = readConfig(f32);
      const b = readConfig(dir);
      for (const k of ['hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim'] as const)
        assert.equal(a[k], b[k], k);
      for (const k of ['vocabSize', 'maxPositionEmbeddings', 'ropeTheta', 'normEps', 'tieWordEmbeddings'] as const)
        assert.equal(a[k], b[k], k);
      assert.equal(a.numExperts, b.numExperts);
      assert.equal(a.numExpertsPerTok, b.numExpertsPerTok);
      assert.equal(a.clipQkv, b.clipQkv);
    });

    it('f32 as stored, f32 trainable and int8 at load give the safetensors model’s logits bit for bit', () => {
      for (const weights of ['stored', 'f32', 'int8'] as const) {
        const want = logits(loadModel(dir, { weights, trainable: false }), ids);
        const { model, tokenizer } = loadGguf(f32, { weights, trainable: false });
        assert.equal(tokenizer, null); // exported without one
        assert.deepEqual(logits(model, ids), want, `${family} weights ${weights}`);
      }
      const trainable = loadModel(f32); // loadModel takes a .gguf path too; f32 copies, trainable
      assert.ok([...trainable.namedParameters()].every(([, t]) => t.requiresGrad && t.dtype === 'f32'));
    });

    it('bf16 kept as stored gives the bf16 safetensors model’s logits bit for bit', () => {
      const bf16 = exported(family, 'model-bf16', 'bf16');
      const model = loadModel(bf16, { weights: 'stored' });
      // every matrix bf16 but OLMoE's router, which llama.cpp's files keep in f32 (ffn_gate_inp)
      const mats = [...model.namedParameters()].filter(([, t]) => t.rank === 2);
      for (const [name, t] of mats) assert.equal(t.dtype, name.endsWith('.mlp.gate.weight') ? 'f32' : 'bf16', name);
      const want = logits(loadModel(join(FIXTURES, family, 'model-bf16'), { weights: 'stored' }), ids);
      const got = logits(model, ids);
      if (family !== 'olmoe') return assert.deepEqual(got, want);
      // The f32 router sums its products in linearF32's order, the bf16 one in linearBf16's (pairs): the same
      // values, rounded differently, so OLMoE's logits agree to rounding rather than bit for bit.
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      assert.ok(worst < 1e-5, `max |Δlogit| ${worst}`);
    });
  });
}

// OLMo 1's fixture has an MLP width of 176, not a multiple of 32: no q8_0 file (the writer refuses it).
for (const family of ['olmo2', 'olmoe']) {
  it(`${family}: q8_0 holds the same quants and scales as our int8 of the same weights`, () => {
    const dir = join(FIXTURES, family, 'model');
    const ids = readReference(family).ids('input_ids');
    const q8 = exported(family, 'model', 'q8_0');
    const ours = loadModel(dir, { weights: 'int8' });
    const got = loadModel(q8, { weights: 'stored' });
    const ourParams = new Map(ours.namedParameters());
    for (const [name, t] of got.namedParameters()) {
      const o = ourParams.get(name)!;
      if (t.dtype !== 'q8_0') continue;
      assert.deepEqual(t.data, o.data, `${name}: q8_0 rows (quants and scales)`);
    }
    // llama.cpp keeps OLMoE's router (ffn_gate_inp) in f32 in a q8_0 file; our int8 quantises it. With --quantize
    // int8 the router is quantised at load too, and the logits are ours bit for bit.
    const router = [...got.namedParameters()].filter(([n]) => n.endsWith('.mlp.gate.weight'));
    assert.ok(router.every(([, t]) => t.dtype === 'f32'));
    assert.equal(router.length, family === 'olmoe' ? 2 : 0);
    assert.deepEqual(logits(loadModel(q8, { weights: 'int8' }), ids), logits(ours, ids));
    if (family === 'olmo2') assert.deepEqual(logits(got, ids), logits(ours, ids));
  });
}

// A tiny olmo2 GGUF written key by key, to break one thing at a time.
const TINY = {
  model_type: 'olmo2',
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 2,
  vocab_size: 64,
  max_position_embeddings: 16,
  rope_theta: 10000,
  rms_norm_eps: 1e-6,
};

function tinyMetadata(arch = 'olmo2'): [string, GgufKv][] {
  return [
    ['general.architecture', kv.str(arch)],
    [`${arch}.context_length`, kv.u32(16)],
    [`${arch}.embedding_length`, kv.u32(32)],
    [`${arch}.block_count`, kv.u32(1)],
    [`${arch}.feed_forward_length`, kv.u32(64)],
    [`${arch}.attention.head_count`, kv.u32(2)],
    [`${arch}.attention.head_count_kv`, kv.u32(2)],
    [`${arch}.rope.freq_base`, kv.f32(10000)],
    [`${arch}.attention.layer_norm_rms_epsilon`, kv.f32(1e-6)],
  ];
}

function tinyTensors(edit: (t: GgufTensorToWrite) => GgufTensorToWrite = (t) => t): GgufTensorToWrite[] {
  const model = createModel(parseConfig(TINY), placeholderInit);
  return [...model.namedParameters()].map(([name, p]) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    return edit({
      name: hfToGguf('olmo2', name)!.name,
      shape: p.shape,
      type: 'F32',
      data: (w) => w(new Uint8Array(n * 4)),
    });
  });
}

function tinyFile(name: string, metadata = tinyMetadata(), tensors = tinyTensors()): string {
  const path = join(root, name);
  writeGguf(path, metadata, tensors);
  return path;
}

describe('bad GGUF models', () => {
  it('a well-formed tiny file loads (the baseline the cases below break)', () => {
    const model = loadModel(tinyFile('tiny.gguf'), { weights: 'stored' });
    assert.equal(model.config.hiddenSize, 32);
    assert.equal(model.config.normEps, 1e-6);
    assert.equal(model.config.tieWordEmbeddings, false);
  });

  it('another architecture is refused, naming general.architecture and the supported ones', () => {
    const path = tinyFile('llama.gguf', tinyMetadata('llama'));
    assert.throws(
      () => loadModel(path),
      /llama\.gguf: general\.architecture is "llama"; olmo-ts runs olmo, olmo2, olmoe/,
    );
  });

  it('a missing required key is named', () => {
    const path = tinyFile(
      'nokey.gguf',
      tinyMetadata().filter(([k]) => k !== 'olmo2.block_count'),
    );
    assert.throws(() => readConfig(path), /nokey\.gguf: missing required key olmo2\.block_count/);
  });

  it('a key of the wrong type is named with what it holds', () => {
    const meta = tinyMetadata().map(([k, v]): [string, GgufKv] =>
      k === 'olmo2.attention.head_count' ? [k, kv.str('two')] : [k, v],
    );
    assert.throws(
      () => readConfig(tinyFile('strkey.gguf', meta)),
      /strkey\.gguf: key olmo2\.attention\.head_count must be a number, got string two/,
    );
  });

  it('a tensor whose shape disagrees with the config is named with both shapes', () => {
    const meta = tinyMetadata().map(([k, v]): [string, GgufKv] =>
      k === 'olmo2.feed_forward_length' ? [k, kv.u32(96)] : [k, v],
    );
    assert.throws(
      () => loadModel(tinyFile('shape.gguf', meta)),
      /shape\.gguf: tensor blk\.0\.ffn_\w+\.weight has shape \[\d+,\d+\], the config implies \[\d+,\d+\]/,
    );
  });

  it('a missing tensor is named', () => {
    const tensors = tinyTensors().filter((t) => t.name !== 'blk.0.attn_v.weight');
    assert.throws(
      () => loadModel(tinyFile('notensor.gguf', tinyMetadata(), tensors)),
      /notensor\.gguf: missing 1 tensor\(s\) for a olmo2 model: blk\.0\.attn_v\.weight/,
    );
  });

  it('a ggml type olmo-ts does not run (q4_0) is refused naming the tensor, the type and the loadable ones', () => {
    const tensors = tinyTensors((t) =>
      t.name === 'blk.0.attn_q.weight'
        ? { ...t, type: 'Q4_0', data: (w) => w(new Uint8Array((32 * 32 * 18) / 32)) }
        : t,
    );
    assert.throws(
      () => loadModel(tinyFile('q4.gguf', tinyMetadata(), tensors), { weights: 'stored' }),
      /q4\.gguf: tensor blk\.0\.attn_q\.weight has ggml type Q4_0; olmo-ts loads F32, F16, BF16, Q8_0/,
    );
  });

  it('general.file_type says bf16: the config declares bfloat16 (RoPE frequencies rounded as transformers does)', () => {
    const meta: [string, GgufKv][] = [...tinyMetadata(), ['general.file_type', kv.u32(32)]];
    const cfg = readConfig(tinyFile('ftbf16.gguf', meta));
    assert.equal(cfg.dtype, 'bfloat16');
    assert.equal(cfg.ropeInvFreqBf16, true);
  });

  it('trainable compact weights are refused as for a folder', () => {
    assert.throws(
      () => loadModel(join(root, 'tiny.gguf'), { weights: 'stored', trainable: true }),
      /tiny\.gguf: weights 'stored' are for inference and cannot be trainable/,
    );
  });

  it('token ids come from tokenizer.ggml.*', () => {
    const meta: [string, GgufKv][] = [
      ...tinyMetadata(),
      ['tokenizer.ggml.model', kv.str('none')],
      ['tokenizer.ggml.eos_token_id', kv.u32(3)],
      ['tokenizer.ggml.padding_token_id', kv.u32(4)],
      ['tokenizer.ggml.token_type', kv.array(GgufValueType.INT32, [])],
    ];
    const cfg = readConfig(tinyFile('ids.gguf', meta));
    assert.equal(cfg.eosTokenId, 3);
    assert.equal(cfg.padTokenId, 4);
    assert.equal(cfg.bosTokenId, null);
  });
});
