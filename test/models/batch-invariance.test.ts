// Whole-model batch invariance (issue 16, point 5): a sequence's logits do not depend on which other
// sequences share its forward pass, on its position in the batch, nor on right padding after it; and
// KV-cache decoding of a sequence among others gives the tokens and logits it gets alone. Bit for bit, for
// the three fixture families with f32, bf16 (stored) and int8 (q8_0) weights, on the active backend (the
// native one when built) and on its AVX2 path where the CPU has AVX-512.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { attention, noGrad, tensor, tidy } from '../../src/tensor/index.ts';
import { createNativeKernels } from '../../src/tensor/kernels/native.ts';
import { generate, loadModel, type CausalLM, type LoadOptions } from '../../src/models/index.ts';
import { nativeAddonOrNull, randInts } from '../helpers.ts';
import { simdPaths, withCpuPath } from '../tensor/kernels/kernel-test-utils.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

const WEIGHTS: [string, string, LoadOptions][] = [
  ['f32', 'model', { trainable: false }],
  ['bf16', 'model-bf16', { weights: 'stored' }],
  ['int8', 'model', { weights: 'int8' }],
];

/** Bitwise equality of two float arrays (signed zeros and NaN payloads included). */
function assertBitEqual(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++)
    if (x[i] !== y[i]) assert.fail(`${what}: element ${i} differs: ${a[i]} vs ${b[i]}`);
}

/** Logits [B·T·vocab] of a batch of token rows, each right-padded to `width` (forward's `lengths`). */
function batchLogits(model: CausalLM, rows: readonly (readonly number[])[], width: number): Float32Array {
  const ids = new Int32Array(rows.length * width).fill(model.config.padTokenId ?? 0);
  rows.forEach((r, b) => ids.set(r, b * width));
  const lengths = rows.some((r) => r.length < width) ? rows.map((r) => r.length) : undefined;
  return noGrad(() =>
    tidy(() =>
      model
        .forward(tensor(ids, [rows.length, width], 'i32'), { lengths })
        .logits.f32()
        .slice(),
    ),
  );
}

function randomRow(len: number, vocab: number, seed: number): number[] {
  return [...randInts(len, 2, vocab, seed)];
}

/** The logits a KV-cache decode gives each prompt for its prompt's last token and `steps` fed tokens. */
function decodeLogits(model: CausalLM, prompts: number[][], feed: number[][]): Float32Array[][] {
  const vocab = model.config.vocabSize;
  const width = Math.max(...prompts.map((p) => p.length));
  const steps = feed[0].length;
  const cache = model.createCache(prompts.length, width + steps);
  const out: Float32Array[][] = prompts.map(() => []);
  try {
    noGrad(() => {
      tidy(() => {
        const ids = new Int32Array(prompts.length * width).fill(model.config.padTokenId ?? 0);
        prompts.forEach((p, b) => ids.set(p, b * width));
        const logits = model
          .forward(tensor(ids, [prompts.length, width], 'i32'), { cache, lengths: prompts.map((p) => p.length) })
          .logits.f32();
        prompts.forEach((p, b) =>
          out[b].push(logits.slice((b * width + p.length - 1) * vocab, (b * width + p.length) * vocab)),
        );
      });
      prompts.forEach((p, b) => (cache.lengths[b] = p.length));
      for (let s = 0; s < steps; s++)
        tidy(() => {
          const ids = Int32Array.from(feed.map((f) => f[s]));
          const logits = model.forward(tensor(ids, [prompts.length, 1], 'i32'), { cache }).logits.f32();
          prompts.forEach((_, b) => out[b].push(logits.slice(b * vocab, (b + 1) * vocab)));
        });
    });
  } finally {
    cache.dispose();
  }
  return out;
}

// The widest SIMD path, and AVX2 forced too where the CPU has AVX-512 (both must hold invariance).
const PATHS: (string | null)[] = nativeAddonOrNull() ? simdPaths() : [null];

function onPath<T>(path: string | null, fn: () => T): T {
  return path === null ? fn() : withCpuPath(path as Parameters<typeof withCpuPath>[0], fn);
}

for (const family of ['olmo', 'olmo2', 'olmoe'])
  for (const [weights, folder, opts] of WEIGHTS)
    describe(`${family} ${weights}: batch invariance`, () => {
      const model = loadModel(join(FIXTURES, family, folder), opts);
      const vocab = model.config.vocabSize;
      // Odd lengths, so that no kernel's tail handling lines up by chance.
      const LEN = 13;
      const seq = randomRow(LEN, vocab, 1);
      for (const path of PATHS) {
        const tag = path ? ` (${path})` : '';
        it(`a sequence alone equals itself in batches of 2..16 at several positions, and right-padded${tag}`, () => {
          onPath(path, () => {
            const alone = batchLogits(model, [seq], LEN);
            for (const b of [2, 3, 4, 5, 8, 11, 16])
              for (const at of new Set([0, b >> 1, b - 1])) {
                const rows = Array.from({ length: b }, (_, i) => (i === at ? seq : randomRow(LEN, vocab, 100 * b + i)));
                const out = batchLogits(model, rows, LEN);
                assertBitEqual(out.subarray(at * LEN * vocab, (at + 1) * LEN * vocab), alone, `batch ${b} at ${at}`);
              }
            // Right padding: the sequence padded to a longer width, among rows that fill that width.
            for (const width of [LEN + 1, LEN + 3, 2 * LEN + 5, 64])
              for (const [b, at] of [
                [1, 0],
                [3, 1],
                [6, 5],
              ]) {
                const rows = Array.from({ length: b }, (_, i) =>
                  i === at ? seq : randomRow(width, vocab, 7 * width + i),
                );
                const out = batchLogits(model, rows, width);
                assertBitEqual(
                  out.subarray(at * width * vocab, (at * width + LEN) * vocab),
                  alone,
                  `padded to ${width}, batch ${b} at ${at}`,
                );
              }
          });
        });

        it(`KV-cache decoding alone equals decoding in a batch of other sequences (logits and greedy tokens)${tag}`, () => {
          onPath(path, () => {
            const prompts = [5, 9, LEN, 2, 17, 1, 8].map((len, i) => randomRow(len, vocab, 50 + i));
            const feed = prompts.map((_, i) => randomRow(6, vocab, 80 + i));
            const together = decodeLogits(model, prompts, feed);
            prompts.forEach((p, b) => {
              const [alone] = decodeLogits(model, [p], [feed[b]]);
              alone.forEach((row, s) => assertBitEqual(together[b][s], row, `sequence ${b}, step ${s}`));
            });
            // generate(): greedy tokens of each prompt alone and in one batch (prefill padded, rows dropped as they end).
            const gen = { maxNewTokens: 10, eosTokenIds: [] as number[] };
            const batch = generate(model, prompts, gen).tokens;
            prompts.forEach((p, b) =>
              assert.deepEqual(batch[b], generate(model, [p], gen).tokens[0], `generate: sequence ${b}`),
            );
          });
        });
      }
    });

describe('padding lengths: bad input', () => {
  const model = loadModel(join(FIXTURES, 'olmo2', 'model'), { trainable: false });
  const ids = () => tensor(Int32Array.from([5, 9, 2, 8, 6, 10]), [2, 3], 'i32');
  it('forward names a lengths list of the wrong size or a length outside the width', () => {
    assert.throws(
      () => noGrad(() => tidy(() => void model.forward(ids(), { lengths: [3] }))),
      /forward: lengths has 1 entries for a batch of 2/,
    );
    assert.throws(
      () => noGrad(() => tidy(() => void model.forward(ids(), { lengths: [3, 4] }))),
      /forward: lengths\[1\] = 4 is outside \[0, 3\]/,
    );
    assert.throws(
      () => noGrad(() => tidy(() => void model.forward(ids(), { lengths: [1.5, 3] }))),
      /forward: lengths\[0\] = 1.5/,
    );
  });
  it("logitsAt gives the full logits' rows bit for bit, and names a bad position", () => {
    for (const [, folder, opts] of WEIGHTS) {
      const m = loadModel(join(FIXTURES, 'olmoe', folder), opts);
      const vocab = m.config.vocabSize;
      const full = noGrad(() =>
        tidy(() =>
          m
            .forward(ids(), { lengths: [3, 2] })
            .logits.f32()
            .slice(),
        ),
      );
      const picked = noGrad(() => tidy(() => m.forward(ids(), { lengths: [3, 2], logitsAt: [2, 1] }).logits));
      assert.deepEqual(picked.shape, [2, 1, vocab]);
      const got = picked.f32();
      assertBitEqual(got.subarray(0, vocab), full.subarray(2 * vocab, 3 * vocab), `${folder} row 0`);
      assertBitEqual(got.subarray(vocab), full.subarray(4 * vocab, 5 * vocab), `${folder} row 1`);
    }
    assert.throws(
      () => noGrad(() => tidy(() => void model.forward(ids(), { logitsAt: [0] }))),
      /forward: logitsAt has 1 entries for a batch of 2/,
    );
    assert.throws(
      () => noGrad(() => tidy(() => void model.forward(ids(), { logitsAt: [0, 3] }))),
      /forward: logitsAt\[1\] = 3 is outside \[0, 3\)/,
    );
  });
  it('attention names validLens of the wrong size or beyond a sequence', () => {
    const q = tensor(new Float32Array(2 * 3 * 2 * 4), [2, 3, 2, 4]);
    assert.throws(
      () => attention(q, q, q, { validLens: Int32Array.from([3]) }),
      /attention: .*validLens has 1 entries for batch 2/,
    );
    assert.throws(
      () => attention(q, q, q, { validLens: Int32Array.from([3, 4]) }),
      /attention: .*validLens\[1\] = 4 is outside \[0, 3\]/,
    );
    assert.throws(
      () => attention(q, q, q, { kvLens: Int32Array.from([2, 3]), validLens: Int32Array.from([3, 3]) }),
      /validLens\[0\] = 3 is outside \[0, 2\]/,
    );
  });
  it(
    'the native kernel refuses a validLens that is not an Int32Array of batch entries, or out of range',
    { skip: nativeAddonOrNull() ? false : 'native addon not built' },
    () => {
      const k = createNativeKernels(nativeAddonOrNull()!);
      const z = () => new Float32Array(2 * 3 * 2 * 4);
      const shape = { batch: 2, tq: 3, tk: 3, hq: 2, hkv: 2, d: 4, scale: 0.5 };
      const call = (validLens: unknown) =>
        k.attention(z(), z(), z(), z(), new Float32Array(12), null, { ...shape, validLens: validLens as Int32Array });
      call(Int32Array.from([1, 3]));
      assert.throws(
        () => call(Int32Array.from([1])),
        /native attention: shape.validLens must be an Int32Array of 2 elements/,
      );
      assert.throws(() => call([1, 3]), /shape.validLens must be an Int32Array/);
      assert.throws(
        () => call(Int32Array.from([1, 4])),
        /native attention: shape.validLens\[1\] = 4 is outside \[0, 3\]/,
      );
    },
  );
});
