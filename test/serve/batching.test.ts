// Continuous batching: a seeded request gets the same tokens and log-probs alone and among 32 concurrent others
// (prefills chunked and packed with other sequences' decode steps, prefixes reused); a client that disconnects
// mid-stream frees its sequence; a chat's next turn reuses the KV cache of the previous one and answers as a fresh
// server would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeSkipReason } from '../helpers.ts';
import { setBackend } from '../../src/tensor/index.ts';
import type { RunningServer } from '../../src/serve/index.ts';
import { client, MODEL_NAME, serve } from './helpers.ts';

const TARGET = {
  model: MODEL_NAME,
  prompt: 'Question: which river is blue and which stone is red?\nAnswer:',
  max_tokens: 24,
  temperature: 0.9,
  top_p: 0.95,
  seed: 1234,
  logprobs: 3,
};

async function target(server: RunningServer) {
  const r = await client(server).completions.create(TARGET);
  const c = r.choices[0];
  return { text: c.text, logprobs: c.logprobs, finish: c.finish_reason };
}

/** 32 requests of every kind (long and short prompts, shared prefixes, greedy and sampled, streamed, n = 2). */
function others(server: RunningServer): Promise<unknown>[] {
  const openai = client(server);
  return Array.from({ length: 32 }, (_, i) => {
    const prompt = i % 4 === 0 ? TARGET.prompt.slice(0, 20 + i) : `${'stone river cloud '.repeat(1 + (i % 5))}${i}`;
    const common = {
      model: MODEL_NAME,
      prompt,
      max_tokens: 4 + (i % 9) * 3,
      temperature: i % 3 === 0 ? 0 : 1,
      seed: i,
    };
    if (i % 5 === 0) {
      return (async () => {
        for await (const _ of await openai.completions.create({ ...common, stream: true }));
      })();
    }
    return openai.completions.create({ ...common, n: i % 7 === 0 ? 2 : 1, logprobs: i % 2 });
  });
}

async function invariance(backend: 'js' | 'native'): Promise<void> {
  setBackend(backend);
  // small slots and chunks, so the target is prefilled in several chunks and queued
  const server = await serve({ maxNumSeqs: 6, prefillChunk: 8 });
  try {
    const alone = await target(server);
    assert.equal(alone.logprobs!.tokens!.length, 24);
    const load = others(server);
    const [busy] = await Promise.all([
      (async () => {
        await new Promise((r) => setTimeout(r, 5));
        return target(server);
      })(),
      ...load,
    ]);
    assert.deepEqual(busy, alone, `${backend}: the seeded request changed under load`);
    // and once more after the load, with the server's slots now full of other prefixes
    assert.deepEqual(await target(server), alone);
  } finally {
    await server.close();
  }
}

test('batch invariance on the js kernels: a seeded request alone and among 32 others is identical', () =>
  invariance('js'));

test('batch invariance on the native kernels (batch-invariant GEMM)', { skip: nativeSkipReason() }, () =>
  invariance('native'),
);

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a client disconnecting mid-stream cancels its generation and frees its slot', async () => {
  setBackend('js');
  const server = await serve({ maxNumSeqs: 2 });
  try {
    const sched = server.engine.scheduler;
    const ac = new AbortController();
    const stream = await client(server).completions.create(
      { model: MODEL_NAME, prompt: 'hello', max_tokens: 120, temperature: 1, seed: 1, stream: true },
      { signal: ac.signal },
    );
    let chunks = 0;
    try {
      for await (const _ of stream) {
        if (++chunks === 3) {
          assert.equal(sched.numRunning, 1);
          ac.abort();
        }
      }
    } catch (e) {
      assert.match(String(e), /abort/i);
    }
    assert.equal(chunks, 3, 'no chunk after the abort');
    await waitFor(() => sched.numRunning === 0, 'the running count to drop');
    assert.ok(
      server.engine.metrics.generationTokens < 100,
      `generation stopped early (${server.engine.metrics.generationTokens} tokens)`,
    );
    assert.equal(sched.slots.freeCount, 2);
    // a non-streaming request whose client goes away is cancelled too
    const ac2 = new AbortController();
    const pending = client(server).completions.create(
      { model: MODEL_NAME, prompt: 'hello', max_tokens: 120, temperature: 1, seed: 2 },
      { signal: ac2.signal },
    );
    await waitFor(() => sched.numRunning === 1, 'the request to start');
    ac2.abort();
    await assert.rejects(pending);
    await waitFor(() => sched.numRunning === 0, 'the running count to drop');
    assert.ok(server.engine.metrics.generationTokens < 200);
  } finally {
    await server.close();
  }
});

test("a chat's next turn reuses the previous turn's KV cache and answers as a fresh server does", async () => {
  setBackend('js');
  const turn1 = [{ role: 'user' as const, content: 'hello world, which river is blue?' }];
  const ask = async (server: RunningServer, messages: { role: 'user' | 'assistant'; content: string }[]) =>
    (await client(server).chat.completions.create({ model: MODEL_NAME, messages, max_tokens: 10, temperature: 0 }))
      .choices[0].message.content!;
  const warm = await serve({ prefillChunk: 8 });
  const fresh = await serve({ prefillChunk: 8 });
  try {
    const a1 = await ask(warm, turn1);
    const turn2 = [
      ...turn1,
      { role: 'assistant' as const, content: a1 },
      { role: 'user' as const, content: 'and which stone?' },
    ];
    const before = warm.engine.scheduler.reusedTokens;
    const a2 = await ask(warm, turn2);
    assert.ok(
      warm.engine.scheduler.reusedTokens - before >= 10,
      `turn 2 reused ${warm.engine.scheduler.reusedTokens - before} tokens`,
    );
    assert.equal(a2, await ask(fresh, turn2));
    assert.equal(fresh.engine.scheduler.reusedTokens, 0);
    assert.match(await (await fetch(warm.url + '/metrics')).text(), /^olmo_prefix_cache_hit_tokens_total [1-9]\d*$/m);
  } finally {
    await Promise.all([warm.close(), fresh.close()]);
  }
});

async function prefixReuse(backend: 'js' | 'native'): Promise<void> {
  setBackend(backend);
  const warm = await serve();
  const fresh = await serve();
  const tok = warm.engine.tok;
  // the fresh server is asked for prompt log-probs, which rules out reuse there: every prompt prefilled from 0
  const ask = async (server: RunningServer, prompt: number[]) => {
    const promptLogprobs = server === fresh ? { prompt_logprobs: 0 } : {};
    const r = await client(server).completions.create({ ...TARGET, prompt, max_tokens: 6, ...promptLogprobs });
    return { text: r.choices[0].text, logprobs: r.choices[0].logprobs };
  };
  const reused = async (prompt: number[]) => {
    const before = warm.engine.scheduler.reusedTokens;
    const answer = await ask(warm, prompt);
    assert.deepEqual(answer, await ask(fresh, prompt), `${backend}: a reused prefix changed the answer`);
    return warm.engine.scheduler.reusedTokens - before;
  };
  try {
    const a = tok.encode(TARGET.prompt);
    assert.ok(a.length >= 24 && a.length % 4 !== 0, `prompt of ${a.length} tokens`);
    assert.equal(await reused(a), 0);
    // the whole prompt and the tokens generated after it (their keys/values written by decode steps)
    const held = warm.engine.scheduler.slots.tokens.find((t) => t.length > a.length && t[a.length - 1] === a.at(-1));
    assert.ok(held, 'a slot holds the prompt and its generated tokens');
    const heldLength = held.length; // the slot's live token list: it grows when the next request is prefilled
    assert.equal(await reused([...held, 7, 8]), heldLength);
    // 23 shared tokens: all 23 reused (not a whole 64-token prefill chunk, nor a multiple of 4)
    const other = a[23] === 5 ? 6 : 5;
    assert.equal(await reused([...a.slice(0, 23), other, 7, 8, 9, 10, 11]), 23);
    assert.equal(fresh.engine.scheduler.reusedTokens, 0);
  } finally {
    await Promise.all([warm.close(), fresh.close()]);
  }
}

test('a shared prefix is reused at any token, generated tokens included, and answers as a fresh server does (js)', () =>
  prefixReuse('js'));

test('the same on the native kernels', { skip: nativeSkipReason() }, () => prefixReuse('native'));
