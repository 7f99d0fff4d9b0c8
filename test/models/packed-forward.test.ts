// A packed forward (several sequences' new tokens in one row, each continuing its own cache row: olmo serve's
// step, some sequences decoding while others prefill) gives every token the logits and keys/values of a forward
// of its sequence alone, bit for bit, on every kernel path; and malformed packings are refused.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backendName, noGrad, setBackend, tensor, tidy } from '../../src/tensor/index.ts';
import { loadModel, type CausalLM, type ForwardOptions, type LoadOptions } from '../../src/models/index.ts';
import { nativeAddonOrNull, randInts } from '../helpers.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const WEIGHTS: [string, string, LoadOptions][] = [
  ['f32', 'model', { trainable: false }],
  ['bf16', 'model-bf16', { weights: 'stored' }],
];
const LENS = [24, 12, 17];
const CAPACITY = 32;

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** A sequence prefilled alone in one forward: every position's logits and its keys/values per layer. */
function alone(model: CausalLM, ids: number[]): { logits: Float32Array; kv: Float32Array[] } {
  const cache = model.createCache(1, CAPACITY);
  try {
    const logits = noGrad(() =>
      tidy(() =>
        model
          .forward(tensor(Int32Array.from(ids), [1, ids.length], 'i32'), { cache })
          .logits.f32()
          .slice(),
      ),
    );
    return { logits, kv: cache.layers.flatMap((l) => [l.k.f32().slice(), l.v.f32().slice()]) };
  } finally {
    cache.dispose();
  }
}

/**
 * Steps of a server: each step pieces "s:n" (sequence s's next n tokens) packed into one forward, sequence s in
 * cache row SLOTS[s].
 */
const SLOTS = [3, 0, 2];
const STEPS: [number, number][][] = [
  '0:10', // a prompt chunk alone
  '0:5 1:9', // two prefills side by side
  '1:1 0:1 2:12', // two decode rows and a prefill
  '2:5 0:1 1:1',
  '1:1 0:1', // decode rows alone
  '0:6',
].map((step) => step.split(' ').map((p) => p.split(':').map(Number) as [number, number]));

function packedRun(model: CausalLM, seqs: number[][]): { logits: Float32Array[]; kv: Float32Array[][] } {
  const vocab = model.config.vocabSize;
  const cache = model.createCache(4, CAPACITY);
  const logits = seqs.map((s) => new Float32Array(s.length * vocab));
  const done = seqs.map(() => 0);
  try {
    for (const step of STEPS) {
      const ids = step.flatMap(([s, n]) => seqs[s].slice(done[s], done[s] + n));
      const packed = { slots: step.map(([s]) => SLOTS[s]), counts: step.map(([, n]) => n) };
      noGrad(() =>
        tidy(() => {
          const out = model.forward(tensor(Int32Array.from(ids), [1, ids.length], 'i32'), { cache, packed });
          const data = out.logits.f32();
          let at = 0;
          for (const [s, n] of step) {
            logits[s].set(data.subarray(at * vocab, (at + n) * vocab), done[s] * vocab);
            at += n;
            done[s] += n;
          }
        }),
      );
    }
    assert.deepEqual(done, LENS, 'the steps cover every token');
    SLOTS.forEach((slot, s) => assert.equal(cache.lengths[slot], LENS[s], `cache row ${slot}'s length`));
    const kv = SLOTS.map((slot) =>
      cache.layers.flatMap((l) => [l.rows(slot, 1).k.f32().slice(), l.rows(slot, 1).v.f32().slice()]),
    );
    return { logits, kv };
  } finally {
    cache.dispose();
  }
}

const backends = nativeAddonOrNull() ? (['js', 'native'] as const) : (['js'] as const);

for (const backend of backends)
  for (const family of ['olmo2', 'olmoe'])
    for (const [weights, folder, opts] of WEIGHTS)
      describe(`${family} ${weights} on ${backend}: a packed forward`, () => {
        const model = loadModel(join(FIXTURES, family, folder), opts);
        const seqs = LENS.map((n, i) => [...randInts(n, 2, model.config.vocabSize, 10 + i)]);
        let previous = backendName();
        before(() => ((previous = backendName()), setBackend(backend)));
        after(() => setBackend(previous as typeof backend));
        it("gives each token its sequence's logits and keys/values alone", () => {
          const got = packedRun(model, seqs);
          seqs.forEach((ids, s) => {
            const want = alone(model, ids);
            assert.ok(bitsEqual(got.logits[s], want.logits), `sequence ${s}: logits differ`);
            want.kv.forEach((t, i) => assert.ok(bitsEqual(got.kv[s][i], t), `sequence ${s}: cache tensor ${i}`));
          });
        });
        it('computes only the logits rows packed.logitsAt asks for', () => {
          const vocab = model.config.vocabSize;
          const cache = model.createCache(2, CAPACITY);
          const ids = [...seqs[0].slice(0, 7), ...seqs[1].slice(0, 4)];
          const packed = { slots: [1, 0], counts: [7, 4] };
          const rows = noGrad(() =>
            tidy(() => {
              const out = model.forward(tensor(Int32Array.from(ids), [1, 11], 'i32'), {
                cache,
                packed: { ...packed, logitsAt: [10, 6] },
              });
              assert.deepEqual(out.logits.shape, [1, 2, vocab]);
              return out.logits.f32().slice();
            }),
          );
          cache.dispose();
          const a = alone(model, seqs[0].slice(0, 7)).logits;
          const b = alone(model, seqs[1].slice(0, 4)).logits;
          assert.ok(bitsEqual(rows.subarray(0, vocab), b.subarray(3 * vocab, 4 * vocab)), 'row of position 10');
          assert.ok(bitsEqual(rows.subarray(vocab), a.subarray(6 * vocab, 7 * vocab)), 'row of position 6');
        });
      });

describe('a packed forward refuses malformed packings', () => {
  const model = loadModel(join(FIXTURES, 'olmo2', 'model'), { trainable: false });
  const cache = model.createCache(3, CAPACITY);
  const run = (ids: number[][], opts: ForwardOptions) =>
    noGrad(() =>
      tidy(() => model.forward(tensor(Int32Array.from(ids.flat()), [ids.length, ids[0].length], 'i32'), opts)),
    );
  const cases: [string, number[][], ForwardOptions, RegExp][] = [
    ['no cache', [[5, 6, 7]], { packed: { slots: [0], counts: [3] } }, /a packed input needs a cache/],
    [
      'two rows',
      [[5], [6]],
      { cache, packed: { slots: [0, 1], counts: [1, 1] } },
      /one row of tokens \[1, T\], got 2 rows/,
    ],
    [
      'counts short',
      [[5, 6, 7]],
      { cache, packed: { slots: [0, 1], counts: [1, 1] } },
      /add up to 2 tokens, the input has 3/,
    ],
    ['a row twice', [[5, 6]], { cache, packed: { slots: [1, 1], counts: [1, 1] } }, /cache row 1 appears twice/],
    [
      'a row outside',
      [[5, 6]],
      { cache, packed: { slots: [0, 3], counts: [1, 1] } },
      /slots\[1\] = 3 is not a cache row in \[0, 3\)/,
    ],
    [
      'an empty piece',
      [[5, 6]],
      { cache, packed: { slots: [0, 1], counts: [2, 0] } },
      /counts\[1\] = 0 is not a positive integer/,
    ],
    ['slots and counts differ', [[5, 6]], { cache, packed: { slots: [0], counts: [1, 1] } }, /1 slots and 2 counts/],
    [
      'with lengths',
      [[5, 6]],
      { cache, lengths: [2], packed: { slots: [0], counts: [2] } },
      /neither lengths nor logitsAt/,
    ],
    [
      'a logits row outside',
      [[5, 6]],
      { cache, packed: { slots: [0], counts: [2], logitsAt: [2] } },
      /packed.logitsAt\[0\] = 2 is outside \[0, 2\)/,
    ],
  ];
  it('with gradients on', () => {
    const ids = tensor(Int32Array.of(5, 6), [1, 2], 'i32');
    assert.throws(
      () => tidy(() => model.forward(ids, { cache, packed: { slots: [0], counts: [2] } })),
      /inference only/,
    );
    cache.lengths.fill(0);
  });
  for (const [what, ids, opts, message] of cases)
    it(what, () => {
      assert.throws(() => run(ids, opts), message);
      assert.deepEqual([...cache.lengths], [0, 0, 0], 'a refused forward leaves the cache as it was');
    });
});
