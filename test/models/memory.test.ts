// Memory needed by a model, computed from config.json alone, and the refusals built on it: a config or a token
// budget too large for the machine fails at once with the sizes involved, before anything is allocated; sizes
// that are zero, negative or fractional fail config validation naming the file, field, expectation and value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConfigError, createModel, generate, parseConfig, readConfig } from '../../src/models/index.ts';
import {
  MemoryError,
  activationBytes,
  assertFits,
  estimateMemory,
  kvCacheBytes,
  machineMemory,
  parameterCount,
  storedDType,
  weightBytes,
  type MachineMemory,
} from '../../src/models/memory.ts';
import { KVCache, placeholderInit } from '../../src/nn/index.ts';
import { VARIANTS, randomModel } from './variants.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const BASE = {
  model_type: 'olmo2',
  hidden_size: 64,
  intermediate_size: 160,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 320,
  max_position_embeddings: 64,
  eos_token_id: 0,
};

const elements = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

test('parameterCount equals the parameters the families build (olmo, olmo2, olmoe; tied, GQA, MQA, experts)', () => {
  const configs = [
    ...Object.values(VARIANTS).map((raw) => parseConfig({ max_position_embeddings: 64, ...raw })),
    ...['olmo', 'olmo2', 'olmoe'].map((f) => readConfig(join(FIXTURES, f, 'model'))),
  ];
  for (const cfg of configs) {
    const model = createModel(cfg, placeholderInit);
    let total = 0;
    let matrices = 0;
    let largest = 0;
    for (const [, p] of model.namedParameters()) {
      const n = elements(p.shape);
      total += n;
      if (p.shape.length === 2) matrices += n;
      largest = Math.max(largest, n);
    }
    assert.deepEqual(
      parameterCount(cfg),
      { total, matrices, largestTensor: largest },
      `${cfg.modelType} ${cfg.hiddenSize}`,
    );
  }
});

test('weight bytes by dtype: f32 4, bf16/f16 2, int8 one byte plus an f16 scale per 32 (norms f32)', () => {
  const cfg = readConfig(join(FIXTURES, 'olmo2', 'model'));
  const { total, matrices } = parameterCount(cfg);
  assert.equal(weightBytes(cfg, 'f32'), 4 * total);
  assert.equal(weightBytes(cfg, 'bf16'), 2 * total);
  assert.equal(weightBytes(cfg, 'f16'), 2 * total);
  assert.equal(weightBytes(cfg, 'int8'), matrices * (1 + 2 / 32) + (total - matrices) * 4);
  assert.equal(storedDType(cfg), 'f32');
  assert.equal(storedDType(readConfig(join(FIXTURES, 'olmo2', 'model-bf16'))), 'bf16');
});

test('kvCacheBytes equals what the KV cache allocates', () => {
  const model = randomModel(VARIANTS['olmo2 GQA tied']);
  const cache = model.createCache(3, 17);
  try {
    const allocated = cache.layers.reduce((s, l) => s + l.k.f32().byteLength + l.v.f32().byteLength, 0);
    assert.equal(kvCacheBytes(model.config, 3, 17), allocated);
    assert.equal(estimateMemory(model.config, { batch: 3, context: 17 }).kvCacheBytes, allocated);
  } finally {
    cache.dispose();
  }
});

test('activations grow with tokens and batch; training adds saved tensors, gradients and AdamW state', () => {
  const cfg = parseConfig(BASE);
  const one = activationBytes(cfg, 1, 10);
  assert.equal(activationBytes(cfg, 2, 10), 2 * one);
  assert.equal(activationBytes(cfg, 1, 20), 2 * one);
  // The logits alone are [tokens, vocab] f32.
  assert.ok(one > 10 * cfg.vocabSize * 4);
  assert.ok(activationBytes(cfg, 1, 10, { hiddenStates: true }) > one);
  // Generation's prefill computes logits at each sequence's last position only: 9 of 10 rows of logits fewer.
  assert.equal(activationBytes(cfg, 2, 10, { logitsPerSequence: 1 }), 2 * one - 2 * 9 * cfg.vocabSize * 4);
  const train = estimateMemory(cfg, { tokens: 10, training: true });
  const infer = estimateMemory(cfg, { tokens: 10 });
  assert.equal(train.trainingStateBytes, 3 * 4 * parameterCount(cfg).total);
  assert.ok(train.activationBytes > infer.activationBytes);
  assert.equal(train.totalBytes, train.weightBytes + train.activationBytes + train.trainingStateBytes);
});

test('absurd configs are refused before allocation, naming their sizes (hidden_size 1e9, num_hidden_layers 1e6)', () => {
  for (const [field, value] of [
    ['hidden_size', 1e9],
    ['num_hidden_layers', 1e6],
  ] as const) {
    const t0 = performance.now();
    assert.throws(
      () => createModel(parseConfig({ ...BASE, [field]: value }), placeholderInit),
      (e: unknown) =>
        e instanceof MemoryError &&
        e.message.includes(`${field} ${value}`) &&
        /needs [\d.]+ [KMGTPE]iB \(weights .* parameters in f32\)\), more than the .* available/.test(e.message),
    );
    assert.ok(performance.now() - t0 < 1000, `${field} took ${performance.now() - t0} ms to refuse`);
  }
  // The check reads OLMO_MEMORY_LIMIT: a model that fits nowhere below its weights is refused.
  const cfg = parseConfig(BASE);
  const tiny: MachineMemory = { availableBytes: weightBytes(cfg, 'f32') - 1, totalBytes: 1e9, source: 'test' };
  assert.throws(
    () => assertFits('x', estimateMemory(cfg), tiny),
    /x: needs .* more than the .* available \(test; total/,
  );
  assertFits('x', estimateMemory(cfg), { ...tiny, availableBytes: weightBytes(cfg, 'f32') });
  // A single tensor beyond what one typed array holds is refused even where memory would suffice.
  const huge: MachineMemory = { availableBytes: 1e30, totalBytes: 1e30, source: 'test' };
  assert.throws(
    () => assertFits('y', estimateMemory(parseConfig({ ...BASE, vocab_size: 2 ** 30 })), huge),
    /y: needs a tensor of .* elements, more than the \d+ one typed array/,
  );
});

test('generate refuses a token budget it cannot hold (was a raw "Invalid typed array length")', () => {
  const model = randomModel(VARIANTS['olmo2 GQA tied']);
  assert.throws(
    () => generate(model, [[2, 3, 4]], { maxNewTokens: 1e12, temperature: 0 }),
    (e: unknown) =>
      e instanceof MemoryError &&
      /^generating 1000000000000 tokens after 1 prompt\(s\) of up to 3 tokens: needs .*KV cache/.test(e.message),
  );
  // The KV cache itself checks its sizes (callers that build one directly).
  assert.throws(
    () => new KVCache(2, 1, 1e12, 2, 8),
    /KV cache: batch 1 × capacity 1000000000000 × 2 KV heads × head_dim 8 = .* elements per layer, more than/,
  );
  assert.throws(() => new KVCache(2, 1, 1.5, 2, 8), /KV cache: capacity must be a non-negative integer, got 1.5/);
});

test('machineMemory: OS figures, capped by a cgroup limit; OLMO_MEMORY_LIMIT overrides', () => {
  const m = machineMemory({});
  assert.ok(m.availableBytes > 0 && m.availableBytes <= m.totalBytes, JSON.stringify(m));
  assert.deepEqual(machineMemory({ OLMO_MEMORY_LIMIT: '16GiB' }), {
    availableBytes: 16 * 2 ** 30,
    totalBytes: 16 * 2 ** 30,
    source: 'OLMO_MEMORY_LIMIT',
  });
  assert.equal(machineMemory({ OLMO_MEMORY_LIMIT: '1000' }).availableBytes, 1000);
  assert.throws(
    () => machineMemory({ OLMO_MEMORY_LIMIT: 'lots' }),
    /OLMO_MEMORY_LIMIT must be a number of bytes or a size such as 16GiB or 500MB, got "lots"/,
  );
});

test('config validation refuses zero, negative and fractional sizes (file, field, expectation, value)', () => {
  const cases: [string, unknown, RegExp][] = [
    ['num_hidden_layers', 0, /^cfg\.json: field 'num_hidden_layers' must be ≥ 1, got 0$/],
    ['num_hidden_layers', -2, /^cfg\.json: field 'num_hidden_layers' must be ≥ 1, got -2$/],
    ['hidden_size', 0, /^cfg\.json: field 'hidden_size' must be ≥ 1, got 0$/],
    ['intermediate_size', 2.5, /^cfg\.json: field 'intermediate_size' must be an integer, got 2.5$/],
    ['vocab_size', -1, /^cfg\.json: field 'vocab_size' must be ≥ 1, got -1$/],
    ['max_position_embeddings', 0, /^cfg\.json: field 'max_position_embeddings' must be ≥ 1, got 0$/],
    ['num_attention_heads', '4', /^cfg\.json: field 'num_attention_heads' must be an integer, got "4"$/],
    ['rope_theta', 0, /^cfg\.json: field 'rope_theta' must be > 0, got 0$/],
    ['rms_norm_eps', -1e-6, /^cfg\.json: field 'rms_norm_eps' must be > 0, got -0.000001$/],
  ];
  for (const [field, value, message] of cases) {
    assert.throws(
      () => parseConfig({ ...BASE, [field]: value }, 'cfg.json'),
      (e: unknown) => e instanceof ConfigError && message.test(e.message),
      `${field}: ${value}`,
    );
  }
  assert.equal(parseConfig({ ...BASE, num_hidden_layers: 1 }).numLayers, 1);
});
