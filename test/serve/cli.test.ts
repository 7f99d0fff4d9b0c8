// `olmo serve` as a process: SIGTERM stops accepting, lets a running stream finish within the grace period (or
// aborts it when the grace is over), and exits 0; usage errors for bad flags and --quantize int8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import OpenAI from 'openai';
import { UsageError } from '../../src/cli/command.ts';
import { serveCommand } from '../../src/cli/serve.ts';
import { checkpoint } from './helpers.ts';
import { OLMO_NODE_ARGS } from '../olmo-command.ts';

async function startCli(args: string[]) {
  const child = spawn(
    process.execPath,
    [...OLMO_NODE_ARGS, 'serve', '--model', checkpoint(), '--port', '0', '--served-model-name', 'tiny', ...args],
    {
      env: { ...process.env, OLMO_BACKEND: 'js' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`olmo serve exited with ${code}: ${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}

async function streamAfterSigterm(
  grace: string,
): Promise<{ finish: string | null; tokens: number; code: number | null; refused: boolean; stderr: string }> {
  const srv = await startCli(['--grace-seconds', grace]);
  const openai = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'none', maxRetries: 0 });
  const stream = (await openai.completions.create({
    model: 'tiny',
    prompt: 'hello',
    max_tokens: 100,
    temperature: 1,
    seed: 3,
    stream: true,
    logprobs: 0,
    ignore_eos: true,
  } as never)) as unknown as AsyncIterable<OpenAI.Completions.Completion>;
  let finish: string | null = null;
  let tokens = 0;
  let refused = false;
  for await (const c of stream) {
    tokens += c.choices[0]?.logprobs?.tokens?.length ?? 0;
    finish = c.choices[0]?.finish_reason ?? finish;
    if (tokens === 2 && !srv.child.killed) {
      srv.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 50));
      refused = await fetch(`${srv.url}/health`).then(
        (r) => r.status === 503,
        () => true,
      );
    }
  }
  return { finish, tokens, code: await srv.exited, refused, stderr: srv.stderr() };
}

test('SIGTERM drains: no new requests, the running stream finishes, exit 0', async () => {
  const r = await streamAfterSigterm('30');
  assert.equal(r.finish, 'length');
  assert.equal(r.tokens, 100);
  assert.ok(r.refused, 'a request after SIGTERM is refused');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /SIGTERM: no new requests; running ones have 30 s to finish/);
  assert.match(r.stderr, /olmo serve: stopped/);
});

test('SIGTERM with the grace period over aborts the running stream and exits', async () => {
  const r = await streamAfterSigterm('0');
  assert.equal(r.finish, 'abort');
  assert.ok(r.tokens < 100);
  assert.equal(r.code, 0, r.stderr);
});

test('olmo serve usage errors: --quantize other than int8, bad numbers, empty key, too long a context', async () => {
  const usage = (args: string[], message: RegExp) =>
    assert.rejects(
      serveCommand.run(['--model', checkpoint(), ...args]),
      (e: Error) => e instanceof UsageError && message.test(e.message),
    );
  await usage(['--quantize', 'int4'], /--quantize must be int8, got "int4"/);
  await usage(['--max-num-seqs', '0'], /--max-num-seqs must be an integer ≥ 1, got '0'/);
  await usage(['--api-key', ''], /--api-key must not be empty/);
  await usage(['--max-model-len', '4096'], /--max-model-len 4096 exceeds the model's max_position_embeddings 128/);
  await usage(['--port', '70000'], /--port must be an integer ≥ 0 and ≤ 65535/);
});
