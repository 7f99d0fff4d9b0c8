// `olmo eval --openai A --openai B`: two `olmo serve` processes (in-process servers here) behind one OpenAIPool give
// the metrics and predictions of one endpoint; one server killed mid-run loses nothing; every endpoint down and
// endpoints serving different models are clear errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { OpenAIBackend } from '../../src/eval/backends/openai.ts';
import { OpenAIPool, type OpenAIPoolOptions } from '../../src/eval/backends/openai-pool.ts';
import { LocalHfFolderSource } from '../../src/eval/data/source.ts';
import { planEvaluation } from '../../src/eval/runner/evaluate.ts';
import { runEval } from '../../src/eval/runner/run.ts';
import type { Backend } from '../../src/eval/runner/backend.ts';
import type { RunningServer } from '../../src/serve/index.ts';
import { setBackend } from '../../src/tensor/index.ts';
import { tmp, writeMcTask } from '../eval/backends/helpers.ts';
import { checkpoint, MODEL_NAME, serve, tinyModel } from './helpers.ts';

setBackend('js'); // as eval.test.ts: the server's chunked prefill matches on the js kernels
const { tokenizer: tok } = tinyModel();
const servers: RunningServer[] = [];
const start = async (extra = {}) => {
  const s = await serve({ maxNumSeqs: 4, prefillChunk: 32, ...extra });
  servers.push(s);
  return s;
};
after(() => Promise.all(servers.map((s) => s.close(100).catch(() => {}))));
const [a, b] = [await start(), await start()];

const dataRoot = tmp('serve-pool-data');
writeMcTask(dataRoot, 'tinymc', 8);
const TASKS = planEvaluation(['local_mc:tinymc:mc', 'local_mc:tinymc:rc'], { num_shots: 0 }).plan;
const common = { model: MODEL_NAME, maxLength: 128, retryBaseMs: 5, maxRetries: 2, tokenizer: tok, concurrency: 2 };
const pool = (urls: string[], extra: Partial<OpenAIPoolOptions> = {}) =>
  new OpenAIPool({ ...common, baseUrls: urls.map((u) => `${u}/v1`), ...extra });

/** A fetch that counts the requests sent to each server (by origin) and runs `hook` before each. */
function countingFetch(hook: (origin: string, counts: Map<string, number>) => void = () => {}) {
  const counts = new Map<string, number>();
  const f: typeof fetch = (input, init) => {
    const origin = new URL(String(input)).origin;
    counts.set(origin, (counts.get(origin) ?? 0) + 1);
    hook(origin, counts);
    return fetch(input, init);
  };
  return { f, counts };
}

async function evalWith(backend: Backend) {
  const out = tmp('serve-pool-out');
  const r = await runEval({
    tasks: TASKS,
    source: new LocalHfFolderSource(dataRoot),
    outputDir: out,
    backend,
    batchSize: 6,
  });
  const preds = ['task-000-tinymc-predictions.jsonl', 'task-001-tinymc-predictions.jsonl'].map((f) =>
    readFileSync(join(out, f), 'utf8'),
  );
  return { metrics: r.tasks.map((t) => t.metrics), primary: r.metrics.all_primary_scores, preds };
}

const single = await evalWith(new OpenAIBackend({ ...common, baseUrl: `${a.url}/v1` }));

test('two endpoints: the requests are spread over both, metrics, predictions and cache identity as one endpoint', async () => {
  const { f, counts } = countingFetch();
  const p = pool([a.url, b.url], { fetch: f });
  assert.deepEqual(await evalWith(p), single);
  assert.ok((counts.get(a.url) ?? 0) > 2 && (counts.get(b.url) ?? 0) > 2, `both endpoints used: ${[...counts]}`);
  const one = new OpenAIBackend({ ...common, baseUrl: `${a.url}/v1` });
  assert.deepEqual(await p.cacheIdentity(), await one.cacheIdentity());
});

test('one server killed mid-run: its requests move to the other, results identical', async () => {
  const [c, d] = [await start(), await start()];
  let killed = false;
  const { f, counts } = countingFetch((origin, n) => {
    // a hard kill after a few requests: the listener closes and open connections drop (as with SIGKILL)
    if (!killed && origin === d.url && (n.get(origin) ?? 0) >= 4) {
      killed = true;
      setImmediate(() => {
        d.app.server.close();
        d.app.server.closeAllConnections();
      });
    }
  });
  const logs: string[] = [];
  const r = await evalWith(pool([c.url, d.url], { fetch: f, log: (m) => logs.push(m) }));
  assert.ok(killed);
  assert.deepEqual(r, single);
  assert.ok(
    logs.some((l) => l.startsWith(`${d.url}/v1: taken out of the pool`)),
    logs.join('\n'),
  );
  assert.ok((counts.get(c.url) ?? 0) > (counts.get(d.url) ?? 0));
});

test('a server that stops and restarts on the same port is probed, re-admitted and used again; results identical', async () => {
  const [c, d] = [await start(), await start()];
  let closed = false;
  let restarted: RunningServer | null = null;
  const { f } = countingFetch((origin, n) => {
    if (!closed && origin === d.url && (n.get(origin) ?? 0) === 4)
      setImmediate(() => {
        d.app.server.close(() => (closed = true));
        d.app.server.closeAllConnections();
      });
  });
  // the other endpoint answers slowly, so that the run is still going when the restarted server is back
  const slowC: typeof fetch = async (input, init) => {
    if (new URL(String(input)).origin === c.url) await new Promise((r) => setTimeout(r, 40));
    return f(input, init);
  };
  const logs: string[] = [];
  const log = (m: string) => {
    logs.push(m);
    if (m.startsWith(`${d.url}/v1: taken out of the pool`))
      void (async () => {
        while (!closed) await new Promise((r) => setTimeout(r, 5));
        restarted = await start({ port: d.port });
      })();
  };
  const r = await evalWith(pool([c.url, d.url], { fetch: slowC, log, reprobeMs: 20 }));
  assert.deepEqual(r, single);
  assert.ok(restarted, logs.join('\n'));
  assert.ok(
    logs.some((l) => l === `${d.url}/v1: answers again with the same model; back in the pool`),
    logs.join('\n'),
  );
  const served = (restarted as RunningServer).engine.metrics.requestCount('/v1/completions', 200);
  assert.ok(served > 0, `the restarted server answered ${served} requests`);
});

test('a downed endpoint that comes back serving another model stays out', async () => {
  const [c, d] = [await start(), await start()];
  let down = false;
  const f: typeof fetch = (input, init) => {
    const url = new URL(String(input));
    if (url.origin === d.url && down && !url.pathname.endsWith('/models'))
      return Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }));
    return fetch(input, init);
  };
  const logs: string[] = [];
  const p = pool([c.url, d.url], { fetch: f, log: (m) => logs.push(m), reprobeMs: 10 });
  await p.cacheIdentity();
  down = true;
  // d now lists another model (a restart with other weights under the same name)
  Object.assign(d.engine, { root: 'other-weights' });
  const reqs = Array.from({ length: 8 }, (_, i) => ({
    type: 'loglikelihood' as const,
    context: `q ${i}`,
    continuation: ' yes',
  }));
  const got = await p.loglikelihood(reqs);
  assert.equal(got.length, 8);
  const until = Date.now() + 2000;
  while (!logs.some((l) => l.includes('stays out of the pool')) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 10));
  assert.ok(
    logs.some((l) => l.startsWith(`${d.url}/v1: answers again but reports another model`)),
    logs.join('\n'),
  );
  assert.ok(!logs.some((l) => l.includes('back in the pool')), logs.join('\n'));
});

test('every endpoint down: a clear error naming each', async () => {
  let dead = false;
  const f: typeof fetch = (input, init) => {
    if (dead) return Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }));
    return fetch(input, init);
  };
  const p = pool([a.url, b.url], { fetch: f });
  await p.cacheIdentity();
  dead = true;
  const reqs = Array.from({ length: 6 }, (_, i) => ({
    type: 'loglikelihood' as const,
    context: `question ${i}`,
    continuation: ' yes',
  }));
  await assert.rejects(p.loglikelihood(reqs), (e: Error) => {
    assert.match(e.message, /every --openai endpoint stopped answering/);
    assert.ok(e.message.includes(`${a.url}/v1: `) && e.message.includes(`${b.url}/v1: `), e.message);
    assert.match(e.message, /ECONNREFUSED/);
    return true;
  });
});

test('endpoints serving different models: a clear error naming the endpoints and what each reports', async () => {
  const other = await start({ root: 'other-weights' });
  const p = pool([a.url, other.url]);
  await assert.rejects(p.cacheIdentity(), (e: Error) => {
    assert.match(e.message, /do not report the same model "tiny"/);
    assert.ok(e.message.includes(`${a.url}/v1: {"id":"tiny"`), e.message);
    assert.ok(e.message.includes(`${other.url}/v1: `) && e.message.includes('other-weights'), e.message);
    return true;
  });
  // the requests refuse too, before anything is scored
  await assert.rejects(p.generateUntil([]), /do not report the same model/);
  assert.throws(() => new OpenAIPool({ ...common, baseUrls: [a.url, `${a.url}/v1/`] }), /given more than once/);
  assert.throws(() => pool([]), /at least one endpoint/);
});

test('olmo eval --openai A --openai B: the metrics of one endpoint', async () => {
  const out = tmp('serve-pool-cli');
  const runner = join(import.meta.dirname, '..', 'cli', 'eval-cli.ts');
  const args = ['--tasks', 'local_mc:tinymc:mc,local_mc:tinymc:rc', '--data-dir', dataRoot, '--num-shots', '0'];
  args.push('--openai', `${a.url}/v1`, '--openai', `${b.url}/v1`, '--model-name', MODEL_NAME, '--output', out);
  args.push('--tokenizer', checkpoint(), '--max-length', '128', '--concurrency', '2', '--batch-size', '6');
  // async: the servers in this process answer the child
  await promisify(execFile)(process.execPath, ['--import', 'tsx', runner, ...args], {
    env: { ...process.env, HF_HUB_OFFLINE: '1' },
    timeout: 60_000,
  });
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.deepEqual(metrics.all_primary_scores, single.primary);
  assert.equal(JSON.parse(readFileSync(join(out, 'task-000-tinymc-metrics.json'), 'utf8')).compute_config.endpoints, 2);
});
