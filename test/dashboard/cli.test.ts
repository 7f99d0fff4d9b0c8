// `olmo dashboard` as a user runs it: prints its URL, serves the API, chats with an in-process --model (streamed
// with log-probs, the chat template rendered by the model's tokenizer), closes on SIGTERM; bad options are usage
// errors; a non-loopback host warns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChatChunk, ChatRenderResponse, RootsResponse, RunsResponse } from '../../src/dashboard/api-types.ts';
import { startDashboard } from '../../src/dashboard/server.ts';
import { olmo } from '../cli/cli-helpers.ts';
import { checkpoint } from '../serve/helpers.ts';
import { makeFixture } from './api-fixtures.ts';
import { SseReader } from './sse.ts';
import { OLMO_NODE_ARGS } from '../olmo-command.ts';

test('olmo dashboard DIR --port 0 --model X: URL printed, API and in-process chat served, SIGTERM closes it', async () => {
  const { root } = makeFixture();
  const child = spawn(
    process.execPath,
    [...OLMO_NODE_ARGS, 'dashboard', root, '--port', '0', '--model', checkpoint()],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /olmo dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`exited before printing its URL: ${stderr}`)));
    });
    const { runs } = (await (await fetch(`${url}/api/runs`)).json()) as RunsResponse;
    assert.equal(runs.length, 2);
    const roots = (await (await fetch(`${url}/api/roots`)).json()) as RootsResponse;
    assert.equal(roots.chat.kind, 'model');
    assert.equal(roots.chat.canRender, true);
    const body = { messages: [{ role: 'user', content: 'hello' }], max_tokens: 4, temperature: 0 };
    const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const render = (await (await fetch(`${url}/api/chat/render`, post)).json()) as ChatRenderResponse;
    assert.equal(render.available, true);
    assert.match(render.text ?? '', /hello/);
    const events = await new SseReader(`${url}/api/chat`, post).rest();
    assert.equal(events.at(-1)?.data, '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as ChatChunk);
    assert.ok(chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? []).length >= 1);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGTERM: closing/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('olmo dashboard: --model with --openai, or an --openai that is not a URL, is a usage error', () => {
  const both = olmo(['dashboard', '--model', 'x', '--openai', 'http://127.0.0.1:1/v1']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--model or --openai .* not both/);
  const bad = olmo(['dashboard', '--openai', 'localhost:8000']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /expects an http\(s\) base URL/);
});

test('a non-loopback host warns that the files are readable from other machines', async () => {
  const lines: string[] = [];
  const d = await startDashboard({ roots: [makeFixture().root], host: '0.0.0.0', port: 0, log: (l) => lines.push(l) });
  await d.close();
  assert.equal(lines.length, 1);
  assert.match(lines[0], /WARNING: olmo dashboard is listening on 0\.0\.0\.0.*Bind 127\.0\.0\.1/);
});
