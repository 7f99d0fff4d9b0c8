// The quickstart report as markdown (report.md). It must stand on its own: a reader with only this file (no
// browser, no charts) still gets every number, so the loss curves are also given as compact tables. The value
// formatters live here and are shared with render-html.ts, so both files show exactly the same strings.
import type { CurvePoint, EvalColumn, PairedRow, ReportChart, ReportData } from './report-data.ts';

/** Shown for a stage that was not measured on a column. */
export const MISSING = '—';

/** How many evenly spaced points of each series the markdown curve tables keep (the last point is always added). */
export const CURVE_TABLE_POINTS = 12;

/** The string shown for `value` in `column`, in both report.md and report.html: "12.3%", "1.234" or "—". */
export function formatValue(column: EvalColumn, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  return column.format === 'percent' ? `${(value * 100).toFixed(1)}%` : value.toFixed(3);
}

/** Wall-clock seconds as "4.2 s", "34 s", "12 min 34 s" or "1 h 2 min 5 s". */
/** One sentence on a paired comparison, e.g. "verified, dpo → rlvr, on the same 600 items: 39.7% → 43.0%; …". */
export function pairedSentence(p: PairedRow): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const pValue = p.pValue < 0.001 ? '< 0.001' : `= ${p.pValue.toFixed(3)}`;
  return `${p.label}, ${p.from} → ${p.to}, on the same ${p.n.toLocaleString('en-US')} held-out items: ${pct(p.before)} → ${pct(p.after)}; ${p.fixed} fixed, ${p.broken} broken (exact sign test p ${pValue}).`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return MISSING;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h} h ${m} min ${s} s`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}

/**
 * An ISO timestamp as "2025-06-01 12:34 UTC" (minutes are enough for a report); a plain date, or anything that
 * is not an ISO timestamp, is shown as given.
 */
export function formatDate(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso);
  if (m === null || Number.isNaN(Date.parse(iso))) return iso;
  if (m[5] === undefined) return `${m[1]} ${m[2]}`;
  const utc = new Date(iso).toISOString();
  return `${utc.slice(0, 10)} ${utc.slice(11, 16)} UTC`;
}

/** An integer with thousands separators ("1,234,567"), independent of the machine's locale. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return MISSING;
  const [int, frac] = String(Math.abs(n)).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 ? '-' : ''}${grouped}${frac === undefined ? '' : `.${frac}`}`;
}

/** A curve value with 4 decimals, as in the markdown curve tables and the HTML chart tooltips. */
export function formatCurveValue(value: number): string {
  return Number.isFinite(value) ? value.toFixed(4) : MISSING;
}

/**
 * At most `max` evenly spaced points, always including the first and the last, so a table of a long curve
 * still shows its start, its shape and where it ended.
 */
export function samplePoints(points: readonly CurvePoint[], max = CURVE_TABLE_POINTS): CurvePoint[] {
  if (points.length <= max + 1) return [...points];
  const picked = new Set<number>();
  for (let i = 0; i < max; i++) picked.add(Math.floor((i * (points.length - 1)) / max));
  picked.add(points.length - 1);
  return [...picked].sort((a, b) => a - b).map((i) => points[i]);
}

/**
 * Escapes text for a markdown line or table cell: backslash-escapes the characters that would start markup we
 * never mean (raw HTML `<`, emphasis `*`, code, links, table pipes); newlines become spaces so a cell stays on
 * its row. parseMarkdownTable undoes it.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*<[\]|]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

function tableLines(header: string[], rows: string[][], rightAligned: boolean[]): string[] {
  const line = (cells: string[]) => `| ${cells.map(escapeMarkdown).join(' | ')} |`;
  const rule = `| ${header.map((_, i) => (rightAligned[i] ? '---:' : '---')).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)];
}

function evaluationSection(data: ReportData): string[] {
  const header = ['stage', ...data.columns.map((c) => c.label)];
  const rows = data.rows.map((r) => [r.stage, ...data.columns.map((c) => formatValue(c, r.values[c.key]))]);
  const out = [
    '## Evaluation after each stage',
    '',
    ...tableLines(
      header,
      rows,
      header.map((_, i) => i > 0),
    ),
    '',
  ];
  const bullets = [
    ...data.columns.map(
      (c) =>
        `**${escapeMarkdown(c.label)}**: ${escapeMarkdown(c.description)}${c.lowerIsBetter ? ' Lower is better.' : ''}`,
    ),
    ...data.paired.map((p) => escapeMarkdown(pairedSentence(p))),
    ...data.notes.map(escapeMarkdown),
  ];
  if (bullets.length > 0) out.push(...bullets.map((b) => `- ${b}`), '');
  return out;
}

function stagesSection(data: ReportData): string[] {
  const rows = data.stages.map((s) => [s.name, formatDuration(s.seconds), s.summary]);
  return ['## Stages', '', ...tableLines(['stage', 'time', 'summary'], rows, [false, true, false]), ''];
}

function chartSection(chart: ReportChart): string[] {
  const rows: string[][] = [];
  for (const series of chart.series) {
    for (const p of samplePoints(series.points)) {
      rows.push([series.name, String(p.step), formatCount(p.tokens), formatCurveValue(p.value)]);
    }
  }
  return [
    `### ${escapeMarkdown(chart.title)}`,
    '',
    `${escapeMarkdown(chart.yLabel)} against ${escapeMarkdown(chart.xLabel)}; up to ${CURVE_TABLE_POINTS} evenly spaced points per series, and the last.`,
    '',
    ...tableLines(['series', 'step', 'tokens', 'value'], rows, [false, true, true, true]),
    '',
  ];
}

function reproduceSection(data: ReportData): string[] {
  const body = data.stages.flatMap((s, i) => [...(i > 0 ? [''] : []), `# ${s.name.replace(/\r?\n/g, ' ')}`, s.command]);
  // A fence longer than any run of backticks in the commands, so a command can never close it early.
  const longestRun = Math.max(
    0,
    ...(body
      .join('\n')
      .match(/`+/g)
      ?.map((r) => r.length) ?? []),
  );
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return [
    '## Reproduce by hand',
    '',
    "Run from the run folder; each command reads the previous stage's output.",
    '',
    `${fence}sh`,
    ...body,
    fence,
    '',
  ];
}

/** The one line under the title: who wrote the report, when, and on what. */
export function metaLine(data: ReportData): string {
  return [
    `Generated by ${data.generator} on ${formatDate(data.date)}`,
    `seed ${data.seed}`,
    `size ${data.size}`,
    `machine ${data.machine}`,
    `model ${data.model}`,
    `total time ${formatDuration(data.totalSeconds)}`,
  ].join(' · ');
}

export function renderMarkdown(data: ReportData): string {
  const lines = [
    `# ${escapeMarkdown(data.title)}`,
    '',
    escapeMarkdown(metaLine(data)),
    '',
    ...evaluationSection(data),
    ...stagesSection(data),
    '## Loss curves',
    '',
    ...(data.charts.length === 0 ? ['No curves were recorded.', ''] : data.charts.flatMap(chartSection)),
    ...reproduceSection(data),
  ];
  return lines.join('\n');
}

/** Splits one table row into cells, honouring backslash escapes (so `\|` is a pipe inside a cell). */
function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  const s = line.trim().replace(/^\|/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length && /[!-/:-@[-`{-~]/.test(s[i + 1])) {
      cell += s[++i];
    } else if (c === '|') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += c;
    }
  }
  // A row ends with a pipe, which leaves an empty remainder; text after a last pipe is still a cell.
  if (cell.trim() !== '') cells.push(cell.trim());
  return cells;
}

/**
 * Reads back the first table under `## heading` in `md`: the header row and then the body rows, each as the
 * cells' text with markdown escapes removed. Throws when the heading or its table is missing.
 */
export function parseMarkdownTable(md: string, heading: string): string[][] {
  const lines = md.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start < 0) throw new Error(`no "## ${heading}" heading in the markdown`);
  let i = start + 1;
  while (i < lines.length && !lines[i].trimStart().startsWith('|')) {
    if (/^##\s/.test(lines[i])) break;
    i++;
  }
  if (i >= lines.length || !lines[i].trimStart().startsWith('|')) throw new Error(`no table under "## ${heading}"`);
  const rows: string[][] = [];
  for (; i < lines.length && lines[i].trimStart().startsWith('|'); i++) rows.push(splitRow(lines[i]));
  // The second line is the alignment rule (---, :---, ---:), not data.
  if (rows.length >= 2 && rows[1].every((c) => /^:?-+:?$/.test(c))) rows.splice(1, 1);
  return rows;
}
