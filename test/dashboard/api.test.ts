// The dashboard's HTTP API on a real loopback server over fixture folders: every route, problems reported instead of
// failures, path traversal refused, the live metrics stream, and chat relayed from a loopback `olmo serve`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ChatChunk,
  CompareResponse,
  EvalDetail,
  EvalsResponse,
  InstancesResponse,
  MetricsResponse,
  ModelsResponse,
  QuickstartsResponse,
  RootsResponse,
  RunDetail,
  RunsResponse,
} from '../../src/dashboard/api-types.ts';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/server.ts';
import { parameterCount, parseConfig } from '../../src/models/index.ts';
import type { RunningServer } from '../../src/serve/index.ts';
import { signTestPValue } from '../../src/stats/paired.ts';
import { serve } from '../serve/helpers.ts';
import { CONTEXT, makeFixture, pretrainRows, TASK, type Fixture } from './api-fixtures.ts';
import { rawGet, SseReader } from './sse.ts';

let fx: Fixture;
let dash: RunningDashboard;

async function get<T>(path: string, status = 200): Promise<T> {
  const res = await fetch(dash.url + path);
  const text = await res.text();
  assert.equal(res.status, status, `${path}: ${text}`);
  return JSON.parse(text) as T;
}

async function runId(path: string): Promise<string> {
  const { runs } = await get<RunsResponse>('/api/runs');
  const r = runs.find((x) => x.path === path);
  assert.ok(r, `run ${path} listed`);
  return r.id;
}

async function evalId(path: string): Promise<string> {
  const { evals } = await get<EvalsResponse>('/api/evals');
  return evals.find((e) => e.path === path)!.id;
}

before(async () => {
  fx = makeFixture();
  dash = await startDashboard({
    roots: [fx.root],
    port: 0,
    pollMs: 200,
    assetsDir: join(fx.root, 'no-bundle'),
    log: () => {},
  });
});
after(() => dash.close());

describe('runs', () => {
  test('the list names each run with its kind, last step and problems', async () => {
    const { runs } = await get<RunsResponse>('/api/runs');
    assert.deepEqual(runs.map((r) => r.path).sort(), ['runs/broken', 'runs/pre']);
    const pre = runs.find((r) => r.path === 'runs/pre')!;
    assert.equal(pre.kind, 'pretrain');
    assert.equal(pre.lastStep, 6);
    assert.equal(pre.checkpoints, 1);
    assert.equal(pre.status, 'running', 'metrics written just now');
    assert.deepEqual(pre.problems, []);
    const broken = runs.find((r) => r.path === 'runs/broken')!;
    assert.equal(broken.lastStep, 3);
    assert.ok(broken.problems.some((p) => /no config\.resolved\.json/.test(p.message)));
    assert.deepEqual(
      broken.problems.filter((p) => p.line !== undefined).map((p) => [p.file, p.line]),
      [['runs/broken/metrics.jsonl', 2]],
      'the truncated middle line is a problem; the half-written last line is not',
    );
  });

  test('a run: config, train state, checkpoints with their model, stage boundaries', async () => {
    const d = await get<RunDetail>(`/api/runs/${await runId('runs/pre')}`);
    assert.equal(d.config?.globalBatchTokens, 4096);
    assert.deepEqual(d.recorded, { version: '0.1.0', commit: 'abc', threads: 2 });
    assert.equal(d.trainState?.step, 6);
    assert.equal(d.trainState?.kind, 'pretrain');
    assert.deepEqual(
      d.checkpoints.map((c) => [c.name, c.step, c.path]),
      [['step-0000006', 6, 'runs/pre/checkpoints/step-0000006']],
    );
    const { models } = await get<ModelsResponse>('/api/models');
    assert.equal(d.checkpoints[0].modelId, models.find((m) => m.path.endsWith('step-0000006/model'))!.id);
    assert.deepEqual(d.stages, [
      { stage: 'pretrain', step: 1, tokens: 4096 },
      { stage: 'anneal', step: 5, tokens: 5 * 4096 },
    ]);
    const broken = await get<RunDetail>(`/api/runs/${await runId('runs/broken')}`);
    assert.equal(broken.config, null);
    assert.match(broken.configProblem?.message ?? '', /config\.resolved\.json/);
  });

  test('metrics: every complete row, malformed lines reported by number', async () => {
    const m = await get<MetricsResponse>(`/api/runs/${await runId('runs/pre')}/metrics`);
    assert.deepEqual(m.rows, pretrainRows());
    assert.equal(m.lines, pretrainRows().length);
    assert.deepEqual(m.numericKeys, ['step', 'lr', 'loss', 'z_loss', 'grad_norm', 'tokens', 'val_loss']);
    const b = await get<MetricsResponse>(`/api/runs/${await runId('runs/broken')}/metrics`);
    assert.deepEqual(
      b.rows.map((r) => r.step),
      [1, 3],
    );
    assert.equal(b.lines, 3);
    assert.equal(b.problems.length, 1);
    assert.equal(b.problems[0].line, 2);
    assert.match(b.problems[0].problem, /malformed JSON/);
  });

  test('events: an appended line arrives within 2 s; a half line waits for its end; a rewrite resets', async () => {
    const id = await runId('runs/pre');
    const file = join(fx.root, 'runs', 'pre', 'metrics.jsonl');
    const m = await get<MetricsResponse>(`/api/runs/${id}/metrics`);
    const sse = new SseReader(`${dash.url}/api/runs/${id}/events?from=${m.lines}`);
    try {
      await new Promise((r) => setTimeout(r, 100));
      appendFileSync(file, `${JSON.stringify({ step: 7, stage: 'anneal', loss: 6.2 })}\n`);
      const e1 = await sse.next(2000);
      assert.equal(e1.event, 'rows');
      assert.deepEqual(JSON.parse(e1.data), {
        rows: [{ step: 7, stage: 'anneal', loss: 6.2 }],
        problems: [],
        lines: m.lines + 1,
      });
      appendFileSync(file, '{"step":8,"loss"');
      await assert.rejects(sse.next(700), /no server-sent event/);
      appendFileSync(file, ':6.1}\n');
      assert.deepEqual(JSON.parse((await sse.next(2000)).data).rows, [{ step: 8, loss: 6.1 }]);
      writeFileSync(file, '{"step":1,"loss":9}\n');
      const reset = await sse.next(2000);
      assert.equal(reset.event, 'reset');
      const body = JSON.parse(reset.data);
      assert.ok(['truncated', 'replaced'].includes(body.reason));
      assert.deepEqual(body.rows, [{ step: 1, loss: 9 }]);
    } finally {
      sse.close();
    }
  });

  test('a folder that vanishes after the scan drops out of the lists instead of failing them', async () => {
    const other = makeFixture();
    const d = await startDashboard({ roots: [other.root], port: 0, rescanMs: 60_000, log: () => {} });
    try {
      const list = async (what: string) => {
        const res = await fetch(`${d.url}/api/${what}`);
        assert.equal(res.status, 200, what);
        return (await res.json()) as Record<string, { path: string }[]>;
      };
      assert.equal((await list('runs')).runs.length, 2);
      rmSync(join(other.root, 'runs', 'pre'), { recursive: true });
      rmSync(join(other.root, 'evals', 'a'), { recursive: true });
      assert.deepEqual(
        (await list('runs')).runs.map((r) => r.path),
        ['runs/broken'],
      );
      assert.deepEqual((await list('evals')).evals.map((e) => e.path).sort(), ['evals/b', 'evals/bad']);
      assert.deepEqual(
        (await list('models')).models.map((m) => m.path),
        ['models/tiny'],
      );
    } finally {
      await d.close();
    }
  });

  test('events: each event carries the line count as its id; a reconnect resumes from Last-Event-ID', async () => {
    const id = await runId('runs/broken');
    const sse = new SseReader(`${dash.url}/api/runs/${id}/events?from=0`, { headers: { 'last-event-id': '1' } });
    try {
      const e = await sse.next(2000);
      assert.equal(e.event, 'rows');
      assert.deepEqual(JSON.parse(e.data).rows, [{ step: 3, loss: 6.9 }], 'lines 2 and 3 only (2 is malformed)');
      assert.equal(e.id, '3');
    } finally {
      sse.close();
    }
  });

  test('events: a client that has more lines than the file gets the whole file as a reset', async () => {
    const id = await runId('runs/broken');
    const sse = new SseReader(`${dash.url}/api/runs/${id}/events?from=99`);
    try {
      const e = await sse.next(2000);
      assert.equal(e.event, 'reset');
      assert.equal(JSON.parse(e.data).reason, 'truncated');
      assert.equal(JSON.parse(e.data).rows.length, 2);
    } finally {
      sse.close();
    }
  });
});

describe('evaluations', () => {
  test('the list and a detail: scores as in metrics.json, a malformed metrics.json as a problem', async () => {
    const { evals } = await get<EvalsResponse>('/api/evals');
    assert.deepEqual(evals.map((e) => e.path).sort(), ['evals/a', 'evals/b', 'evals/bad']);
    const a = evals.find((e) => e.path === 'evals/a')!;
    assert.equal(a.model, 'model-a');
    assert.deepEqual(
      a.tasks.map((t) => [t.alias, t.primaryMetric, t.score, t.isSuite, t.hasPredictions]),
      [
        ['toy', 'macro', 0.5, true, false],
        [TASK, 'acc_raw', 0.5, false, true],
      ],
    );
    const bad = evals.find((e) => e.path === 'evals/bad')!;
    assert.deepEqual(bad.tasks, []);
    assert.match(bad.problems[0].message, /malformed JSON/);
    const d = await get<EvalDetail>(`/api/evals/${a.id}`);
    assert.equal(d.tasks[1].metrics.acc_raw, 0.5);
    assert.equal(d.tasks[1].taskConfig.primary_metric, 'acc_raw');
  });

  test('instances: the request text exactly as scored, scores, prediction, gold, correct; wrong only; paging', async () => {
    const id = await evalId('evals/a');
    const r = await get<InstancesResponse>(`/api/evals/${id}/instances?task=${encodeURIComponent(TASK)}`);
    assert.equal(r.total, 6);
    const i3 = r.instances[3];
    assert.deepEqual(
      i3.choices.map((c) => [c.context, c.continuation, c.logLikelihood, c.isGreedy]),
      [
        [CONTEXT, ' blue', -3, false],
        [CONTEXT, ' green', -2, true],
      ],
    );
    assert.equal(i3.choices[0].scores.logits_per_char, -0.6);
    assert.deepEqual([i3.prediction, i3.gold, i3.correct], [1, 0, false]);
    const wrong = await get<InstancesResponse>(
      `/api/evals/${id}/instances?task=${encodeURIComponent(TASK)}&wrong=1&offset=1&limit=1`,
    );
    assert.deepEqual([wrong.total, wrong.totalAll, wrong.instances.map((i) => i.docId)], [3, 6, [4]]);
    await get(`/api/evals/${id}/instances?task=nope`, 404);
    await get(`/api/evals/${id}/instances?task=${encodeURIComponent(TASK)}&limit=-1`, 400);
  });

  test('compare: fixed, broken and the exact sign test on the shared instances', async () => {
    const a = await evalId('evals/a');
    const b = await evalId('evals/b');
    const c = await get<CompareResponse>(`/api/compare?ids=${a},${b}&task=${encodeURIComponent(TASK)}`);
    assert.deepEqual(c.names, ['evals/a', 'evals/b']);
    assert.deepEqual(c.tasks[0].scores, [0.5, 5 / 6]);
    const p = c.tasks[0].pairs[0];
    assert.deepEqual([p.shared, p.fixed, p.broken], [6, 3, 1]);
    assert.equal(p.pValue, signTestPValue(3, 1));
    await get(`/api/compare?ids=${a}`, 400);
  });
});

describe('models and quickstarts', () => {
  test('models: config summary, parameters and memory from the config', async () => {
    const { models } = await get<ModelsResponse>('/api/models');
    const tiny = models.find((m) => m.path === 'models/tiny')!;
    const cfg = parseConfig(JSON.parse((await rawGet(dash.url, `/files/${tiny.id}/config.json`)).body));
    assert.equal(tiny.parameters, parameterCount(cfg).total);
    assert.equal(tiny.modelType, 'olmo2');
    assert.equal(tiny.config.layers, cfg.numLayers);
    assert.ok(tiny.memory && tiny.memory.weightBytes > 0);
    assert.equal(tiny.runId, null);
    assert.equal(models.find((m) => m.path.endsWith('/model'))!.runId, await runId('runs/pre'));
  });

  test('quickstarts: listed with their report, served from /files', async () => {
    const { quickstarts } = await get<QuickstartsResponse>('/api/quickstarts');
    assert.equal(quickstarts.length, 1);
    const res = await fetch(dash.url + quickstarts[0].reportUrl);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await res.text(), /quickstart report/);
    const { models } = await get<ModelsResponse>('/api/models');
    const tiny = models.find((m) => m.path === 'models/tiny')!;
    const weights = await fetch(`${dash.url}/files/${tiny.id}/model.safetensors`);
    assert.equal(weights.status, 200);
    assert.equal(Number(weights.headers.get('content-length')), (await weights.arrayBuffer()).byteLength);
    const folder = await rawGet(dash.url, `/files/${await runId('runs/pre')}/checkpoints`);
    assert.equal(folder.status, 404);
    assert.match(JSON.parse(folder.body).error.message, /runs\/pre\/checkpoints is a folder, not a file/);
  });

  test('the app page says to build when the bundle is missing, and serves it when present', async () => {
    const res = await fetch(`${dash.url}/`);
    assert.match(await res.text(), /npm run build/);
    const assets = mkdtempSync(join(tmpdir(), 'olmo-dash-assets-'));
    writeFileSync(join(assets, 'index.html'), '<!doctype html><p>app</p>');
    writeFileSync(join(assets, 'app.js'), 'console.log(1)');
    const d2 = await startDashboard({ roots: [fx.root], port: 0, assetsDir: assets, log: () => {} });
    try {
      assert.equal(await (await fetch(`${d2.url}/`)).text(), '<!doctype html><p>app</p>');
      const js = await fetch(`${d2.url}/assets/app.js`);
      assert.match(js.headers.get('content-type') ?? '', /javascript/);
      assert.equal((await rawGet(d2.url, '/assets/../index.html')).status >= 400, true);
    } finally {
      await d2.close();
    }
  });

  test('roots: the folders and the chat backend', async () => {
    const r = await get<RootsResponse>('/api/roots');
    assert.deepEqual(r.roots, [{ index: 0, path: fx.root, exists: true }]);
    assert.equal(r.chat.kind, 'none');
  });
});

describe('path checks', () => {
  test('traversal, encoded traversal, absolute paths, NUL and symlinks out of the root are refused', async () => {
    const { quickstarts } = await get<QuickstartsResponse>('/api/quickstarts');
    const qs = quickstarts[0].id;
    const refused = [
      `/files/${qs}/../runs/pre/metrics.jsonl`,
      `/files/${qs}/%2e%2e/%2e%2e/secret.txt`,
      `/files/${qs}/%2E%2E%2Fsecret.txt`,
      `/files/${qs}/..%2f..%2fsecret.txt`,
      `/files/${qs}/%2Fetc%2Fpasswd`,
      `/files/${qs}//etc/passwd`,
      `/files/${qs}/report.html%00.txt`,
      `/files/${qs}/secret.txt`,
      `/files/${qs}/up/secret.txt`,
      `/files/${Buffer.from('0:../').toString('base64url')}/secret.txt`,
      `/files/${Buffer.from('0:/etc').toString('base64url')}/passwd`,
      `/files/${Buffer.from('7:qs').toString('base64url')}/report.html`,
      `/files/not%2Fbase64/report.html`,
      `/api/runs/${Buffer.from('0:runs/../../').toString('base64url')}`,
      `/api/runs/${Buffer.from('0:qs').toString('base64url')}`,
    ];
    for (const path of refused) {
      const r = await rawGet(dash.url, path);
      assert.ok(r.status === 400 || r.status === 404, `${path} → ${r.status}`);
      assert.doesNotMatch(r.body, /outside the root|root:x:0/, path);
      assert.ok(JSON.parse(r.body).error.message, `${path}: an error message`);
    }
    assert.equal((await rawGet(dash.url, `/files/${qs}/report.json`)).status, 200);
  });
});

describe('chat', () => {
  let backend: RunningServer;
  let withChat: RunningDashboard;
  before(async () => {
    backend = await serve();
    withChat = await startDashboard({
      roots: [fx.root],
      port: 0,
      chat: { openai: `${backend.url}/v1` },
      log: () => {},
    });
  });
  after(async () => {
    await withChat.close();
    await backend.close(1000);
  });

  test('POST /api/chat relays the streamed chunks with log-probs from a loopback olmo serve', async () => {
    const sse = new SseReader(`${withChat.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: [{ role: 'user', content: 'hello' }],
        max_tokens: 6,
        temperature: 0,
        seed: 1,
        top_logprobs: 3,
      }),
    });
    const events = await sse.rest();
    assert.equal(events.at(-1)?.data, '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as ChatChunk);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
    const tokens = chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? []);
    assert.ok(tokens.length >= 2, `several tokens streamed (${tokens.length})`);
    for (const t of tokens) {
      assert.ok(Number.isFinite(t.logprob) && t.logprob <= 0);
      assert.equal(t.top_logprobs.length, 3);
    }
    const roots = await (await fetch(`${withChat.url}/api/roots`)).json();
    assert.deepEqual(roots.chat, { kind: 'openai', target: `${backend.url}/v1`, model: 'tiny', canRender: true });
  });

  test('POST /api/chat/render: the prompt as the model sees it, through the endpoint tokenizer', async () => {
    const res = await fetch(`${withChat.url}/api/chat/render`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }] }),
    });
    const r = await res.json();
    assert.equal(r.available, true);
    assert.match(r.text, /hello/);
    assert.ok(r.tokens > 0);
  });

  test('bad chat bodies are 400; no backend is 409 with what to do', async () => {
    const post = (url: string, body: unknown) =>
      fetch(`${url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await post(withChat.url, { messages: [] })).status, 400);
    assert.equal(
      (await post(withChat.url, { messages: [{ role: 'user', content: 'x' }], temperature: 9 })).status,
      400,
    );
    const none = await post(dash.url, { messages: [{ role: 'user', content: 'x' }] });
    assert.equal(none.status, 409);
    assert.match((await none.json()).error.message, /--model DIR or --openai URL/);
    const down = await startDashboard({
      roots: [fx.root],
      port: 0,
      chat: { openai: 'http://127.0.0.1:9/v1' },
      log: () => {},
    });
    try {
      const res = await post(down.url, { messages: [{ role: 'user', content: 'x' }] });
      assert.equal(res.status, 502);
      assert.match((await res.json()).error.message, /127\.0\.0\.1:9\/v1 did not name its model/);
    } finally {
      await down.close();
    }
  });
});
