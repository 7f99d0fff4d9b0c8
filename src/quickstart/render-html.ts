// The quickstart report as one self-contained HTML file (report.html): inline CSS, Chart.js inlined from the
// installed package, the report data embedded as JSON. It opens from disk with no network, and a Content Security
// Policy forbids every fetch, so a stray URL could never make it phone home. Tables are rendered here, not in the
// browser, with the same formatters as report.md, so the two files show identical strings.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ReportData } from './report-data.ts';
import { formatCount, formatDate, formatDuration, formatValue, MISSING, pairedSentence } from './render-markdown.ts';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Makes JavaScript source safe inside a <script> element: `</script` would end the element and `<!--` can change
 * how the HTML parser finds its end. `<\/` and `\x3C` mean the same inside strings, templates and regexes (the
 * only places a bundle has them), and a comment does not care.
 */
export function escapeInlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '\\x3C!--');
}

/** JSON for a <script type="application/json"> element: `<` as \u003c, so no tag can start inside it. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

let chartJsCache: string | undefined;

/**
 * The Chart.js v4 UMD bundle from the installed package. Its "exports" map does not expose dist/chart.umd*.js,
 * so the package's main entry is resolved (dist/chart.cjs) and the bundle read from the same folder.
 */
export function chartJsBundle(): string {
  if (chartJsCache !== undefined) return chartJsCache;
  const dist = dirname(createRequire(import.meta.url).resolve('chart.js'));
  const file = ['chart.umd.min.js', 'chart.umd.js'].map((f) => join(dist, f)).find((f) => existsSync(f));
  if (file === undefined) {
    throw new Error(
      `Chart.js UMD bundle not found in ${dist}: reinstall the package (npm install) so chart.js v4 is present`,
    );
  }
  chartJsCache = readFileSync(file, 'utf8');
  return chartJsCache;
}

const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const CSS = `
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 32px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
.meta { color: var(--muted); margin: 0 0 16px; }
.facts { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; margin: 0; }
.facts div { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.facts .wide { grid-column: 1 / -1; }
.facts dt { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.facts dd { margin: 0; font-weight: 600; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 12px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--soft); border-bottom: 2px solid var(--line); white-space: nowrap; }
tbody tr:nth-child(even) { background: #fbfcfd; }
th[scope=row] { font-weight: 600; }
.num { text-align: right; white-space: nowrap; }
.best { font-weight: 700; color: var(--accent); }
.missing { color: #9aa4ae; }
#eval-table thead th[title] { cursor: help; text-decoration: underline dotted #9aa4ae; text-underline-offset: 3px; }
ul.notes { color: var(--muted); margin: 12px 0 0; padding-left: 20px; }
ul.notes li { margin: 2px 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 12px; break-inside: avoid; }
.chart-box { position: relative; height: 340px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; overflow-x: auto; font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre .comment { color: var(--muted); }
footer { margin-top: 36px; color: var(--muted); font-size: 13px; }
@media (max-width: 640px) { .facts { grid-template-columns: repeat(2, 1fr); } }
@media print { main { max-width: none; padding: 0; } .charts { grid-template-columns: 1fr; } }
`;

// Runs in the browser: draws one line chart per data.charts entry (x = tokens seen). Plain ES2017 in a string,
// not a compiled function, so no build step can rewrite it. animation:false makes the first frame the final one.
const CHART_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
  function compact(n) {
    var a = Math.abs(n);
    if (a >= 1e9) return +(n / 1e9).toFixed(2) + 'B';
    if (a >= 1e6) return +(n / 1e6).toFixed(2) + 'M';
    if (a >= 1e3) return +(n / 1e3).toFixed(1) + 'k';
    return String(n);
  }
  function grouped(n) { return String(n).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ','); }
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = '#1f2328';
  data.charts.forEach(function (chart) {
    var canvas = document.getElementById('chart-' + chart.id);
    if (!canvas) return;
    new Chart(canvas, {
      type: 'line',
      data: {
        datasets: chart.series.map(function (s, i) {
          var color = palette[i % palette.length];
          return {
            label: s.name,
            data: s.points.map(function (p) { return { x: p.tokens, y: p.value, step: p.step }; }),
            borderColor: color,
            backgroundColor: color,
            borderWidth: 2,
            pointRadius: s.points.length > 30 ? 0 : 2.5,
            pointHoverRadius: 4,
            tension: 0,
          };
        }),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', intersect: false },
        plugins: {
          title: { display: true, text: chart.title, font: { size: 15, weight: '600' } },
          legend: { position: 'bottom', labels: { boxWidth: 14, boxHeight: 2 } },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? grouped(items[0].parsed.x) + ' tokens' : ''; },
              label: function (item) { return item.dataset.label + ': ' + item.parsed.y.toFixed(4) + ' (step ' + item.raw.step + ')'; },
            },
          },
        },
        scales: {
          x: { type: 'linear', title: { display: true, text: chart.xLabel }, ticks: { callback: compact, maxTicksLimit: 8 } },
          y: { title: { display: true, text: chart.yLabel }, grid: { color: '#eef1f4' } },
        },
      },
    });
  });
  document.documentElement.setAttribute('data-charts-drawn', String(data.charts.length));
})();
`;

function evalTable(data: ReportData): string {
  // The best value per column is emphasised (only styling: the cell text stays the formatValue string).
  const best = new Map<string, number>();
  for (const c of data.columns) {
    const vals = data.rows
      .map((r) => r.values[c.key])
      .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (vals.length >= 2) best.set(c.key, c.lowerIsBetter ? Math.min(...vals) : Math.max(...vals));
  }
  const head = [
    '<th scope="col">stage</th>',
    ...data.columns.map(
      (c) => `<th scope="col" class="num" title="${escapeHtml(c.description)}">${escapeHtml(c.label)}</th>`,
    ),
  ];
  const body = data.rows.map((r) => {
    const cells = data.columns.map((c) => {
      const v = r.values[c.key];
      const text = formatValue(c, v);
      const cls = [
        'num',
        text === MISSING ? 'missing' : '',
        v !== null && v !== undefined && best.get(c.key) === v ? 'best' : '',
      ].filter(Boolean);
      return `<td class="${cls.join(' ')}">${escapeHtml(text)}</td>`;
    });
    return `<tr><th scope="row">${escapeHtml(r.stage)}</th>${cells.join('')}</tr>`;
  });
  return `<div class="table-wrap"><table id="eval-table"><thead><tr>${head.join('')}</tr></thead><tbody>\n${body.join('\n')}\n</tbody></table></div>`;
}

function evalNotes(data: ReportData): string {
  const items = [
    ...data.columns.map(
      (c) =>
        `<li><strong>${escapeHtml(c.label)}</strong>: ${escapeHtml(c.description)}${c.lowerIsBetter ? ' Lower is better.' : ''}</li>`,
    ),
    ...data.paired.map((p) => `<li class="paired">${escapeHtml(pairedSentence(p))}</li>`),
    ...data.notes.map((n) => `<li>${escapeHtml(n)}</li>`),
  ];
  if (data.columns.length > 0) items.push('<li>The best value in each column is highlighted.</li>');
  return items.length > 0 ? `<ul class="notes">${items.join('')}</ul>` : '';
}

function stagesTable(data: ReportData): string {
  const rows = data.stages.map(
    (s) =>
      `<tr><th scope="row">${escapeHtml(s.name)}</th><td class="num">${escapeHtml(formatDuration(s.seconds))}</td>` +
      `<td>${escapeHtml(s.summary)}</td><td><code>${escapeHtml(s.output)}</code></td></tr>`,
  );
  return (
    `<div class="table-wrap"><table id="stages-table"><thead><tr><th scope="col">stage</th><th scope="col" class="num">time</th>` +
    `<th scope="col">summary</th><th scope="col">output</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`
  );
}

function chartFigures(data: ReportData): string {
  if (data.charts.length === 0) return '<p>No curves were recorded.</p>';
  const figures = data.charts.map(
    (c) =>
      `<figure class="chart"><div class="chart-box"><canvas id="chart-${escapeHtml(c.id)}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div></figure>`,
  );
  return `<div class="charts">${figures.join('')}</div><noscript><p>The charts need JavaScript; report.md has the curves as tables.</p></noscript>`;
}

function reproduceBlock(data: ReportData): string {
  const parts = data.stages.map(
    (s) => `<span class="comment"># ${escapeHtml(s.name)}</span>\n${escapeHtml(s.command)}`,
  );
  return `<p>Run from the run folder; each command reads the previous stage's output.</p><pre id="reproduce"><code>${parts.join('\n\n')}</code></pre>`;
}

function facts(data: ReportData): string {
  const fact = (label: string, value: string, wide = false) =>
    `<div${wide ? ' class="wide"' : ''}><dt>${label}</dt><dd>${escapeHtml(value)}</dd></div>`;
  return `<dl class="facts">${[
    fact('model', data.model, true),
    fact('size', data.size),
    fact('seed', String(data.seed)),
    fact('total time', formatDuration(data.totalSeconds)),
    fact('stages', formatCount(data.stages.length)),
    fact('machine', data.machine, true),
  ].join('')}</dl>`;
}

export function renderHtml(data: ReportData): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="generator" content="${escapeHtml(data.generator)}">
<title>${escapeHtml(data.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(data.title)}</h1>
<p class="meta">Generated by ${escapeHtml(data.generator)} on ${escapeHtml(formatDate(data.date))}</p>
${facts(data)}
</header>
<section id="evaluation">
<h2>Evaluation after each stage</h2>
${evalTable(data)}
${evalNotes(data)}
</section>
<section id="stages">
<h2>Stages</h2>
${stagesTable(data)}
</section>
<section id="curves">
<h2>Loss curves</h2>
${chartFigures(data)}
</section>
<section id="reproduce-by-hand">
<h2>Reproduce by hand</h2>
${reproduceBlock(data)}
</section>
<footer>This page is self-contained: it loads nothing from the network. The same numbers are in report.md and report.json.</footer>
</main>
<script type="application/json" id="report-data">${embedJson(data)}</script>
<script>${escapeInlineScript(chartJsBundle())}</script>
<script>${CHART_SCRIPT}</script>
</body>
</html>
`;
}
