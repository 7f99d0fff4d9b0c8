// A run's charts: one Chart.js line chart per metric group (metrics.ts), every selected run overlaid, against step
// or tokens, with stage boundaries drawn as dashed vertical lines. Live rows are appended in place (no redraw of
// the page): a new point goes into its dataset and the chart updates without animation.
import { Chart, type ChartDataset, type Plugin } from 'chart.js';
import { h } from './dom.ts';
import { formatNumber } from './format.ts';
import {
  chartGroups,
  expertLoadSeries,
  noteTokens,
  seriesPoints,
  type ChartGroup,
  type MetricRow,
  type Point,
  type XAxis,
} from './metrics.ts';

export interface ChartRun {
  id: string;
  name: string;
  rows: MetricRow[];
  /** Stage boundaries: the first step of each later stage, its tokens when known. */
  stages: { stage: string; step: number; tokens: number | null }[];
}

interface StageLine {
  x: number;
  label: string;
}

const PALETTE = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bc4c00', '#0598bc', '#bf3989', '#6e7781'];

/** Draws each stage boundary as a dashed vertical line with the stage's name at the top. */
function stageLinesPlugin(lines: StageLine[]): Plugin<'line'> {
  return {
    id: 'stageLines',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      ctx.strokeStyle = '#6e7781';
      ctx.fillStyle = '#59636e';
      ctx.setLineDash([4, 4]);
      ctx.font = '11px system-ui, sans-serif';
      for (const line of lines) {
        const px = scales.x.getPixelForValue(line.x);
        if (px < chartArea.left || px > chartArea.right) continue;
        ctx.beginPath();
        ctx.moveTo(px, chartArea.top);
        ctx.lineTo(px, chartArea.bottom);
        ctx.stroke();
        ctx.fillText(line.label, px + 4, chartArea.top + 12);
      }
      ctx.restore();
    },
  };
}

interface Series {
  runId: string;
  key: string;
  label: string;
  points: Point[];
}

export class RunCharts {
  readonly element: HTMLElement;
  private charts = new Map<string, Chart<'line', Point[]>>();
  private runs: ChartRun[] = [];
  private axis: XAxis = 'step';
  private signature = '';

  constructor() {
    this.element = h('div', { class: 'charts-wrap' });
  }

  /** Draws the runs from scratch (first load, axis toggle, runs added or removed, a reset metrics file). */
  show(runs: ChartRun[], axis: XAxis): void {
    this.runs = runs.map((r) => ({ ...r, rows: [...r.rows] }));
    this.axis = axis;
    this.rebuild();
  }

  /** Appends live rows of one run; a metric that was not there before rebuilds the charts to give it one. */
  append(runId: string, rows: MetricRow[]): void {
    const run = this.runs.find((r) => r.id === runId);
    if (!run || rows.length === 0) return;
    run.rows.push(...rows);
    if (this.groupSignature() !== this.signature) return this.rebuild();
    for (const group of this.groups()) {
      const chart = this.charts.get(group.id);
      if (!chart) continue;
      const fresh = this.seriesOf(group, [{ ...run, rows }]);
      for (const s of fresh) {
        const ds = chart.data.datasets.find((d) => d.label === s.label);
        if (ds) ds.data.push(...s.points);
        else chart.data.datasets.push(this.dataset(s, this.keysOf(group)));
      }
      chart.update('none');
    }
  }

  destroy(): void {
    for (const c of this.charts.values()) c.destroy();
    this.charts.clear();
  }

  private groups(): ChartGroup[] {
    return chartGroups(this.runs.flatMap((r) => r.rows));
  }

  private groupSignature(): string {
    return this.groups()
      .map((g) => `${g.id}:${g.keys.join(',')}`)
      .join('|');
  }

  private tokensAt(run: ChartRun): Map<number, number> {
    const m = new Map<number, number>();
    noteTokens(run.rows, m);
    return m;
  }

  /** The series of a group for the given runs; labels carry the run's name only when several runs are shown. */
  private seriesOf(group: ChartGroup, runs: ChartRun[]): Series[] {
    const overlay = this.runs.length > 1;
    const out: Series[] = [];
    for (const run of runs) {
      const full = this.runs.find((r) => r.id === run.id) ?? run;
      const tokens = this.tokensAt(full);
      const label = (key: string) => (overlay ? `${full.name}: ${key}` : key);
      if (group.id === 'expert_load') {
        for (const s of expertLoadSeries(run.rows, this.axis, tokens))
          out.push({ runId: run.id, key: s.key, label: label(s.key), points: s.points });
      } else {
        for (const key of group.keys)
          out.push({ runId: run.id, key, label: label(key), points: seriesPoints(run.rows, key, this.axis, tokens) });
      }
    }
    return out;
  }

  /**
   * One series' line. Overlaid runs keep one colour each across every chart (the fields of a run differ by their
   * dash); a single run gives each field its own colour. Validation fields are dashed either way.
   */
  private dataset(s: Series, keys: readonly string[]): ChartDataset<'line', Point[]> {
    const keyIndex = Math.max(0, keys.indexOf(s.key));
    const runIndex = Math.max(
      0,
      this.runs.findIndex((r) => r.id === s.runId),
    );
    const color = PALETTE[(this.runs.length > 1 ? runIndex : keyIndex) % PALETTE.length];
    const validation = /^(val_|eval_)/.test(s.key) || (this.runs.length > 1 && keyIndex > 0);
    return {
      label: s.label,
      data: s.points,
      borderColor: color,
      backgroundColor: color,
      borderWidth: validation ? 2 : 1.5,
      borderDash: validation ? [6, 3] : undefined,
      pointRadius: validation || s.points.length < 40 ? 2.5 : 0,
      pointHoverRadius: 4,
      tension: 0,
      parsing: false,
    };
  }

  /** The fields of a group in legend order (MoE: the experts, from the series themselves). */
  private keysOf(group: ChartGroup): string[] {
    if (group.id !== 'expert_load') return group.keys;
    return [...new Set(this.seriesOf(group, this.runs).map((s) => s.key))];
  }

  /** A line where each later stage starts (the first stage starts with the run: no line there). */
  private stageLines(): StageLine[] {
    const lines: StageLine[] = [];
    for (const run of this.runs) {
      const steps = run.rows.map((r) => r.step).filter((s): s is number => typeof s === 'number');
      const first = steps.length === 0 ? -Infinity : Math.min(...steps);
      for (const b of run.stages) {
        if (b.step <= first) continue;
        const x = this.axis === 'step' ? b.step : b.tokens;
        if (x !== null) lines.push({ x, label: this.runs.length > 1 ? `${run.name}: ${b.stage}` : b.stage });
      }
    }
    return lines;
  }

  private rebuild(): void {
    this.destroy();
    const groups = this.groups();
    this.signature = this.groupSignature();
    const major = h('div', { class: 'charts' });
    const minor = h('div', { class: 'charts' });
    for (const group of groups) {
      const canvas = h('canvas', { id: `chart-${group.id}`, role: 'img', 'aria-label': `${group.title} chart` });
      const figure = h(
        'figure',
        { class: 'chart', 'data-group': group.id },
        h('figcaption', {}, group.title),
        h('div', { class: 'chart-box' }, canvas),
      );
      (group.minor ? minor : major).append(figure);
      this.charts.set(group.id, this.makeChart(canvas, group));
    }
    const parts: HTMLElement[] = [major];
    if (minor.childElementCount > 0)
      parts.push(h('details', { class: 'more' }, h('summary', {}, `More metrics (${minor.childElementCount})`), minor));
    if (groups.length === 0) parts.push(h('p', { class: 'muted' }, 'No metrics yet.'));
    this.element.replaceChildren(...parts);
    this.element.setAttribute('data-charts', String(groups.length));
  }

  private makeChart(canvas: HTMLCanvasElement, group: ChartGroup): Chart<'line', Point[]> {
    const series = this.seriesOf(group, this.runs);
    const keys = this.keysOf(group);
    const datasets = series.map((s) => this.dataset(s, keys));
    return new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets },
      plugins: [stageLinesPlugin(this.stageLines())],
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', intersect: false },
        scales: {
          x: {
            type: 'linear',
            title: { display: true, text: this.axis },
            ticks: { callback: (v) => formatNumber(+v) },
          },
          y: { type: group.log ? 'logarithmic' : 'linear', ticks: { callback: (v) => formatNumber(+v) } },
        },
        plugins: {
          legend: { display: datasets.length > 1, labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: { label: (item) => `${item.dataset.label}: ${formatNumber(item.parsed.y)}` },
          },
        },
      },
    });
  }
}
