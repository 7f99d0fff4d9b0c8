// The quickstart report renderers: value formats, the markdown tables (and reading them back), the HTML table
// showing the very same strings, the embedded data round trip, escaping of stage text, no network URLs in the
// self-contained page, and the atomic writer. The in-browser check (charts drawn) is report-browser.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { EvalColumn } from '../../src/quickstart/report-data.ts';
import { embedJson, escapeHtml, escapeInlineScript, renderHtml } from '../../src/quickstart/render-html.ts';
import {
  CURVE_TABLE_POINTS,
  formatCount,
  formatDate,
  formatDuration,
  formatValue,
  parseMarkdownTable,
  renderMarkdown,
  samplePoints,
} from '../../src/quickstart/render-markdown.ts';
import { writeReport } from '../../src/quickstart/write-report.ts';
import { XSS_SUMMARY, reportFixture } from './report-fixture.ts';

const percent: EvalColumn = { key: 'p', label: 'p', description: '', format: 'percent' };
const nats: EvalColumn = { key: 'n', label: 'n', description: '', format: 'nats', lowerIsBetter: true };

function unescapeHtml(s: string): string {
  return s.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!,
  );
}

/** The cells' text of the HTML table with `id`, row by row (header row first), tags stripped. */
function htmlTable(html: string, id: string): string[][] {
  const table = html.match(new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`))?.[1];
  assert.ok(table, `no table #${id} in the HTML`);
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) =>
      unescapeHtml(c[1].replace(/<[^>]*>/g, '')).trim(),
    ),
  );
}

/** The page with the inlined Chart.js bundle cut out (its license comment names its home page). */
function withoutChartJs(html: string): string {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
  const bundle = scripts.find((m) => m[1].includes('Chart.js v4'));
  assert.ok(bundle, 'the Chart.js bundle is inlined');
  return html.replace(bundle[0], '<script></script>');
}

test('formatValue: percent with one decimal, nats with three, a dash for a missing value', () => {
  assert.equal(formatValue(percent, 0.1234), '12.3%');
  assert.equal(formatValue(percent, 1), '100.0%');
  assert.equal(formatValue(percent, 0), '0.0%');
  assert.equal(formatValue(nats, 1.23456), '1.235');
  assert.equal(formatValue(nats, null), '—');
  assert.equal(formatValue(percent, undefined), '—');
  assert.equal(formatValue(nats, Number.NaN), '—');
});

test('formatDuration, formatCount and formatDate', () => {
  assert.equal(formatDuration(754), '12 min 34 s');
  assert.equal(formatDuration(754.4), '12 min 34 s');
  assert.equal(formatDuration(42), '42 s');
  assert.equal(formatDuration(2.34), '2.3 s');
  assert.equal(formatDuration(59.6), '1 min 0 s');
  assert.equal(formatDuration(3725), '1 h 2 min 5 s');
  assert.equal(formatCount(1638400), '1,638,400');
  assert.equal(formatDate('2025-06-01T12:34:56.000Z'), '2025-06-01 12:34 UTC');
  assert.equal(formatDate('2025-06-01T14:34:56+02:00'), '2025-06-01 12:34 UTC');
  assert.equal(formatDate('2025-06-01T12:34:56'), '2025-06-01 12:34');
  assert.equal(formatDate('2025-06-01'), '2025-06-01');
  assert.equal(formatCount(512), '512');
});

test('samplePoints keeps at most 12 evenly spaced points plus the last', () => {
  const points = Array.from({ length: 50 }, (_, i) => ({ step: i + 1, tokens: (i + 1) * 10, value: 1 / (i + 1) }));
  const s = samplePoints(points);
  assert.ok(s.length <= CURVE_TABLE_POINTS + 1);
  assert.deepEqual(s[0], points[0]);
  assert.deepEqual(s.at(-1), points.at(-1));
  assert.deepEqual(samplePoints(points.slice(0, 5)), points.slice(0, 5));
  for (let i = 1; i < s.length; i++) assert.ok(s[i].step > s[i - 1].step);
});

test('markdown: header line, evaluation table with formatValue strings and dashes, descriptions and notes', () => {
  const data = reportFixture();
  const md = renderMarkdown(data);
  assert.ok(md.startsWith('# OLMo 2 quickstart report\n'));
  const meta = md.split('\n')[2];
  for (const part of [
    'olmo-ts 0.1.0 (git 09c53c4)',
    'on 2025-06-01 12:34 UTC',
    'seed 1234',
    'size tiny',
    'AMD EPYC 7B13, 2 threads',
    '3.6M parameters',
    'total time 31 min 14 s',
  ]) {
    assert.ok(meta.includes(part), `meta line lacks ${part}: ${meta}`);
  }
  const table = parseMarkdownTable(md, 'Evaluation after each stage');
  assert.deepEqual(table[0], [
    'stage',
    'val loss',
    'world RC',
    'world MC',
    'arith EM',
    'pref acc',
    'verified',
    'chat RC',
  ]);
  assert.equal(table.length, 1 + data.rows.length);
  data.rows.forEach((row, i) => {
    assert.deepEqual(table[i + 1], [row.stage, ...data.columns.map((c) => formatValue(c, row.values[c.key]))]);
  });
  assert.deepEqual(table[1], ['base', '1.135', '41.5%', '25.0%', '3.0%', '—', '—', '—']);
  assert.equal(table[5][5], '81.3%');
  assert.match(
    md,
    /^- \*\*val loss\*\*: Cross-entropy per token on the held-out synthetic corpus\. Lower is better\.$/m,
  );
  assert.match(md, /^- Chance is 25% on world MC \(4 options\) and 0% on arith EM\.$/m);
  assert.match(
    md,
    /^- verified, dpo → rlvr, on the same 1,200 held-out items: 14\.0% → 31\.3%; 41 fixed, 21 broken \(exact sign test p = 0\.015\)\.$/m,
  );
  // Numeric columns are right-aligned.
  assert.match(md, /^\| --- \| ---: \| ---: \|/m);
});

test('markdown: stages table round-trips text with pipes and markup; curves as tables; reproduce block', () => {
  const data = reportFixture();
  const md = renderMarkdown(data);
  const stages = parseMarkdownTable(md, 'Stages');
  assert.deepEqual(stages, [
    ['stage', 'time', 'summary'],
    ...data.stages.map((s) => [s.name, formatDuration(s.seconds), s.summary]),
  ]);
  assert.equal(stages[6][2], XSS_SUMMARY);
  // Raw HTML in a summary cannot become markup when report.md is rendered (GitHub, editors).
  assert.doesNotMatch(md, /(^|[^\\])<script/);

  const curves = parseMarkdownTable(md, 'Loss curves');
  assert.deepEqual(curves[0], ['series', 'step', 'tokens', 'value']);
  for (const series of data.charts[0].series) {
    const rows = curves.filter((r) => r[0] === series.name);
    assert.ok(rows.length > 1 && rows.length <= CURVE_TABLE_POINTS + 1, `${series.name}: ${rows.length} rows`);
    const last = series.points.at(-1)!;
    assert.deepEqual(rows.at(-1), [series.name, String(last.step), formatCount(last.tokens), last.value.toFixed(4)]);
  }
  assert.match(md, /^### Post-training loss$/m);
  assert.match(md, /^\| sft loss \| 150 \|/m);

  const block = md.slice(md.indexOf('## Reproduce by hand'));
  const sh = block.match(/```sh\n([\s\S]*?)\n```/)?.[1];
  assert.ok(sh, 'a fenced sh block');
  const lines = sh.split('\n').filter((l) => l !== '');
  assert.deepEqual(
    lines,
    data.stages.flatMap((s) => [`# ${s.name}`, s.command]),
  );
  assert.ok(md.endsWith('```\n'));
});

test('parseMarkdownTable: unescapes cells and names a missing heading', () => {
  const md = '# t\n\n## A\n\ntext\n\n| x | y |\n| --- | ---: |\n| a \\| b | \\<c\\> \\\\ d |\n\n## B\n\nno table\n';
  assert.deepEqual(parseMarkdownTable(md, 'A'), [
    ['x', 'y'],
    ['a | b', '<c> \\ d'],
  ]);
  assert.throws(() => parseMarkdownTable(md, 'C'), /no "## C" heading/);
  assert.throws(() => parseMarkdownTable(md, 'B'), /no table under "## B"/);
});

test('html: the evaluation table shows exactly the markdown strings', () => {
  const data = reportFixture();
  const html = renderHtml(data);
  const md = renderMarkdown(data);
  assert.deepEqual(htmlTable(html, 'eval-table'), parseMarkdownTable(md, 'Evaluation after each stage'));
  const stages = htmlTable(html, 'stages-table');
  assert.deepEqual(
    stages.map((r) => r.slice(0, 3)),
    parseMarkdownTable(md, 'Stages'),
  );
  // One canvas per chart, named after its id.
  for (const chart of data.charts) assert.ok(html.includes(`<canvas id="chart-${chart.id}"`));
  // Each stage's command, under its name, in the reproduce block.
  const pre = unescapeHtml(
    html.match(/<pre id="reproduce"><code>([\s\S]*?)<\/code><\/pre>/)![1].replace(/<[^>]*>/g, ''),
  );
  assert.deepEqual(
    pre.split('\n').filter((l) => l !== ''),
    data.stages.flatMap((s) => [`# ${s.name}`, s.command]),
  );
});

test('html: the embedded data parses back to the same object', () => {
  const data = reportFixture();
  data.notes.push('a </script><!-- tricky note & <b>');
  const html = renderHtml(data);
  const json = html.match(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/)?.[1];
  assert.ok(json);
  assert.ok(!json.includes('<'));
  assert.deepEqual(JSON.parse(json), data);
  assert.equal(embedJson({ s: '</script>' }), '{"s":"\\u003c/script>"}');
});

test('html: stage text is escaped', () => {
  const html = renderHtml(reportFixture());
  assert.ok(
    html.includes('reward 0.21 → 0.48 in 60 steps &amp; &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; | kept'),
  );
  assert.ok(!html.includes('<script>alert'));
  assert.equal(escapeHtml(`<a href="x">&'`), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  // Exactly three script elements: the data, Chart.js and the drawing script; none loads a file.
  assert.equal(html.match(/<script\b/g)?.length, 3);
  assert.equal(html.match(/<\/script/gi)?.length, 3);
  assert.equal(escapeInlineScript('a="</script>";b="<!--"'), 'a="<\\/script>";b="\\x3C!--"');
});

test('html: self-contained, with no network URLs', () => {
  const html = renderHtml(reportFixture());
  for (const m of html.matchAll(/\b(src|href|action|poster|data)\s*=\s*["']?([^"'\s>]*)/gi)) {
    assert.ok(!/^(https?:|\/\/|ftp:|ws)/i.test(m[2]), `${m[1]}= points to the network: ${m[2]}`);
  }
  assert.ok(!/<(link|img|iframe|object|embed|base)\b/i.test(html), 'no element that loads a resource');
  assert.ok(!/<script[^>]*\bsrc=/i.test(html));
  assert.ok(!/@import|url\(/i.test(html.match(/<style>([\s\S]*?)<\/style>/)![1]));
  // Outside the inlined Chart.js (whose license comment names its home page), no URL at all.
  assert.doesNotMatch(withoutChartJs(html), /https?:\/\//i);
  // The Content Security Policy forbids any fetch, should a URL ever slip in.
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
});

test('writeReport writes report.md, report.html and report.json atomically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'olmo-report-'));
  try {
    const data = reportFixture();
    const runDir = join(dir, 'run');
    const { markdown, html } = writeReport(runDir, data);
    assert.equal(readFileSync(join(runDir, 'report.md'), 'utf8'), markdown);
    assert.equal(readFileSync(join(runDir, 'report.html'), 'utf8'), html);
    assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')), data);
    assert.deepEqual(readdirSync(runDir).sort(), ['report.html', 'report.json', 'report.md']);
    // Writing again replaces the files (a resumed run rewrites its report).
    writeReport(runDir, { ...data, title: 'again' });
    assert.ok(readFileSync(join(runDir, 'report.md'), 'utf8').startsWith('# again\n'));
    assert.deepEqual(readdirSync(runDir).sort(), ['report.html', 'report.json', 'report.md']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
