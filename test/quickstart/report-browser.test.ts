// report.html in a real browser: Debian's Chromium (never a downloaded one) opens the file from disk with every
// non-file request blocked, draws every chart (canvases not blank), shows the evaluation table with the same cells
// as report.md, logs no errors, and gives a sensible screenshot. Skipped, with a message, where Chromium is absent.
// OLMO_CHROMIUM overrides the browser path; OLMO_REPORT_SCREENSHOT=FILE keeps a copy of the screenshot.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../chromium.ts';
import { parseMarkdownTable } from '../../src/quickstart/render-markdown.ts';
import { writeReport } from '../../src/quickstart/write-report.ts';
import { reportFixture } from './report-fixture.ts';

test(
  'report.html in Chromium: charts drawn, table as in report.md, no network, no errors',
  { timeout: 60_000 },
  async (t) => {
    if (!existsSync(CHROMIUM)) {
      t.skip(`Chromium not found at ${CHROMIUM}: apt-get install chromium to run the report browser test`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'olmo-report-browser-'));
    // A fresh profile per run, so nothing cached or configured from an earlier session takes part.
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1280, height: 900 },
    });
    try {
      const data = reportFixture();
      const runDir = join(dir, 'run');
      const { markdown } = writeReport(runDir, data);

      const blocked: string[] = [];
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        blocked.push(url);
        return route.abort();
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));

      await page.goto(pathToFileURL(join(runDir, 'report.html')).href, { waitUntil: 'load', timeout: 15_000 });
      await page.waitForFunction(
        (n) => document.documentElement.getAttribute('data-charts-drawn') === String(n),
        data.charts.length,
        { timeout: 10_000 },
      );

      for (const chart of data.charts) {
        // A drawn chart has thousands of painted pixels (lines, axes, labels); a blank canvas has none.
        const painted = await page.waitForFunction(
          (id) => {
            const canvas = document.getElementById(`chart-${id}`) as HTMLCanvasElement | null;
            if (!canvas || canvas.width === 0 || canvas.height === 0) return false;
            const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
            let n = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) n++;
            return n > 2000 ? n : false;
          },
          chart.id,
          { timeout: 10_000 },
        );
        assert.ok(((await painted.jsonValue()) as number) > 2000, `chart ${chart.id} is drawn`);
        const datasets = await page.evaluate((id) => {
          const chartJs = (
            window as unknown as {
              Chart: { getChart(c: Element): { data: { datasets: { label: string }[] } } | undefined };
            }
          ).Chart;
          return chartJs.getChart(document.getElementById(`chart-${id}`)!)?.data.datasets.map((d) => d.label);
        }, chart.id);
        assert.deepEqual(
          datasets,
          chart.series.map((s) => s.name),
          `chart ${chart.id} has one dataset per series`,
        );
      }

      const cells = await page.$$eval('#eval-table tr', (rows) =>
        rows.map((r) => [...r.querySelectorAll('th, td')].map((c) => (c.textContent ?? '').trim())),
      );
      assert.deepEqual(cells, parseMarkdownTable(markdown, 'Evaluation after each stage'));

      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = readFileSync(shot);
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
      assert.ok(png.length > 20_000, `screenshot is ${png.length} bytes`);
      if (process.env.OLMO_REPORT_SCREENSHOT) copyFileSync(shot, process.env.OLMO_REPORT_SCREENSHOT);

      assert.deepEqual(blocked, [], 'the page requested nothing outside the file');
      assert.deepEqual(errors, [], 'no console errors');
    } finally {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
