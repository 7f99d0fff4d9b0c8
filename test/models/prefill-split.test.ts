// A prompt prefilled into the KV cache in pieces gives the logits and keys/values of the unsplit prefill, bit for
// bit, at any split (one token at a time included) on every kernel path: olmo serve relies on it to reuse a held
// prefix at token granularity (src/serve/scheduler.ts). Native attention used to score a key tile's last (width
// mod 4) keys with another lane order than the groups of 4 (native/attention.cc, DotBlock), which broke this at
// splits off multiples of 4; this test keeps that from coming back.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { backendName, noGrad, setBackend, tensor, tidy } from '../../src/tensor/index.ts';
import { loadModel, type CausalLM, type LoadOptions } from '../../src/models/index.ts';
import { nativeAddonOrNull, randInts } from '../helpers.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const WEIGHTS: [string, string, LoadOptions][] = [
  ['f32', 'model', { trainable: false }],
  ['bf16', 'model-bf16', { weights: 'stored' }],
];
const LEN = 77;

/** Every position's logits and the cache's keys/values after prefilling `ids` in pieces ending at `cuts`. */
function prefill(model: CausalLM, ids: number[], cuts: number[]): { logits: Float32Array; kv: Float32Array[] } {
  const vocab = model.config.vocabSize;
  const cache = model.createCache(1, ids.length);
  const logits = new Float32Array(ids.length * vocab);
  try {
    let start = 0;
    for (const end of [...cuts, ids.length]) {
      noGrad(() =>
        tidy(() => {
          const piece = Int32Array.from(ids.slice(start, end));
          const out = model.forward(tensor(piece, [1, piece.length], 'i32'), { cache }).logits.f32();
          logits.set(out, start * vocab);
        }),
      );
      start = end;
    }
    return { logits, kv: cache.layers.flatMap((l) => [l.k.f32().slice(), l.v.f32().slice()]) };
  } finally {
    cache.dispose();
  }
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function assertSplitsExact(model: CausalLM, ids: number[], splits: number[][]): void {
  const whole = prefill(model, ids, []);
  for (const cuts of splits) {
    const got = prefill(model, ids, cuts);
    assert.ok(bitsEqual(got.logits, whole.logits), `split at ${cuts.join(', ')}: logits differ`);
    got.kv.forEach((t, i) => assert.ok(bitsEqual(t, whole.kv[i]), `split at ${cuts.join(', ')}: cache tensor ${i}`));
  }
}

const BY_FOUR = [[4], [32], [36], [68], [76], [4, 20, 44], [8, 16, 24, 32, 40, 48, 56, 64, 72]];
const ANY = [[1], [5], [13], [31], [33], [70], [3, 9, 40], Array.from({ length: LEN - 1 }, (_, i) => i + 1)];
const backends = nativeAddonOrNull() ? (['js', 'native'] as const) : (['js'] as const);

for (const backend of backends)
  for (const family of ['olmo2', 'olmoe'])
    for (const [weights, folder, opts] of WEIGHTS)
      describe(`${family} ${weights} on ${backend}: a split prefill equals the unsplit one`, () => {
        const model = loadModel(join(FIXTURES, family, folder), opts);
        const ids = [...randInts(LEN, 2, model.config.vocabSize, 3)];
        const on = (fn: () => void) => () => {
          const before = backendName();
          setBackend(backend);
          try {
            fn();
          } finally {
            setBackend(before as typeof backend);
          }
        };
        it(
          'at multiples of 4 tokens',
          on(() => assertSplitsExact(model, ids, BY_FOUR)),
        );
        it(
          'at any token, one token at a time included',
          on(() => assertSplitsExact(model, ids, ANY)),
        );
      });
