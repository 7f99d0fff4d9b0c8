// #/runs/ID[?x=tokens&compare=ID2,ID3]: one run's state, charts, checkpoints and config; other runs overlaid on
// its charts; new metrics lines appended live from /api/runs/ID/events (server-sent events over a file watch).
import type {
  MetricsAppendEvent,
  MetricsLineProblem,
  MetricsResetEvent,
  MetricsResponse,
  RootsResponse,
  RunDetail,
  RunsResponse,
  RunStatusEvent,
} from '../../../src/dashboard/api-types.ts';
import { apiPath, getJson } from '../api.ts';
import { RunCharts, type ChartRun } from '../charts.ts';
import { errorPanel, facts, h, link, loading, pill, problemBadge, problemList, replace, table } from '../dom.ts';
import { formatBytes, formatNumber, formatTime } from '../format.ts';
import type { XAxis } from '../metrics.ts';
import { href, type Route } from '../router.ts';
import { problemText } from './runs.ts';

async function loadRun(id: string, signal: AbortSignal): Promise<{ detail: RunDetail; metrics: MetricsResponse }> {
  const [detail, metrics] = await Promise.all([
    getJson<RunDetail>(apiPath('runs', id), signal),
    getJson<MetricsResponse>(apiPath('runs', id, 'metrics'), signal),
  ]);
  return { detail, metrics };
}

function chartRun(detail: RunDetail, metrics: MetricsResponse): ChartRun {
  return { id: detail.summary.id, name: detail.summary.name, rows: metrics.rows, stages: detail.stages };
}

function lineProblems(problems: MetricsLineProblem[]): HTMLElement | null {
  return problemList(problems.map((p) => `metrics.jsonl:${p.line}: ${p.problem}`));
}

function stateSection(detail: RunDetail): HTMLElement {
  const s = detail.summary;
  const st = detail.trainState;
  return h(
    'section',
    {},
    h('h2', {}, 'State'),
    facts([
      ['Kind', s.kind],
      ['Last step', s.lastStep === null ? '—' : formatNumber(s.lastStep)],
      ['Steps configured', s.totalSteps === null ? '—' : formatNumber(s.totalSteps)],
      ['Modified', formatTime(s.modified)],
      ['Newest checkpoint', st ? `${st.checkpoint} (optimizer step ${st.optimizerStep})` : '—'],
      ['Version', detail.recorded?.version ?? st?.version ?? '—'],
      ['Commit', detail.recorded?.commit ?? st?.commit ?? '—'],
      ['Threads', detail.recorded?.threads ?? st?.threads ?? '—'],
    ]),
    detail.stages.length === 0
      ? null
      : h(
          'p',
          { class: 'muted' },
          'Stage boundaries: ',
          detail.stages
            .map(
              (b) => `${b.stage} from step ${b.step}${b.tokens === null ? '' : ` (${formatNumber(b.tokens)} tokens)`}`,
            )
            .join('; '),
        ),
  );
}

function checkpointsSection(detail: RunDetail): HTMLElement {
  const rows = detail.checkpoints.map((c) => [
    c.name,
    c.step,
    formatBytes(c.bytes),
    formatTime(c.modified),
    c.modelId === null ? '—' : link(href(['models'], { focus: c.modelId }), 'model'),
  ]);
  return h(
    'section',
    {},
    h('h2', {}, `Checkpoints (${detail.checkpoints.length})`),
    rows.length === 0
      ? h('p', { class: 'muted' }, 'No checkpoints.')
      : table(['Checkpoint', 'Step', 'Size', 'Written', 'Model'], rows, { class: 'data', id: 'checkpoints' }),
  );
}

function configSection(detail: RunDetail): HTMLElement {
  const files = detail.files.map((f) =>
    h('li', {}, h('a', { href: `/files/${encodeURIComponent(detail.summary.id)}/${f}`, target: '_blank' }, f)),
  );
  return h(
    'section',
    {},
    h('h2', {}, 'Config'),
    detail.configProblem ? problemBadge(problemText(detail.configProblem)) : null,
    detail.config === null
      ? h('p', { class: 'muted' }, 'No resolved config.')
      : h(
          'details',
          {},
          h('summary', {}, `Resolved config (${detail.configFile ?? 'config'})`),
          h('pre', { class: 'json' }, JSON.stringify(detail.config, null, 2)),
        ),
    files.length === 0 ? null : h('div', {}, h('h3', {}, 'Files'), h('ul', {}, ...files)),
  );
}

/** The chart toolbar: the x-axis toggle and the runs to overlay. */
function chartToolbar(id: string, route: Route, axis: XAxis, others: RunsResponse | null): HTMLElement {
  const compare = new Set((route.query.get('compare') ?? '').split(',').filter((s) => s !== ''));
  const go = (next: { x?: XAxis; compare?: Set<string> }) => {
    location.hash = href(['runs', id], {
      x: (next.x ?? axis) === 'tokens' ? 'tokens' : undefined,
      compare: [...(next.compare ?? compare)].join(','),
    });
  };
  const radio = (value: XAxis) =>
    h(
      'label',
      {},
      h('input', {
        type: 'radio',
        name: 'x-axis',
        value,
        checked: axis === value,
        onchange: () => go({ x: value }),
      }),
      ` ${value}`,
    );
  const choices = (others?.runs ?? [])
    .filter((r) => r.id !== id)
    .map((r) =>
      h(
        'label',
        { class: 'choice' },
        h('input', {
          type: 'checkbox',
          'data-overlay': r.id,
          checked: compare.has(r.id),
          onchange: (e: Event) => {
            const next = new Set(compare);
            if ((e.target as HTMLInputElement).checked) next.add(r.id);
            else next.delete(r.id);
            go({ compare: next });
          },
        }),
        ` ${r.name}`,
      ),
    );
  return h(
    'div',
    { class: 'toolbar' },
    h('fieldset', { class: 'inline' }, h('legend', {}, 'x axis'), radio('step'), radio('tokens')),
    choices.length === 0
      ? null
      : h('details', { class: 'overlay' }, h('summary', {}, `Overlay runs (${compare.size})`), ...choices),
  );
}

export function runView(main: HTMLElement, route: Route, _roots: RootsResponse, id: string): () => void {
  const controller = new AbortController();
  const axis: XAxis = route.query.get('x') === 'tokens' ? 'tokens' : 'step';
  const compareIds = (route.query.get('compare') ?? '').split(',').filter((s) => s !== '' && s !== id);
  const charts = new RunCharts();
  let live: LiveMetrics | null = null;
  replace(main, loading('the run'));
  Promise.all([
    loadRun(id, controller.signal),
    Promise.all(compareIds.map((c) => loadRun(c, controller.signal))),
    getJson<RunsResponse>('/api/runs', controller.signal).catch(() => null),
  ]).then(
    ([own, compared, all]) => {
      const s = own.detail.summary;
      const status = pill(s.status);
      const problems = lineProblems(own.metrics.problems);
      const problemsBox = h('div', { id: 'metric-problems' }, problems);
      replace(
        main,
        h('h1', {}, s.name, ' ', pill(s.kind), ' ', status),
        problemList(s.problems.map(problemText)),
        s.quickstart === null
          ? null
          : h('p', {}, 'Part of a quickstart: ', link(href(['quickstarts', s.quickstart]), 'open its report')),
        stateSection(own.detail),
        h('section', {}, h('h2', {}, 'Charts'), chartToolbar(id, route, axis, all), problemsBox, charts.element),
        checkpointsSection(own.detail),
        configSection(own.detail),
      );
      charts.show([chartRun(own.detail, own.metrics), ...compared.map((c) => chartRun(c.detail, c.metrics))], axis);
      const allProblems = [...own.metrics.problems];
      live = new LiveMetrics(id, own.metrics.lines, {
        rows: (e) => {
          charts.append(id, e.rows);
          allProblems.push(...e.problems);
          replace(problemsBox, lineProblems(allProblems));
        },
        reset: (e) => {
          allProblems.splice(0, allProblems.length, ...e.problems);
          replace(problemsBox, lineProblems(allProblems));
          charts.show(
            [
              { ...chartRun(own.detail, own.metrics), rows: e.rows },
              ...compared.map((c) => chartRun(c.detail, c.metrics)),
            ],
            axis,
          );
        },
        status: (e) => {
          status.textContent = e.status;
          status.className = `pill pill-${e.status}`;
        },
      });
      main.setAttribute('data-ready', 'run');
    },
    (err) => {
      if (!controller.signal.aborted) replace(main, h('h1', {}, 'Run'), errorPanel(`run ${id}`, err));
    },
  );
  return () => {
    controller.abort();
    live?.close();
    charts.destroy();
  };
}

interface LiveHandlers {
  rows(e: MetricsAppendEvent): void;
  reset(e: MetricsResetEvent): void;
  status(e: RunStatusEvent): void;
}

/**
 * The run's event stream. EventSource reconnects on its own but to the same URL, which would replay lines already
 * shown; so on an error the stream is closed and reopened from the number of lines received so far.
 */
class LiveMetrics {
  private source: EventSource | null = null;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly id: string,
    private lines: number,
    private readonly on: LiveHandlers,
  ) {
    this.open();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.source?.close();
  }

  private open(): void {
    const es = new EventSource(`${apiPath('runs', this.id, 'events')}?from=${this.lines}`);
    this.source = es;
    const parse = <T>(e: Event): T | null => {
      try {
        return JSON.parse((e as MessageEvent<string>).data) as T;
      } catch {
        return null;
      }
    };
    es.addEventListener('rows', (e) => {
      const data = parse<MetricsAppendEvent>(e);
      if (!data) return;
      this.lines = data.lines;
      this.on.rows(data);
    });
    es.addEventListener('reset', (e) => {
      const data = parse<MetricsResetEvent>(e);
      if (!data) return;
      this.lines = data.lines;
      this.on.reset(data);
    });
    es.addEventListener('status', (e) => {
      const data = parse<RunStatusEvent>(e);
      if (data) this.on.status(data);
    });
    es.onerror = () => {
      es.close();
      if (!this.closed) this.retry = setTimeout(() => this.open(), 2000);
    };
  }
}
