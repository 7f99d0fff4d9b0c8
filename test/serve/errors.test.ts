// Bad input and overload: every refusal is a 4xx with OpenAI's error object naming the problem, and none disturbs
// a request already running; a full queue answers 429 with Retry-After; the API key guards every /v1 route.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { setBackend } from '../../src/tensor/index.ts';
import { isLoopback } from '../../src/serve/index.ts';
import { client, MODEL_NAME, serve } from './helpers.ts';

setBackend('js');
const server = await serve({ apiKey: 'sekret', maxNumSeqs: 2, maxQueue: 2, bodyLimit: 64 * 1024 });
const openai = client(server, 'sekret');
after(() => server.close());

async function post(
  path: string,
  body: unknown,
  key: string | null = 'sekret',
): Promise<{
  status: number;
  headers: Headers;
  body: { error: { message: string; type: string; param: string | null; code: string | null } };
}> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const r = await fetch(server.url + path, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

test('malformed requests: 400 with the OpenAI error object naming the field; a running stream is undisturbed', async () => {
  const running = openai.completions.create({
    model: MODEL_NAME,
    prompt: 'hello',
    max_tokens: 40,
    temperature: 0,
    stream: true,
  });
  const bad: [unknown, RegExp, string | null][] = [
    [{ model: MODEL_NAME, prompt: 'x', temperature: -1 }, /temperature/, 'temperature'],
    [{ model: MODEL_NAME, prompt: 'x', max_tokens: '5' }, /max_tokens/, 'max_tokens'],
    [{ model: MODEL_NAME, prompt: 'x', top_p: 0 }, /top_p/, 'top_p'],
    [{ model: MODEL_NAME }, /prompt/, 'prompt'],
    [{ model: MODEL_NAME, prompt: [1, 99999] }, /token id 99999, outside the vocabulary \[0, 320\)/, 'prompt'],
    [{ model: MODEL_NAME, prompt: 'x', presence_penalty: 0.5 }, /presence_penalty/, 'presence_penalty'],
    ['{"prompt": ', /JSON|Unexpected|body/i, null],
  ];
  for (const [body, message, param] of bad) {
    const r = await post('/v1/completions', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error.type, 'invalid_request_error');
    assert.match(r.body.error.message, message);
    if (param !== null) assert.equal(r.body.error.param, param, JSON.stringify(r.body));
  }
  const chat = await post('/v1/chat/completions', { model: MODEL_NAME, messages: [] });
  assert.equal(chat.status, 400);
  assert.match(chat.body.error.message, /messages/);
  const topAlone = await post('/v1/chat/completions', {
    model: MODEL_NAME,
    messages: [{ role: 'user', content: 'hi' }],
    top_logprobs: 2,
  });
  assert.equal(topAlone.status, 400);
  assert.equal(topAlone.body.error.param, 'top_logprobs');
  assert.match(topAlone.body.error.message, /top_logprobs \(2\) needs "logprobs": true/);
  const tooMany = await post('/v1/completions', { model: MODEL_NAME, prompt: 'x', logprobs: 21 });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.body.error.param, 'logprobs');
  const wrongModel = await post('/v1/completions', { model: 'gpt-4', prompt: 'x' });
  assert.equal(wrongModel.status, 404);
  assert.equal(wrongModel.body.error.code, 'model_not_found');
  let text = '';
  let finish = null;
  for await (const c of await running) {
    text += c.choices[0]?.text ?? '';
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, 'length', 'the stream that was running when the bad requests came finished normally');
  assert.ok(text.length > 0);
});

test('prompt longer than the context: 400 stating the lengths', async () => {
  const r = await post('/v1/completions', {
    model: MODEL_NAME,
    prompt: Array.from({ length: 120 }, () => 5),
    max_tokens: 20,
  });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'context_length_exceeded');
  assert.match(
    r.body.error.message,
    /maximum context length is 128 tokens\. However, you requested 140 tokens \(120 in the prompt, 20 in the completion\)/,
  );
  const whole = await post('/v1/completions', {
    model: MODEL_NAME,
    prompt: Array.from({ length: 129 }, () => 5),
    max_tokens: 0,
    echo: true,
    logprobs: 1,
  });
  assert.equal(whole.status, 400);
  await assert.rejects(
    openai.chat.completions.create({ model: MODEL_NAME, messages: [{ role: 'user', content: 'hello '.repeat(200) }] }),
    (e: unknown) => e instanceof OpenAI.BadRequestError && /maximum context length is 128/.test(e.message),
  );
});

test('API key: missing or wrong → 401 on /v1 routes; /health and /metrics stay open', async () => {
  assert.equal((await post('/v1/completions', { model: MODEL_NAME, prompt: 'x' }, null)).status, 401);
  const wrong = await post('/v1/completions', { model: MODEL_NAME, prompt: 'x' }, 'nope');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.type, 'authentication_error');
  await assert.rejects(client(server, 'nope').models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
  assert.equal((await fetch(server.url + '/health')).status, 200);
  assert.equal((await fetch(server.url + '/metrics')).status, 200);
});

test('body size limit: 413 with the error object', async () => {
  const r = await post('/v1/completions', { model: MODEL_NAME, prompt: 'x'.repeat(100_000) });
  assert.equal(r.status, 413);
  assert.match(r.body.error.message, /larger than the server's limit/);
});

test('queue full: 429 with Retry-After, and the queued requests still complete', async () => {
  // 2 slots + 2 queue places: six 1-choice requests at once leave two with nowhere to wait
  const sent = Array.from({ length: 6 }, (_, i) =>
    post('/v1/completions', { model: MODEL_NAME, prompt: `hello ${i}`, max_tokens: 30, temperature: 0 }),
  );
  const results = await Promise.all(sent);
  const refused = results.filter((r) => r.status === 429);
  assert.ok(refused.length >= 1, `statuses ${results.map((r) => r.status)}`);
  for (const r of refused) {
    assert.equal(r.headers.get('retry-after'), '1');
    assert.equal(r.body.error.type, 'rate_limit_error');
    assert.match(r.body.error.message, /queue holds \d+ waiting sequences \(limit 2\)/);
  }
  assert.ok(results.filter((r) => r.status === 200).length >= 2);
  const metrics = await (await fetch(server.url + '/metrics')).text();
  assert.match(metrics, /olmo_requests_total\{route="\/v1\/completions",status="429"\} [1-9]/);
});

test('a non-loopback address without an API key prints a loud warning; with a key, or on loopback, none', async () => {
  assert.ok(isLoopback('127.0.0.1') && isLoopback('127.0.0.2') && isLoopback('::1') && isLoopback('localhost'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('192.168.1.5') && !isLoopback('::'));
  for (const [host, apiKey, warns] of [
    ['0.0.0.0', undefined, true],
    ['0.0.0.0', 'k', false],
    ['127.0.0.1', undefined, false],
  ] as const) {
    const lines: string[] = [];
    const s = await serve({ host, apiKey, log: (l) => lines.push(l) });
    await s.close();
    assert.equal(
      lines.some((l) =>
        /^WARNING: olmo serve is listening on 0\.0\.0\.0, reachable from other machines, with no API key/.test(l),
      ),
      warns,
      `${host} ${apiKey ?? 'no key'}: ${lines.join(' | ')}`,
    );
  }
});
