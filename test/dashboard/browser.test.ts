// `olmo dashboard` in a real browser (Debian's Chromium through playwright-core) over a real tiny quickstart folder:
// the runs list; a run's charts with one point per metrics line; a line appended to metrics.jsonl drawn without a
// reload; a malformed run shown with its problems; the eval table equal to metrics.json; the instance browser
// showing a request's exact text; a chat reply streamed token by token from a loopback `olmo serve`; path traversal
// through the page URL refused; no console errors and no request leaving the loopback address. Screenshots of the
// three views go to a temporary folder and, when OLMO_SCREENSHOTS_DIR is set, are copied there.
import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { buildDashboard } from '../../scripts/build-dashboard.mjs';
import type {
  CompareResponse,
  EvalsResponse,
  ModelsResponse,
  QuickstartsResponse,
  RunsResponse,
} from '../../src/dashboard/api-types.ts';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/server.ts';
import { loadModel } from '../../src/models/index.ts';
import type { RunningServer } from '../../src/serve/index.ts';
import { loadTokenizer } from '../../src/tokenizers/index.ts';
import { serve } from '../serve/helpers.ts';
import { CHROMIUM, launchChromium } from '../chromium.ts';
import { countMetric, jsonLines, makeExtraRoot, runTinyQuickstart } from './browser-fixtures.ts';
import { sharedTinyQuickstart } from '../shared-quickstart.ts';

type ChartAxis = { options: { scales: { x: { title: { text: string } } } } };
type ChartData = { data: { datasets: { label: string; data: { x: number; y: number }[] }[] } };

/** The datasets of the chart on canvas #chart-ID: label → number of points. */
function chartCounts(page: Page, id: string): Promise<Record<string, number> | null> {
  return page.evaluate((chartId) => {
    const canvas = document.getElementById(`chart-${chartId}`);
    const Chart = (window as unknown as { Chart: { getChart(c: Element): ChartData | undefined } }).Chart;
    const chart = canvas ? Chart.getChart(canvas) : undefined;
    if (!chart) return null;
    return Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data.length]));
  }, id);
}

async function open(page: Page, url: string, ready: string): Promise<void> {
  await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
  await page.waitForSelector(`main[data-ready="${ready}"]`, { timeout: 15_000 });
}

const SHOTS = ['dashboard-runs.png', 'dashboard-evals.png', 'dashboard-chat.png'];
const skip = existsSync(CHROMIUM) ? false : `Chromium not found at ${CHROMIUM}: apt-get install chromium to run it`;

describe('olmo dashboard in Chromium', { skip, timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'olmo-dashboard-browser-'));
  const qs = join(dir, 'qs');
  const shots = join(dir, 'shots');
  let extra: { live: string; broken: string };
  let backend: RunningServer;
  let dash: RunningDashboard;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  /** The loopback origins of the dashboards this test starts; any other request is refused and reported. */
  const origins: string[] = [];
  const local = (url: string) => url.startsWith('data:') || origins.some((o) => url.startsWith(`${o}/`));
  const requests: string[] = [];
  const errors: string[] = [];

  before(async () => {
    mkdirSync(shots, { recursive: true });
    const assets = join(dir, 'assets');
    // OLMO_DASHBOARD_QUICKSTART=DIR: a copy of an earlier tiny quickstart output instead of a fresh run (faster when
    // working on the dashboard; the folder given is only read); in `npm test`, the quickstart test's (run first).
    const given = process.env.OLMO_DASHBOARD_QUICKSTART ?? sharedTinyQuickstart();
    const made = given ? Promise.resolve(cpSync(given, qs, { recursive: true })) : runTinyQuickstart(qs);
    await Promise.all([made, buildDashboard(assets)]);
    extra = makeExtraRoot(join(dir, 'extra'), qs);
    backend = await serve();
    dash = await startDashboard({
      roots: [qs, join(dir, 'extra')],
      host: '127.0.0.1',
      port: 0,
      assetsDir: assets,
      chat: { openai: `${backend.url}/v1` },
      log: () => {},
    });
    base = dash.url;
    origins.push(base);
    context = await launchChromium(join(dir, 'profile'), { width: 1366, height: 860 });
    // Every request the page makes is recorded; one that is not for the dashboard's own loopback origin is refused.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      requests.push(url);
      return local(url) ? route.continue() : route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
  });

  after(async () => {
    await context?.close();
    await dash?.close();
    await backend?.close();
    const out = process.env.OLMO_SCREENSHOTS_DIR;
    if (out) {
      mkdirSync(out, { recursive: true });
      for (const name of SHOTS) if (existsSync(join(shots, name))) copyFileSync(join(shots, name), join(out, name));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async <T>(path: string): Promise<T> => (await fetch(`${base}${path}`)).json() as Promise<T>;
  const runId = async (path: string) => (await api<RunsResponse>('/api/runs')).runs.find((r) => r.path === path)!.id;

  it('lists every run with its kind, and the malformed one with its problems', async () => {
    await open(page, `${base}/#/runs`, 'runs');
    const { runs } = await api<RunsResponse>('/api/runs');
    const links = await page.$$eval('#runs-table a[data-run-link]', (as) => as.map((a) => a.textContent));
    assert.deepEqual(links.sort(), runs.map((r) => r.name).sort());
    for (const name of ['pretrain', 'sft', 'dpo', 'rlvr', 'live', 'broken']) assert.ok(links.includes(name), name);
    const brokenRow = await page.$eval(
      '#runs-table tr:has(a[data-run-link]:text-is("broken"))',
      (tr) => tr.textContent,
    );
    assert.match(brokenRow ?? '', /⚠/, 'the malformed run carries a problem badge');
  });

  it("draws a run's charts with one point per metrics line, stage boundary included", async () => {
    const id = await runId('pretrain');
    await open(page, `${base}/#/runs/${id}`, 'run');
    const file = join(qs, 'pretrain', 'metrics.jsonl');
    const loss = await chartCounts(page, 'loss');
    assert.deepEqual(loss, { loss: countMetric(file, 'loss'), val_loss: countMetric(file, 'val_loss') });
    assert.deepEqual(await chartCounts(page, 'lr'), { lr: countMetric(file, 'lr') });
    assert.deepEqual(await chartCounts(page, 'grad_norm'), { grad_norm: countMetric(file, 'grad_norm') });
    assert.match(
      (await page.textContent('main')) ?? '',
      /anneal from step \d+/,
      'the pretrain → anneal boundary is listed',
    );

    // Against tokens: the same points, x = each line's token count.
    await page.check('input[name="x-axis"][value="tokens"]');
    await page.waitForFunction(() => {
      const Chart = (window as unknown as { Chart: { getChart(c: Element): ChartAxis | undefined } }).Chart;
      const canvas = document.getElementById('chart-loss');
      return canvas !== null && Chart.getChart(canvas)?.options.scales.x.title.text === 'tokens';
    });
    const xs = await page.evaluate(() => {
      const Chart = (window as unknown as { Chart: { getChart(c: Element): ChartData | undefined } }).Chart;
      return Chart.getChart(document.getElementById('chart-loss')!)!.data.datasets[0].data.map((p) => p.x);
    });
    const lossLines = jsonLines(file).filter((r) => typeof r.loss === 'number');
    assert.deepEqual(
      xs,
      lossLines.map((r) => r.tokens),
    );
    // The README screenshot: the pretraining run (pretrain → anneal) with the second anneal run overlaid.
    await open(page, `${base}/#/runs/${id}?compare=${await runId('anneal-2')}`, 'run');
    await page.evaluate(() => document.querySelector('#metric-problems')!.closest('section')!.scrollIntoView());
    await page.screenshot({ path: join(shots, 'dashboard-runs.png'), fullPage: false });
  });

  it('appends a line written to metrics.jsonl to the chart without a reload', async () => {
    const id = await runId('live');
    await open(page, `${base}/#/runs/${id}`, 'run');
    const file = join(extra.live, 'metrics.jsonl');
    const before = countMetric(file, 'loss');
    assert.equal((await chartCounts(page, 'loss'))?.loss, before);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const last = jsonLines(file).at(-1)!;
    const step = (last.step as number) + 1;
    appendFileSync(file, `${JSON.stringify({ step, stage: 'anneal', lr: 1e-4, loss: 5.5, tokens: step * 4096 })}\n`);
    await page.waitForFunction(
      ([n]) => {
        const Chart = (window as unknown as { Chart: { getChart(c: Element): ChartData | undefined } }).Chart;
        const chart = Chart.getChart(document.getElementById('chart-loss')!);
        return chart?.data.datasets.find((d) => d.label === 'loss')?.data.length === n;
      },
      [before + 1],
      { timeout: 5_000 },
    );
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'no reload');
  });

  it('shows a malformed run with its problems instead of breaking', async () => {
    await open(page, `${base}/#/runs/${await runId('broken')}`, 'run');
    const text = (await page.textContent('main')) ?? '';
    assert.match(text, /metrics\.jsonl:2/, 'the truncated line is named');
    assert.match(text, /No resolved config/);
    assert.equal((await chartCounts(page, 'loss'))?.loss, 2, 'the two good lines are drawn');
  });

  it('shows the eval table with the values of metrics.json, and the instance browser the exact request', async () => {
    const { evals } = await api<EvalsResponse>('/api/evals');
    const ev = evals.find((e) => e.path === 'evals/anneal')!;
    await open(page, `${base}/#/evals/${ev.id}`, 'eval');
    const metrics = JSON.parse(readFileSync(join(qs, 'evals', 'anneal', 'metrics.json'), 'utf8')) as {
      tasks: { alias: string; metrics: { primary_score: number } }[];
    };
    const shown = await page.$$eval('#eval-table tr[data-task]', (rows) =>
      rows.map((r) => [
        r.getAttribute('data-task'),
        Number(r.querySelector('td[data-value]')!.getAttribute('data-value')),
      ]),
    );
    assert.deepEqual(
      shown,
      metrics.tasks.map((t) => [t.alias, t.metrics.primary_score]),
    );

    const task = metrics.tasks[0].alias;
    await open(page, `${base}/#/evals/${ev.id}/instances?task=${encodeURIComponent(task)}`, 'instances');
    const firstDoc = await page.$eval('article.instance', (a) => Number(a.getAttribute('data-doc')));
    const request = jsonLines(join(qs, 'evals', 'anneal', 'task-000-synth_world-requests.jsonl')).find(
      (r) => r.doc_id === firstDoc,
    ) as { request: { context: string } };
    const pre = await page.$eval('article.instance pre.request-text', (p) => p.textContent);
    assert.equal(pre, request.request.context);

    // Only wrong answers, by keyboard: every instance shown is marked wrong; Next pages on.
    await page.focus('#wrong-only');
    await page.keyboard.press('Space');
    await page.waitForSelector('main[data-ready="instances"][data-hash*="wrong=1"]');
    const verdicts = await page.$$eval('article.instance header .pill', (ps) => ps.map((p) => p.textContent));
    assert.ok(verdicts.length > 0 && verdicts.every((v) => v === 'wrong'), `verdicts: ${verdicts}`);
    const range = () => page.textContent('[data-range]');
    assert.match((await range()) ?? '', /^\s*1–10 of \d+/);
    await page.click('text=Next →');
    await page.waitForSelector('main[data-ready="instances"][data-hash*="offset=10"]');
    assert.match((await range()) ?? '', /^\s*11–\d+ of \d+/);

    await open(page, `${base}/#/evals`, 'evals');
    await page.screenshot({ path: join(shots, 'dashboard-evals.png'), fullPage: false });
  });

  it('compares two evaluations with fixed/broken as the API counts them', async () => {
    const { evals } = await api<EvalsResponse>('/api/evals');
    const [a, b] = ['evals/base', 'evals/anneal'].map((p) => evals.find((e) => e.path === p)!.id);
    await open(page, `${base}/#/evals`, 'evals');
    await page.check(`tr[data-eval="${a}"] input[type=checkbox]`);
    await page.check(`tr[data-eval="${b}"] input[type=checkbox]`);
    await page.click('#compare-evals');
    await page.waitForSelector('main[data-ready="compare"]');
    const cmp = await api<CompareResponse>(`/api/compare?ids=${a},${b}`);
    const cells = await page.$$eval('#compare-table td[data-pair]', (tds) => tds.map((td) => td.textContent ?? ''));
    assert.equal(cells.length, cmp.tasks.length);
    cmp.tasks.forEach((t, i) =>
      assert.ok(cells[i].startsWith(`+${t.pairs[0].fixed} / −${t.pairs[0].broken}`), cells[i]),
    );
  });

  it('lists the models and opens a quickstart folder on its report', async () => {
    await open(page, `${base}/#/models`, 'models');
    const { models } = await api<ModelsResponse>('/api/models');
    assert.equal(await page.locator('#models-table tbody tr').count(), models.length);
    const { quickstarts } = await api<QuickstartsResponse>('/api/quickstarts');
    await open(page, `${base}/#/quickstarts/${quickstarts[0].id}`, 'quickstart');
    const frame = page.frameLocator('iframe.report');
    await frame.locator('#eval-table').waitFor({ timeout: 15_000 });
  });

  it('streams a chat reply token by token from a loopback olmo serve', async () => {
    await open(page, `${base}/#/chat`, 'chat');
    await page.fill('#chat-max-tokens', '12');
    await page.fill('#chat-temperature', '0');
    await page.fill('#chat-input', 'What is the capital of Oranth?');
    // Each DOM update of the reply while it streams is counted, before the reply is marked done.
    await page.evaluate(() => {
      const log = document.getElementById('chat-log')!;
      const w = window as unknown as { updates: number[] };
      w.updates = [];
      new MutationObserver(() => {
        const reply = log.querySelector('.reply');
        if (reply?.hasAttribute('data-streaming')) w.updates.push(reply.querySelectorAll('.tok').length);
      }).observe(log, { childList: true, subtree: true, attributes: true });
    });
    // The fixture model answers 12 tokens in a few milliseconds, and the browser may read the whole stream at once;
    // a throttled download (DevTools' network emulation) makes the chunks arrive over a couple of seconds, so the
    // page's token-by-token rendering is observable every time rather than by luck.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const throttle = (bytesPerSecond: number) =>
      cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: bytesPerSecond,
        uploadThroughput: -1,
      });
    await throttle(2048);
    try {
      await page.press('#chat-input', 'Enter');
      await page.waitForSelector('.reply[data-done]', { timeout: 30_000 });
    } finally {
      await throttle(-1);
      await cdp.detach();
    }
    const updates = await page.evaluate(() => (window as unknown as { updates: number[] }).updates);
    const tokens = await page.$$eval('.reply .tok', (ts) => ts.map((t) => Number(t.getAttribute('data-logprob'))));
    assert.ok(tokens.length >= 3, `${tokens.length} tokens`);
    assert.ok(
      tokens.every((lp) => Number.isFinite(lp) && lp <= 0),
      'every token carries its log-prob',
    );
    assert.ok(new Set(updates.filter((n) => n > 0)).size >= 3, `several DOM updates before completion: ${updates}`);
    // Keyboard: Shift+Tab from the message box lands on the reply's last token, which tells its log-prob.
    await page.focus('#chat-input');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('tok')), true);
    assert.match((await page.textContent('#token-info')) ?? '', /log-prob -?\d/);
  });

  it("chats with the quickstart's own model (the README screenshot)", async () => {
    const model = join(qs, 'sft', 'final');
    const own = await serve({
      model: loadModel(model, { trainable: false }),
      tokenizer: loadTokenizer(model),
      servedModelName: 'quickstart-sft',
    });
    const second = await startDashboard({
      roots: [qs],
      port: 0,
      assetsDir: join(dir, 'assets'),
      chat: { openai: `${own.url}/v1` },
      log: () => {},
    });
    origins.push(second.url);
    try {
      await open(page, `${second.url}/#/chat`, 'chat');
      await page.fill('#chat-max-tokens', '40');
      await page.fill('#chat-temperature', '0.8');
      await page.fill('#chat-seed', '7');
      await page.fill('#chat-input', 'Adam has 8 jars with 3 shells in each. How many shells does Adam have in total?');
      await page.press('#chat-input', 'Enter');
      await page.waitForSelector('.reply[data-done]', { timeout: 30_000 });
      assert.ok((await page.locator('.reply .tok').count()) > 0);
      await page.focus('.reply .tok >> nth=1');
      await page.screenshot({ path: join(shots, 'dashboard-chat.png'), fullPage: false });
    } finally {
      await second.close();
      await own.close();
    }
  });

  it('made no request outside the loopback origin and logged no error', () => {
    assert.deepEqual(
      requests.filter((u) => !local(u)),
      [],
    );
    assert.ok(
      requests.some((u) => u.includes('/api/runs/')),
      'the record saw the API calls',
    );
    assert.deepEqual(errors, []);
  });

  it('refuses path traversal through the page URL', async () => {
    const qsId = (await api<{ quickstarts: { id: string }[] }>('/api/quickstarts')).quickstarts[0].id;
    for (const path of [
      `/files/${qsId}/..%2f..%2f..%2f..%2fetc%2fpasswd`,
      `/files/${qsId}/%2e%2e/%2e%2e/%2e%2e/etc/passwd`,
      `/assets/..%2f..%2fpackage.json`,
    ]) {
      const res = await page.goto(`${base}${path}`);
      assert.ok(res && [400, 403, 404].includes(res.status()), `${path}: HTTP ${res?.status()}`);
      assert.doesNotMatch((await page.content()) ?? '', /root:x:0:0|"name": "olmo-ts"/);
    }
    await page.goto(`${base}/#/runs/${Buffer.from('0:../..').toString('base64url')}`);
    await page.waitForSelector('main .error', { timeout: 10_000 });
    assert.match((await page.textContent('main .error')) ?? '', /HTTP 4\d\d/);
  });

  it('took the three screenshots', () => {
    for (const name of SHOTS) {
      const png = readFileSync(join(shots, name));
      assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${name} is a PNG`);
      assert.ok(png.length > 20_000, `${name} is ${png.length} bytes`);
    }
  });
});
