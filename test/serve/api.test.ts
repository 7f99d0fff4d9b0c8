// olmo serve through the official `openai` client: completions and chat, plain and streamed, n > 1, stop strings,
// logprobs/top_logprobs, echo with prompt log-probs (against the in-process scorer), tokenize/detokenize, models,
// metrics.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate, scoreLoglikelihood } from '../../src/models/index.ts';
import { setBackend } from '../../src/tensor/index.ts';
import { applyChatTemplate } from '../../src/tokenizers/index.ts';
import { client, MODEL_NAME, serve, tinyModel } from './helpers.ts';

// exact equality with the in-process model is a property of batch-invariant kernels; the js kernels are
setBackend('js');
const { model, tokenizer: tok } = tinyModel();
const server = await serve();
const openai = client(server);
after(() => server.close());

const decode = (ids: number[]) => tok.decode(ids, { skipSpecialTokens: true });
const greedy = (prompt: number[], maxNewTokens: number, stop?: string[]) =>
  generate(model, [prompt], {
    maxNewTokens,
    temperature: 0,
    decode,
    stop,
    eosTokenIds: [tok.eosTokenId!],
    vocabLimit: tok.vocabSize,
  });

test('completions: greedy text equals generate(), usage and finish reasons', async () => {
  const prompt = 'hello world';
  const ids = tok.encode(prompt);
  const r = await openai.completions.create({ model: MODEL_NAME, prompt, max_tokens: 12, temperature: 0 });
  const want = greedy(ids, 12);
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices[0].text, want.texts[0]);
  assert.equal(r.choices[0].finish_reason, want.finishReasons[0] === 'eos' ? 'stop' : want.finishReasons[0]);
  // generate() leaves the EOS token out of its tokens; the server counts it, as vLLM does
  const generated = want.tokens[0].length + (want.finishReasons[0] === 'eos' ? 1 : 0);
  assert.deepEqual(r.usage, {
    prompt_tokens: ids.length,
    completion_tokens: generated,
    total_tokens: ids.length + generated,
  });
  // token-id prompts and lists of prompts
  const byIds = await openai.completions.create({ model: MODEL_NAME, prompt: ids, max_tokens: 12, temperature: 0 });
  assert.equal(byIds.choices[0].text, want.texts[0]);
  const two = await openai.completions.create({
    model: MODEL_NAME,
    prompt: [prompt, 'red stone'],
    max_tokens: 5,
    temperature: 0,
  });
  assert.deepEqual(
    two.choices.map((c) => c.index),
    [0, 1],
  );
  assert.equal(two.choices[1].text, greedy(tok.encode('red stone'), 5).texts[0]);
});

test('completions: streamed deltas join to the same text; usage in the last chunk', async () => {
  const plain = await openai.completions.create({
    model: MODEL_NAME,
    prompt: 'blue river',
    max_tokens: 10,
    temperature: 0,
  });
  const stream = await openai.completions.create({
    model: MODEL_NAME,
    prompt: 'blue river',
    max_tokens: 10,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish: string | null = null;
  let usage: unknown = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      text += c.text;
      finish = c.finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, plain.choices[0].text);
  assert.equal(finish, plain.choices[0].finish_reason);
  assert.deepEqual(usage, plain.usage);
});

test('stop strings cut the text (include_stop_str_in_output keeps them); n > 1 with a seed reproduces', async () => {
  const ids = tok.encode('hello');
  const full = greedy(ids, 16).texts[0];
  const stop = full.slice(3, 5);
  assert.ok(stop.length === 2 && full.indexOf(stop) === 3, `stop ${JSON.stringify(stop)} in ${JSON.stringify(full)}`);
  const r = await openai.completions.create({
    model: MODEL_NAME,
    prompt: 'hello',
    max_tokens: 16,
    temperature: 0,
    stop: [stop, 'zzzz'],
  });
  assert.equal(r.choices[0].text, full.slice(0, 3));
  assert.equal(r.choices[0].finish_reason, 'stop');
  const kept = await openai.completions.create({
    model: MODEL_NAME,
    prompt: 'hello',
    max_tokens: 16,
    temperature: 0,
    stop,
    include_stop_str_in_output: true,
  } as never);
  assert.equal((kept as { choices: { text: string }[] }).choices[0].text, full.slice(0, 5));
  const streamed = await openai.completions.create({
    model: MODEL_NAME,
    prompt: 'hello',
    max_tokens: 16,
    temperature: 0,
    stop,
    stream: true,
  });
  let text = '';
  for await (const c of streamed) text += c.choices[0]?.text ?? '';
  assert.equal(text, full.slice(0, 3), 'a stream never sends text past a stop string');

  const a = await openai.completions.create({
    model: MODEL_NAME,
    prompt: 'hello',
    max_tokens: 8,
    temperature: 1,
    n: 3,
    seed: 42,
  });
  const b = await openai.completions.create({
    model: MODEL_NAME,
    prompt: 'hello',
    max_tokens: 8,
    temperature: 1,
    n: 3,
    seed: 42,
  });
  assert.deepEqual(
    a.choices.map((c) => c.text),
    b.choices.map((c) => c.text),
  );
  assert.equal(new Set(a.choices.map((c) => c.text)).size, 3, 'the choices differ from each other');
  // usage: the prompt counted once, the tokens of every choice
  assert.equal(a.usage!.prompt_tokens, tok.encode('hello').length);
  assert.equal(a.usage!.completion_tokens, 3 * 8);
  const one = await openai.completions.create({
    model: MODEL_NAME,
    prompt: 'hello',
    max_tokens: 8,
    temperature: 1,
    seed: 42,
  });
  assert.equal(one.choices[0].text, a.choices[0].text, 'choice 0 of n uses the request seed');
});

test('logprobs: the chosen token, rank-ordered alternatives, text offsets; echo + prompt_logprobs equal the in-process scorer', async () => {
  const r = await openai.completions.create({
    model: MODEL_NAME,
    prompt: 'hello world',
    max_tokens: 5,
    temperature: 0,
    logprobs: 3,
  });
  const lp = r.choices[0].logprobs!;
  assert.equal(lp.tokens!.length, 5);
  lp.top_logprobs!.forEach((top, i) => {
    const values = Object.values(top!);
    assert.ok(values.length >= 3 && values.length <= 4);
    // greedy: the chosen token is the most likely
    assert.equal(lp.token_logprobs![i], Math.max(...values));
  });
  assert.equal(lp.text_offset![0], 0);

  const ctx = tok.encode('Question: hello world?\nAnswer:');
  const cont = tok.encode(' hello there');
  const scored = scoreLoglikelihood(model, [{ context: ctx, continuation: cont }])[0];
  const e = (await openai.completions.create({
    model: MODEL_NAME,
    prompt: [...ctx, ...cont],
    max_tokens: 0,
    echo: true,
    logprobs: 1,
    prompt_logprobs: 2,
  } as never)) as unknown as {
    choices: {
      text: string;
      logprobs: { token_logprobs: (number | null)[]; top_logprobs: (Record<string, number> | null)[] };
      prompt_logprobs: (Record<string, { logprob: number; rank: number }> | null)[];
    }[];
    usage: { completion_tokens: number };
  };
  const c = e.choices[0];
  assert.equal(e.usage.completion_tokens, 0);
  assert.equal(c.text, tok.decode([...ctx, ...cont], { skipSpecialTokens: false }));
  assert.equal(c.logprobs.token_logprobs[0], null);
  assert.deepEqual(
    c.logprobs.token_logprobs.slice(ctx.length),
    scored.logprobs,
    'echoed log-probs equal scoreLoglikelihood',
  );
  assert.equal(c.prompt_logprobs[0], null);
  const entry = c.prompt_logprobs[ctx.length]!;
  assert.equal(entry[String(cont[0])].logprob, scored.logprobs[0]);
  assert.ok(Object.values(entry).some((v) => v.rank === 1));
});

test('chat: the model chat template (as olmo chat renders it), logprobs + top_logprobs, streaming, n', async () => {
  const messages = [{ role: 'user' as const, content: 'hello world' }];
  const ids = tok.encode(applyChatTemplate(tok, messages, { addGenerationPrompt: true }), { addSpecialTokens: false });
  const want = greedy(ids, 8);
  const r = await openai.chat.completions.create({
    model: MODEL_NAME,
    messages,
    max_completion_tokens: 8,
    temperature: 0,
    logprobs: true,
    top_logprobs: 2,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, want.texts[0]);
  assert.equal(r.usage!.prompt_tokens, ids.length);
  const content = r.choices[0].logprobs!.content!;
  assert.equal(content.length, want.tokens[0].length + (want.finishReasons[0] === 'eos' ? 1 : 0));
  for (const t of content) {
    assert.equal(t.top_logprobs.length, 2);
    assert.equal(t.logprob, t.top_logprobs[0].logprob);
    assert.deepEqual(t.bytes, [...Buffer.from(t.token, 'utf8')]);
  }
  const s = await openai.chat.completions.create({
    model: MODEL_NAME,
    messages,
    max_tokens: 8,
    temperature: 0,
    stream: true,
    n: 2,
  });
  const texts = ['', ''];
  const roles: string[] = [];
  for await (const chunk of s) {
    for (const c of chunk.choices) {
      if (c.delta.role) roles.push(c.delta.role);
      texts[c.index] += c.delta.content ?? '';
    }
  }
  assert.deepEqual(roles, ['assistant', 'assistant']);
  assert.deepEqual(texts, [want.texts[0], want.texts[0]]);
});

test('models, tokenize, detokenize, health and metrics', async () => {
  const models = await openai.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    [MODEL_NAME],
  );
  const post = (path: string, body: unknown) =>
    fetch(server.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.json());
  const t = await post('/tokenize', { prompt: 'hello world' });
  assert.deepEqual(t.tokens, tok.encode('hello world'));
  assert.equal(t.max_model_len, 128);
  assert.deepEqual(await post('/detokenize', { tokens: t.tokens }), { prompt: 'hello world' });
  const chatIds = await post('/tokenize', { messages: [{ role: 'user', content: 'hi' }] });
  assert.deepEqual(
    chatIds.tokens,
    tok.encode(applyChatTemplate(tok, [{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }), {
      addSpecialTokens: false,
    }),
  );
  assert.equal((await fetch(server.url + '/health')).status, 200);
  const metrics = await (await fetch(server.url + '/metrics')).text();
  assert.match(metrics, /^olmo_requests_total\{route="\/v1\/completions",status="200"\} \d+$/m);
  assert.match(metrics, /^olmo_generation_tokens_total [1-9]\d*$/m);
  assert.match(metrics, /^olmo_num_requests_running 0$/m);
  assert.match(metrics, /^olmo_time_to_first_token_seconds_count [1-9]\d*$/m);
  assert.match(metrics, /^olmo_inter_token_latency_seconds_bucket\{le="\+Inf"\} [1-9]\d*$/m);
});
