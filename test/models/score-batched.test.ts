// Batched log-likelihood scoring equals one request at a time bit for bit: random requests of different
// lengths (shared contexts, one-token and long continuations, contexts past one attention tile, left truncation),
// scored in batches of several sizes and token budgets, against a reference that prefills each context alone and
// runs each continuation alone on a fork of its cache (scoreLoglikelihood's arithmetic before batching).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { kernels, noGrad, tensor, tidy } from '../../src/tensor/index.ts';
import { KVCache } from '../../src/nn/index.ts';
import {
  loadModel,
  scoreLoglikelihood,
  type CausalLM,
  type LoadOptions,
  type LoglikelihoodRequest,
  type LoglikelihoodResult,
} from '../../src/models/index.ts';
import { rng } from '../helpers.ts';
import { LocalBackend } from '../../src/eval/backends/local.ts';
import { loadTokenizer } from '../../src/tokenizers/index.ts';
import { tinyCheckpoint } from '../eval/backends/helpers.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

/** Logit rows of `ids` run after what `cache` holds, one sequence. */
function rowsAfter(model: CausalLM, cache: KVCache, ids: readonly number[]): Float32Array[] {
  return tidy(() => {
    const { logits } = model.forward(tensor(Int32Array.from(ids), [1, ids.length], 'i32'), { cache });
    const v = logits.shape[2];
    const d = logits.f32();
    return ids.map((_, t) => d.slice(t * v, (t + 1) * v));
  });
}

/** One request alone: its context prefilled on its own, its continuation on a fork of that cache. */
function scoreAlone(model: CausalLM, r: LoglikelihoodRequest, maxLength: number): LoglikelihoodResult {
  const context = r.context.slice(-Math.max(1, maxLength + 1 - r.continuation.length));
  const steps = r.continuation.length - 1;
  return noGrad(() => {
    const cache = model.createCache(1, context.length);
    const forked = (() => {
      try {
        const last = rowsAfter(model, cache, context).at(-1)!;
        if (steps === 0) return [last];
        const fork = KVCache.forkFrom(cache, 0, 1, context.length + steps);
        try {
          return [last, ...rowsAfter(model, fork, r.continuation.slice(0, steps))];
        } finally {
          fork.dispose();
        }
      } finally {
        cache.dispose();
      }
    })();
    const logprobs: number[] = [];
    let isGreedy = true;
    forked.forEach((row, j) => {
      const lsm = new Float32Array(row.length);
      kernels().logSoftmax(row, lsm, 1, row.length);
      logprobs.push(lsm[r.continuation[j]]);
      let best = 0;
      for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
      if (best !== r.continuation[j]) isGreedy = false;
    });
    return { logprobs, sum: logprobs.reduce((a, b) => a + b, 0), isGreedy };
  });
}

/** Random requests: some contexts shared by several continuations, lengths 1..100 and 1..12. */
function randomRequests(vocab: number, seed: number, n: number): LoglikelihoodRequest[] {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const tokens = (len: number) => Array.from({ length: len }, () => int(2, vocab - 1));
  const contexts: number[][] = [];
  return Array.from({ length: n }, () => {
    const reuse = contexts.length > 0 && r() < 0.4;
    const context = reuse ? contexts[int(0, contexts.length - 1)] : tokens(int(1, 100));
    if (!reuse) contexts.push(context);
    return { context, continuation: tokens(r() < 0.3 ? 1 : int(2, 12)) };
  });
}

function assertSame(got: LoglikelihoodResult[], want: LoglikelihoodResult[], what: string): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    assert.equal(g.logprobs.length, want[i].logprobs.length, `${what}: request ${i} token count`);
    g.logprobs.forEach((lp, j) =>
      assert.ok(
        Object.is(lp, want[i].logprobs[j]),
        `${what}: request ${i} token ${j}: ${lp} vs ${want[i].logprobs[j]}`,
      ),
    );
    assert.ok(Object.is(g.sum, want[i].sum), `${what}: request ${i} sum ${g.sum} vs ${want[i].sum}`);
    assert.equal(g.isGreedy, want[i].isGreedy, `${what}: request ${i} is-greedy`);
  });
}

const MODELS: [string, string, LoadOptions][] = [
  ['olmo f32', 'olmo/model', { trainable: false }],
  ['olmo2 f32', 'olmo2/model', { trainable: false }],
  ['olmoe f32', 'olmoe/model', { trainable: false }],
  ['olmo2 bf16', 'olmo2/model-bf16', { weights: 'stored' }],
  ['olmoe int8', 'olmoe/model', { weights: 'int8' }],
];

describe('batched scoring', () => {
  for (const [name, dir, opts] of MODELS)
    it(`${name}: batched = one request at a time, bit for bit, at any batch size and token budget`, () => {
      const model = loadModel(join(FIXTURES, dir), opts);
      const requests = randomRequests(model.config.vocabSize, name.length * 7919, 36);
      const maxLength = model.config.maxPositionEmbeddings;
      const alone = requests.map((r) => scoreAlone(model, r, maxLength));
      assertSame(scoreLoglikelihood(model, requests, { batchSize: 1 }), alone, 'batch 1');
      for (const [batchSize, batchTokens] of [
        [16, 2048],
        [5, 2048],
        [64, 300],
      ])
        assertSame(
          scoreLoglikelihood(model, requests, { batchSize, batchTokens }),
          alone,
          `batch ${batchSize}, ${batchTokens} tokens`,
        );
      // Left truncation: a context length below some requests' lengths.
      const short = 40;
      assertSame(
        scoreLoglikelihood(model, requests, { maxLength: short, batchSize: 8 }),
        requests.map((r) => scoreAlone(model, r, short)),
        `maxLength ${short}`,
      );
    });

  it('progress is reported per batch of contexts up to the total; bad options are named', () => {
    const model = loadModel(join(FIXTURES, 'olmo2', 'model'), { trainable: false });
    const requests = randomRequests(model.config.vocabSize, 3, 20);
    const seen: number[] = [];
    scoreLoglikelihood(model, requests, {
      batchSize: 4,
      onProgress: (done, total) => (assert.equal(total, 20), seen.push(done)),
    });
    assert.equal(seen.at(-1), 20);
    assert.ok(seen.length >= 2 && seen.every((d, i) => i === 0 || d > seen[i - 1]), `progress ${seen}`);
    assert.throws(
      () => scoreLoglikelihood(model, requests, { batchSize: 0 }),
      /batchSize must be a positive integer, got 0/,
    );
    assert.throws(
      () => scoreLoglikelihood(model, requests, { batchTokens: 1.5 }),
      /batchTokens must be a positive integer, got 1.5/,
    );
  });

  it('the eval local backend scores in batches (scoreBatchSize) with the results of one at a time; a bad size is named', async () => {
    const ckpt = tinyCheckpoint();
    const model = loadModel(ckpt, { trainable: false });
    const tokenizer = loadTokenizer(ckpt);
    const words = ['the cat', ' sat on', ' a mat', ' of red wool', ' and', ' slept there for a while'];
    const requests = words.flatMap((_c, i) =>
      words.map((x, j) => ({
        type: 'loglikelihood' as const,
        context: words.slice(0, i + 1).join(''),
        continuation: j % 2 ? x : ` ${x.trim()}`,
      })),
    );
    const alone = await new LocalBackend({ model, tokenizer, name: 'tiny', scoreBatchSize: 1 }).loglikelihood(requests);
    const batched = await new LocalBackend({ model, tokenizer, name: 'tiny' }).loglikelihood(requests);
    assert.equal(new LocalBackend({ model, tokenizer, name: 'tiny' }).scoreBatchSize, 16);
    batched.forEach((r, i) => {
      assert.ok(Object.is(r.logprob, alone[i].logprob), `request ${i}: ${r.logprob} vs ${alone[i].logprob}`);
      assert.equal(r.isGreedy, alone[i].isGreedy);
    });
    assert.throws(
      () => new LocalBackend({ model, tokenizer, name: 'tiny', scoreBatchSize: 0 }),
      /local backend: scoreBatchSize must be a positive integer, got 0/,
    );
  });
});
