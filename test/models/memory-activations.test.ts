// What sets the peak memory of inference beyond the weights and the KV cache: a forward without a tape holds one
// block's activations at a time (each block's buffers return to the pool before the next block runs, so the pool
// does not grow with depth), generation materialises only the last position's logits of a prefill, and neither
// changes a number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, type CausalLM } from '../../src/models/index.ts';
import { clearPool, noGrad, tensor, tidy } from '../../src/tensor/index.ts';
import { pooledByteCount } from '../../src/tensor/pool.ts';
import { randomModel } from './variants.ts';

const SHAPE = {
  model_type: 'olmo2',
  hidden_size: 64,
  intermediate_size: 256,
  num_attention_heads: 4,
  num_key_value_heads: 4,
  vocab_size: 64,
};

const ids = (seq: number) =>
  tensor(
    Int32Array.from({ length: 2 * seq }, (_, i) => 2 + ((i * 7) % 60)),
    [2, seq],
    'i32',
  );

/** Bytes the pool holds after one no-tape forward in a scope: the most that forward had released at once. */
function pooledAfterForward(model: CausalLM, seq: number): number {
  clearPool();
  noGrad(() => tidy(() => void model.forward(ids(seq))));
  const bytes = pooledByteCount();
  clearPool();
  return bytes;
}

test('a forward without a tape holds one block of activations: the pool does not grow with depth', () => {
  const shallow = pooledAfterForward(randomModel({ ...SHAPE, num_hidden_layers: 2 }), 32);
  const deep = pooledAfterForward(randomModel({ ...SHAPE, num_hidden_layers: 8 }), 32);
  // One block's MLP intermediate alone is 2 × 32 × 256 × 4 B = 64 KiB: the pool holds at least that.
  assert.ok(shallow >= 2 * 32 * 256 * 4, `pool after a 2-layer forward: ${shallow} B`);
  // Holding every layer until the scope ends would pool about 4× as much for 8 layers as for 2.
  assert.ok(deep <= shallow * 1.25, `pool after 8 layers ${deep} B vs 2 layers ${shallow} B: grows with depth`);
});

test('no-tape (scoped blocks) and taped forwards give the same logits and hidden states, bit for bit', () => {
  for (const raw of [
    { ...SHAPE, num_hidden_layers: 3 },
    {
      ...SHAPE,
      model_type: 'olmoe',
      num_hidden_layers: 2,
      intermediate_size: 32,
      num_experts: 4,
      num_experts_per_tok: 2,
    },
  ]) {
    const model = randomModel(raw);
    const x = ids(9);
    const taped = tidy(() => {
      const out = model.forward(x, { outputHiddenStates: true });
      return [out.logits.f32().slice(), ...out.hiddenStates.map((h) => h.f32().slice())];
    });
    const scoped = noGrad(() =>
      tidy(() => {
        const out = model.forward(x, { outputHiddenStates: true });
        return [out.logits.f32().slice(), ...out.hiddenStates.map((h) => h.f32().slice())];
      }),
    );
    const plain = noGrad(() => tidy(() => model.forward(x).logits.f32().slice()));
    assert.equal(scoped.length, taped.length);
    scoped.forEach((a, i) => assert.deepEqual(a, taped[i], `${raw.model_type}: output ${i} differs`));
    assert.deepEqual(plain, taped[0], `${raw.model_type}: logits without hidden states differ`);
  }
});

test("generation's prefill materialises only each prompt's last logits ([B, 1, vocab]), same tokens", () => {
  const model = randomModel({ ...SHAPE, num_hidden_layers: 2 });
  const prompts = [
    [5, 6, 7, 8, 9, 10, 11],
    [12, 13, 14],
  ];
  const widths: number[] = [];
  const forward = model.forward.bind(model);
  model.forward = (input, opts) => {
    const out = forward(input, opts);
    widths.push(out.logits.shape[1]);
    return out;
  };
  const got = generate(model, prompts, { maxNewTokens: 4, temperature: 0, eosTokenIds: [] });
  assert.deepEqual(widths, [1, 1, 1, 1], 'logits positions per forward (prefill, then 3 decode steps)');
  // The same tokens as greedy decoding by full recomputation, with every position's logits.
  model.forward = forward;
  const expected = prompts.map((p) => {
    const seq = [...p];
    for (let i = 0; i < 4; i++) {
      const row = noGrad(() =>
        tidy(() => {
          const logits = model.forward(tensor(Int32Array.from(seq), [1, seq.length], 'i32')).logits;
          return logits.f32().slice((seq.length - 1) * 64, seq.length * 64);
        }),
      );
      seq.push(row.indexOf(Math.max(...row)));
    }
    return seq.slice(p.length);
  });
  assert.deepEqual(got.tokens, expected);
});
