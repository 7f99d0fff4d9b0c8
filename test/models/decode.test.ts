// Decoding and scoring: KV-cache decoding equals full recomputation, greedy matches transformers, scoring
// is batch-invariant, and checkpoints round-trip bit for bit — for the fixtures and for other shapes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, tensor, tidy } from '../../src/tensor/index.ts';
import { generate, loadModel, saveModel, scoreLoglikelihood, type CausalLM } from '../../src/models/index.ts';
import { assertClose } from '../helpers.ts';
import { readReference } from './reference.ts';
import { VARIANTS, randomModel } from './variants.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

function fixtureModels(): [string, () => CausalLM][] {
  return [
    ...['olmo', 'olmo2', 'olmoe'].map((f): [string, () => CausalLM] => [
      f,
      () => loadModel(join(FIXTURES, f, 'model'), { trainable: false }),
    ]),
    ...Object.entries(VARIANTS).map(([name, raw]): [string, () => CausalLM] => [name, () => randomModel(raw)]),
  ];
}

function fullLogits(model: CausalLM, ids: number[]): Float32Array {
  return noGrad(() =>
    tidy(() =>
      model
        .forward(tensor(Int32Array.from(ids), [1, ids.length], 'i32'))
        .logits.f32()
        .slice(),
    ),
  );
}

describe('decoding with the KV cache', () => {
  for (const [name, make] of fixtureModels()) {
    it(`${name}: cached decoding gives the logits of full recomputation, batched with different lengths`, () => {
      const model = make();
      const vocab = model.config.vocabSize;
      const seqs = [
        [5, 9, 2, 7, 3, 11, 4],
        [8, 6, 10, 12],
      ];
      const prompt = [4, 2];
      const cache = model.createCache(2, 8);
      noGrad(() => {
        // Prefill the two prompts (right-padded to 4), then feed one token per step.
        tidy(() => {
          const ids = new Int32Array(8).fill(1);
          seqs.forEach((s, b) => ids.set(s.slice(0, prompt[b]), b * 4));
          const out = model.forward(tensor(ids, [2, 4], 'i32'), { cache }).logits.f32();
          seqs.forEach((s, b) => {
            const full = fullLogits(model, s.slice(0, prompt[b]));
            assertClose(
              out.subarray((b * 4 + prompt[b] - 1) * vocab, (b * 4 + prompt[b]) * vocab),
              full.subarray((prompt[b] - 1) * vocab),
              { atol: 1e-4, rtol: 0, label: `${name} prefill ${b}` },
            );
          });
        });
        prompt.forEach((p, b) => (cache.lengths[b] = p));
        for (let step = 0; step < 2; step++) {
          tidy(() => {
            const ids = Int32Array.from(seqs.map((s, b) => s[prompt[b] + step]));
            const out = model.forward(tensor(ids, [2, 1], 'i32'), { cache }).logits.f32();
            seqs.forEach((s, b) => {
              const len = prompt[b] + step + 1;
              const full = fullLogits(model, s.slice(0, len));
              assertClose(out.subarray(b * vocab, (b + 1) * vocab), full.subarray((len - 1) * vocab), {
                atol: 1e-4,
                rtol: 0,
                label: `${name} step ${step} seq ${b}`,
              });
            });
          });
        }
      });
      cache.dispose();
    });
  }

  it('generation drops finished sequences from the batch, and each sequence gets what it gets alone', () => {
    const model = loadModel(join(FIXTURES, 'olmo2', 'model'), { trainable: false });
    const prompts = [[5, 9, 2], [8, 6, 10, 12], [4, 2], [7, 3, 11, 4, 1], [9, 9], [2, 5, 8], [6], [12, 3, 3]];
    const free = prompts.map((p) => generate(model, [p], { maxNewTokens: 8, eosTokenIds: [] }).tokens[0]);
    // End-of-sequence ids taken from the free continuations at different depths, so sequences end at different steps.
    const eosTokenIds = [...new Set([free[0][1], free[2][3], free[5][5]])];
    const alone = prompts.map((p) => generate(model, [p], { maxNewTokens: 8, eosTokenIds }));
    const batchSizes: number[] = [];
    const forward = model.forward.bind(model);
    model.forward = (ids, opts) => (batchSizes.push(ids.shape[0]), forward(ids, opts));
    const together = generate(model, prompts, { maxNewTokens: 8, eosTokenIds });
    prompts.forEach((_, b) => {
      assert.deepEqual(together.tokens[b], alone[b].tokens[0], `sequence ${b}`);
      assert.equal(together.finishReasons[b], alone[b].finishReasons[0], `sequence ${b}`);
    });
    const ended = new Set(
      alone.map((r) => (r.finishReasons[0] === 'eos' ? r.tokens[0].length : -1)).filter((n) => n >= 0),
    );
    assert.ok(ended.size >= 2, `sequences end at different steps: ${[...ended]}`);
    assert.equal(batchSizes[0], prompts.length);
    assert.ok(Math.min(...batchSizes) < prompts.length, `decode batches ${batchSizes.join(',')} never shrank`);
  });

  it('a KV cache selection keeps the chosen sequences, in order, and names a row that is not there', () => {
    const model = loadModel(join(FIXTURES, 'olmo2', 'model'), { trainable: false });
    const cache = model.createCache(3, 6);
    noGrad(() =>
      tidy(() => void model.forward(tensor(Int32Array.from([5, 9, 2, 8, 6, 10, 4, 2, 7]), [3, 3], 'i32'), { cache })),
    );
    cache.lengths.set([3, 2, 3]);
    const picked = cache.select([2, 1]);
    assert.deepEqual([...picked.lengths], [3, 2]);
    const row = picked.layers[0].kvHeads * picked.layers[0].headDim;
    const src = cache.layers[1].k.f32();
    const dst = picked.layers[1].k.f32();
    assert.deepEqual(dst.subarray(0, 3 * row), src.subarray(2 * 6 * row, (2 * 6 + 3) * row));
    assert.deepEqual(dst.subarray(6 * row, (6 + 2) * row), src.subarray(6 * row, (6 + 2) * row));
    assert.throws(() => cache.select([0, 3]), /KV cache select: row 3 is not in \[0, 3\)/);
    picked.dispose();
    cache.dispose();
  });

  for (const family of ['olmo', 'olmo2', 'olmoe']) {
    it(`${family}: greedy continuation equals transformers'`, () => {
      const model = loadModel(join(FIXTURES, family, 'model'), { trainable: false });
      const ref = readReference(family, 'greedy.safetensors');
      const prompt = [...ref.ids('prompt').i32()];
      const expected = [...ref.ids('greedy').i32()];
      const { tokens } = generate(model, [prompt], { maxNewTokens: expected.length - prompt.length, eosTokenIds: [] });
      assert.deepEqual([...prompt, ...tokens[0]], expected);
    });
  }
});

describe('scoring', () => {
  for (const [name, make] of fixtureModels()) {
    it(`${name}: log-likelihoods match full recomputation and are batch-invariant`, () => {
      const model = make();
      const requests = [
        { context: [5, 9, 2], continuation: [7] },
        { context: [5, 9, 2], continuation: [3, 11, 4] },
        { context: [8, 6], continuation: [10, 12] },
        { context: [5, 9, 2], continuation: [2, 2] },
        { context: [13], continuation: [6, 5, 4, 3] },
      ];
      const batched = scoreLoglikelihood(model, requests, { batchSize: 8 });
      requests.forEach((r, i) => {
        const all = [...r.context, ...r.continuation];
        const logits = fullLogits(model, all.slice(0, -1));
        const vocab = model.config.vocabSize;
        r.continuation.forEach((tok, j) => {
          const row = logits.subarray((r.context.length - 1 + j) * vocab, (r.context.length + j) * vocab);
          let m = -Infinity;
          for (const v of row) m = Math.max(m, v);
          let s = 0;
          for (const v of row) s += Math.exp(v - m);
          assertClose([batched[i].logprobs[j]], [row[tok] - m - Math.log(s)], {
            atol: 1e-4,
            rtol: 0,
            label: `${name} request ${i} token ${j}`,
          });
        });
      });
      for (const batchSize of [1, 2, 3]) {
        const again = scoreLoglikelihood(model, requests, { batchSize });
        again.forEach((res, i) => {
          assert.ok(
            Math.abs(res.sum - batched[i].sum) <= 1e-6,
            `${name}: request ${i} sum ${res.sum} vs ${batched[i].sum} (batch ${batchSize})`,
          );
          assert.equal(res.isGreedy, batched[i].isGreedy);
        });
      }
      requests.forEach((r, i) => {
        const [alone] = scoreLoglikelihood(model, [r]);
        assert.ok(
          Math.abs(alone.sum - batched[i].sum) <= 1e-6,
          `${name}: request ${i} alone ${alone.sum} vs batched ${batched[i].sum}`,
        );
        assert.equal(alone.isGreedy, batched[i].isGreedy);
      });
    });
  }
});

describe('checkpoints', () => {
  for (const [name, make] of fixtureModels()) {
    it(`${name}: save → load is bit-identical (f32)`, () => {
      const model = make();
      const dir = mkdtempSync(join(tmpdir(), 'olmo-save-'));
      try {
        saveModel(model, join(dir, 'ckpt'));
        const again = loadModel(join(dir, 'ckpt'));
        const a = new Map(model.namedParameters());
        const b = new Map(again.namedParameters());
        assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
        for (const [n, t] of a)
          assert.deepEqual(new Uint32Array(b.get(n)!.f32().slice().buffer), new Uint32Array(t.f32().slice().buffer), n);
        assert.deepEqual(again.config.raw.model_type, model.config.modelType);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
