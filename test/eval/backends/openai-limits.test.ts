// The OpenAI-compatible backend against misbehaving loopback servers, each test in about a second: a hanging
// server trips the circuit breaker after a few timeouts instead of every request waiting out its retries; a
// server that drips bytes is cut off by the per-attempt deadline; a huge body is refused past maxResponseBytes
// without being buffered (and not retried); every retry is logged with its reason and wait; the cache identity
// follows the server's /v1/models entry.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { OpenAIBackend, OpenAIBackendError } from '../../../src/eval/backends/openai.ts';
import type { LoglikelihoodRequest } from '../../../src/eval/types.ts';

interface Loopback {
  url: string;
  hits: () => number;
  close: () => Promise<void>;
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Loopback> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const REQ = (i: number): LoglikelihoodRequest => ({
  type: 'loglikelihood',
  context: `Question ${i}?`,
  continuation: ' yes',
});
const backend = (url: string, extra: Partial<ConstructorParameters<typeof OpenAIBackend>[0]> = {}) =>
  new OpenAIBackend({ baseUrl: url, model: 'm', retryBaseMs: 5, ...extra });

test('a hanging server: the circuit breaker stops every request after N timeouts in a row, with a clear error', async () => {
  const s = await serve(() => {}); // never answers
  try {
    const logs: string[] = [];
    const t0 = Date.now();
    // without the breaker: 40 requests × 6 attempts × 150 ms ÷ 4 in flight ≈ 9 s
    await assert.rejects(
      backend(s.url, {
        timeoutMs: 150,
        concurrency: 4,
        maxConsecutiveFailures: 4,
        log: (m) => logs.push(m),
      }).loglikelihood(Array.from({ length: 40 }, (_, i) => REQ(i))),
      (e: Error) => {
        assert.ok(e instanceof OpenAIBackendError);
        assert.match(
          e.message,
          new RegExp(
            `server at ${s.url}/v1 failed 4 times in a row \\(last: no answer within 150 ms .*\\); stopping instead of retrying every request`,
          ),
        );
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 3000, `failed after ${Date.now() - t0} ms`);
    assert.ok(s.hits() <= 8, `${s.hits()} attempts reached the server`);
  } finally {
    await s.close();
  }
});

test('a server that drips bytes is cut off by the deadline, which covers the body', async () => {
  const s = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"choices": [');
    const drip = setInterval(() => res.write(' '), 20);
    res.on('close', () => clearInterval(drip));
  });
  try {
    const t0 = Date.now();
    await assert.rejects(
      backend(s.url, { timeoutMs: 300, maxRetries: 1 }).loglikelihood([REQ(0)]),
      /cannot get an answer .*: no answer within 300 ms .*after 2 attempts/,
    );
    assert.ok(Date.now() - t0 < 2000, `failed after ${Date.now() - t0} ms`);
  } finally {
    await s.close();
  }
});

test('a huge response is refused once it passes maxResponseBytes, streamed (no content-length) or declared, and not retried', async () => {
  const chunk = Buffer.alloc(64 << 10, 0x20);
  const s = await serve((req, res) => {
    if (req.url?.includes('declared')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 ** 31) });
      res.write('{');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    let sent = 0;
    const pump = () => {
      while (sent < 64 << 20 && res.write(chunk)) sent += chunk.length;
      if (sent < 64 << 20) res.once('drain', pump);
    };
    pump();
  });
  try {
    const t0 = Date.now();
    await assert.rejects(backend(s.url, { maxResponseBytes: 1 << 20 }).loglikelihood([REQ(0)]), (e: Error) => {
      assert.ok(e instanceof OpenAIBackendError);
      assert.match(
        e.message,
        new RegExp(`${s.url}/v1/completions: the response is larger than 1048576 bytes \\(over \\d+ bytes read\\)`),
      );
      return true;
    });
    assert.equal(s.hits(), 1, 'a response too large is not retried');
    assert.ok(Date.now() - t0 < 3000);
    await assert.rejects(
      backend(`${s.url}/declared`, { maxResponseBytes: 1 << 20 }).loglikelihood([REQ(0)]),
      /larger than 1048576 bytes \(content-length 2147483648\)/,
    );
  } finally {
    await s.close();
  }
});

test('every retry is logged with its reason and its wait; any answer resets the failure streak', async () => {
  let n = 0;
  const s = await serve((_req, res) => {
    n++;
    if (n <= 2) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('busy');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        choices: [
          {
            logprobs: {
              tokens: ['Q', ' yes'],
              token_logprobs: [null, -0.5],
              top_logprobs: [null, { ' yes': -0.5 }],
              text_offset: [0, 11],
            },
          },
        ],
      }),
    );
  });
  try {
    const logs: string[] = [];
    const r = await backend(s.url, { log: (m) => logs.push(m), maxConsecutiveFailures: 1 }).loglikelihood([REQ(0)]);
    assert.equal(r[0].logprob, -0.5);
    assert.deepEqual(logs, [
      `${s.url}/v1/completions: HTTP 503: busy; retry 1/5 in 5 ms`,
      `${s.url}/v1/completions: HTTP 503: busy; retry 2/5 in 10 ms`,
    ]);
  } finally {
    await s.close();
  }
});

test('the cache identity is the served model as GET /v1/models reports it, not the URL', async () => {
  let root = '/models/a';
  const s = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        object: 'list',
        data: [
          { id: 'other' },
          { id: 'm', object: 'model', created: Date.now(), owned_by: 'vllm', root, max_model_len: 2048 },
        ],
      }),
    );
  });
  const s2 = await serve((_req, res) => {
    res.writeHead(404);
    res.end('no such route');
  });
  try {
    const a = await backend(s.url).cacheIdentity();
    assert.deepEqual(a.server, { id: 'm', owned_by: 'vllm', root: '/models/a', max_model_len: 2048 });
    assert.ok(!JSON.stringify(a).includes(s.url), 'the URL is not part of it');
    assert.deepEqual(await backend(s.url).cacheIdentity(), a, 'created (a time stamp in vLLM) is left out');
    root = '/models/b';
    assert.notDeepEqual((await backend(s.url).cacheIdentity()).server, a.server, 'other weights behind the same name');
    const logs: string[] = [];
    const fallback = await backend(s2.url, { log: (m) => logs.push(m) }).cacheIdentity();
    assert.deepEqual(fallback.server, { url: `${s2.url}/v1` });
    assert.match(logs.join('\n'), /\/v1\/models: .*HTTP 404.*keyed by the server URL and model name only/);
  } finally {
    await s.close();
    await s2.close();
  }
});
