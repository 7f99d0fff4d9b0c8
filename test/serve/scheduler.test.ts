// The scheduler and its cache without HTTP: KVCache.rows views share the cache's memory; every submitted sequence
// finishes exactly once (prompt-only sequences among prefilling and decoding ones, cancellations), and decoded
// tokens equal generate()'s; a sequence prefilled in steps that also decode others (one packed forward each) gets
// the tokens and log-probs it gets alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KVCache } from '../../src/nn/index.ts';
import { generate, type ForwardOptions } from '../../src/models/index.ts';
import { setBackend, type Tensor } from '../../src/tensor/index.ts';
import { Scheduler, type SequenceRequest } from '../../src/serve/index.ts';
import { logSoftmaxRow } from '../../src/serve/logprobs.ts';
import { tinyModel } from './helpers.ts';

setBackend('js');
const { model, tokenizer: tok } = tinyModel();

test('KVCache.rows: a view of contiguous sequences shares keys, values and lengths; bad ranges are refused', () => {
  const cache = new KVCache(2, 4, 8, 2, 4);
  const view = cache.rows(1, 2);
  assert.equal(view.batch, 2);
  view.layers[1].k.f32()[0] = 7;
  assert.equal(cache.layers[1].k.f32()[1 * 8 * 2 * 4], 7, 'row 0 of the view is row 1 of the cache');
  view.advance(3);
  assert.deepEqual([...cache.lengths], [0, 3, 3, 0]);
  view.dispose();
  assert.equal(cache.layers[1].k.f32()[1 * 8 * 2 * 4], 7, 'disposing a view frees nothing');
  assert.throws(() => cache.rows(3, 2), /KV cache rows: \[3, 5\) is not a range of sequences in \[0, 4\)/);
  cache.dispose();
});

function request(
  prompt: number[],
  maxTokens: number,
  log: string[],
  name: string,
  extra: Partial<SequenceRequest> = {},
): SequenceRequest & { tokens: number[] } {
  const tokens: number[] = [];
  return {
    tokens,
    prompt,
    maxTokens,
    sampling: { temperature: 0 },
    seed: 0,
    stopTokenIds: new Set([tok.eosTokenId!]),
    logprobs: null,
    promptLogprobs: maxTokens === 0 ? 1 : null,
    onToken: (id) => (tokens.push(id), true),
    onFinish: (reason) => log.push(`${name}:${reason}`),
    ...extra,
  };
}

test('every sequence finishes once: prompt-only ones among prefilling and decoding ones, and cancelled ones', async () => {
  const sched = new Scheduler(model, {
    maxNumSeqs: 3,
    maxModelLen: 128,
    maxQueue: 64,
    prefillChunk: 4,
    vocabLimit: tok.vocabSize,
  });
  const log: string[] = [];
  const prompts = Array.from({ length: 9 }, (_, i) => tok.encode(`stone river ${'cloud '.repeat(i)}`));
  const reqs = prompts.map((p, i) => request(p, i % 3 === 0 ? 0 : 6, log, `s${i}`));
  const seqs = reqs.map((r) => sched.submit([r])[0]);
  seqs[4].cancel();
  await sched.idle();
  assert.equal(log.length, 9, log.join(' '));
  assert.equal(new Set(log.map((l) => l.split(':')[0])).size, 9);
  assert.ok(log.includes('s4:abort'));
  reqs.forEach((r, i) => {
    if (i === 4 || i % 3 === 0) return;
    const want = generate(model, [prompts[i]], {
      maxNewTokens: 6,
      temperature: 0,
      eosTokenIds: [tok.eosTokenId!],
      vocabLimit: tok.vocabSize,
    });
    assert.deepEqual(r.tokens, want.tokens[0], `s${i}`);
  });
  assert.equal(sched.slots.freeCount, 3);
  assert.throws(() => sched.submit([request([], 1, log, 'empty')]), /at least one prompt token/);
  assert.throws(() => sched.submit([request(prompts[0], 200, log, 'long')]), /exceeds max_model_len 128/);
  sched.dispose();
});

test('a prompt prefilled in the same forwards as other sequences decode gets the tokens and log-probs it gets alone', async () => {
  const opts = { maxNumSeqs: 4, maxModelLen: 128, maxQueue: 8, prefillChunk: 5, vocabLimit: tok.vocabSize };
  // what each step's forward packed: [tokens per sequence]
  const steps: number[][] = [];
  const forward = model.forward.bind(model);
  model.forward = (ids: Tensor, o?: ForwardOptions) => (steps.push([...(o?.packed?.counts ?? [])]), forward(ids, o));
  const sampled = { sampling: { temperature: 0.9, topP: 0.95 }, seed: 77, logprobs: 3 };
  const targetPrompt = tok.encode('which river is blue and which stone is red, said the cloud to the stone');
  const run = async (withOthers: boolean) => {
    const sched = new Scheduler(model, opts);
    const log: string[] = [];
    const lps: unknown[] = [];
    const target = request(targetPrompt, 8, log, 'target', {
      ...sampled,
      promptLogprobs: 2,
      onPromptLogprobs: (p) => lps.push(p),
      onToken: (id, lp) => (target.tokens.push(id), lps.push(lp), true),
    });
    if (withOthers) {
      // two sequences decoding (and one more prefilling) while the target's prompt goes through in chunks of 5
      sched.submit([request(tok.encode('stone'), 12, log, 'a', sampled), request(tok.encode('cloud'), 12, log, 'b')]);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      sched.submit([request(tok.encode('river river stone'), 6, log, 'c')]);
    }
    steps.length = 0;
    sched.submit([target]);
    await sched.idle();
    sched.dispose();
    assert.ok(log.includes('target:length'), log.join(' '));
    return { tokens: target.tokens, lps };
  };
  try {
    const alone = await run(false);
    const busy = await run(true);
    assert.ok(
      steps.some((counts) => counts.length >= 3 && counts.includes(1) && counts.some((n) => n > 1)),
      `some step decoded and prefilled together: ${JSON.stringify(steps)}`,
    );
    assert.equal(alone.tokens.length, 8);
    assert.deepEqual(busy.tokens, alone.tokens);
    assert.deepEqual(busy.lps, alone.lps, 'prompt and sampled log-probs, bit for bit');
  } finally {
    model.forward = forward;
  }
});

test('logSoftmaxRow writes into a scratch row the values it returns fresh, and refuses a scratch of another size', () => {
  const row = Float32Array.from({ length: 37 }, (_, i) => Math.sin(i) * 4);
  const scratch = new Float32Array(37).fill(9);
  assert.equal(logSoftmaxRow(row, scratch), scratch);
  assert.deepEqual(scratch, logSoftmaxRow(row));
  assert.throws(() => logSoftmaxRow(row, new Float32Array(36)), /output holds 36 values for a row of 37/);
});
