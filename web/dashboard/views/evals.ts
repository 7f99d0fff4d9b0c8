// #/evals: every oe-eval output folder with its primary score per task (one column per task), checkboxes to compare
// two or more side by side. #/evals/ID: one folder's metrics table, every metric of a task on demand, and links to
// the instance browser.
import type {
  EvalDetail,
  EvalsResponse,
  EvalSummary,
  EvalTaskDetail,
  JsonValue,
} from '../../../src/dashboard/api-types.ts';
import { apiPath } from '../api.ts';
import { button, facts, h, link, problemBadge, problemList } from '../dom.ts';
import { formatNumber, formatTime } from '../format.ts';
import { href } from '../router.ts';
import { compareToolbar, loadView } from './load.ts';
import { problemText } from './runs.ts';

/** A score cell: formatted for reading, the exact value in data-value and the tooltip. */
export function scoreCell(value: number | null): HTMLTableCellElement {
  return h(
    'td',
    { class: 'num', 'data-value': value === null ? '' : String(value), title: value === null ? '' : String(value) },
    formatNumber(value),
  );
}

function evalRow(e: EvalSummary, tasks: string[], selected: Set<string>): HTMLTableRowElement {
  const byAlias = new Map(e.tasks.map((t) => [t.alias, t]));
  const box = h('input', {
    type: 'checkbox',
    'aria-label': `compare ${e.name}`,
    onchange: (ev: Event) => ((ev.target as HTMLInputElement).checked ? selected.add(e.id) : selected.delete(e.id)),
  });
  return h(
    'tr',
    { 'data-eval': e.id },
    h('td', {}, box),
    h('th', { scope: 'row' }, link(href(['evals', e.id]), e.name)),
    h('td', {}, e.model ?? '—'),
    ...tasks.map((alias) => scoreCell(byAlias.get(alias)?.score ?? null)),
    h('td', {}, ...e.problems.map((p) => problemBadge(problemText(p)))),
  );
}

export function evalsView(main: HTMLElement): () => void {
  const spec = { title: 'Evaluations', what: 'the evaluations', url: '/api/evals', ready: 'evals' };
  return loadView<EvalsResponse>(main, spec, (res) => {
    const tasks = [...new Set(res.evals.flatMap((e) => e.tasks.map((t) => t.alias)))];
    const selected = new Set<string>();
    const compare = () => {
      if (selected.size >= 2) location.hash = href(['compare'], { ids: [...selected].join(',') });
    };
    const head = ['', 'Folder', 'Model', ...tasks, 'Problems'];
    return [
      h('h1', {}, 'Evaluations'),
      compareToolbar('compare-evals', compare, 'Pick two or more; the first is the baseline. Cells: primary score.'),
      res.evals.length === 0
        ? h('p', { class: 'muted' }, 'No evaluation folders (with metrics.json) under the roots.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'data', id: 'evals-table' },
              h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
              h('tbody', {}, ...res.evals.map((e) => evalRow(e, tasks, selected))),
            ),
          ),
    ];
  });
}

function metricValue(v: JsonValue): string {
  return typeof v === 'number' ? formatNumber(v) : JSON.stringify(v);
}

/** A task's row and, below it, a hidden row with every metric that its button shows. */
function taskRows(id: string, t: EvalTaskDetail): HTMLTableRowElement[] {
  const all = h(
    'tr',
    { class: 'all-metrics', hidden: true },
    h(
      'td',
      { colspan: 6 },
      h(
        'dl',
        { class: 'facts compact' },
        ...Object.entries(t.metrics).map(([k, v]) =>
          h('div', {}, h('dt', {}, k), h('dd', { 'data-metric': k, title: String(v) }, metricValue(v))),
        ),
      ),
    ),
  );
  const toggle = button('all metrics', () => {
    all.hidden = !all.hidden;
    toggle.setAttribute('aria-expanded', String(!all.hidden));
  });
  toggle.setAttribute('aria-expanded', 'false');
  const main = h(
    'tr',
    { 'data-task': t.alias },
    h('th', { scope: 'row' }, t.alias),
    h('td', {}, t.primaryMetric ?? '—'),
    scoreCell(t.score),
    h('td', { class: 'num' }, t.numInstances === null ? '—' : formatNumber(t.numInstances)),
    h('td', {}, toggle),
    h(
      'td',
      {},
      t.hasPredictions
        ? link(href(['evals', id, 'instances'], { task: t.alias }), 'instances')
        : h('span', { class: 'muted' }, t.isSuite ? 'suite' : 'no predictions'),
    ),
  );
  return [main, all];
}

export function evalView(main: HTMLElement, id: string): () => void {
  const spec = { title: 'Evaluation', what: `evaluation ${id}`, url: apiPath('evals', id), ready: 'eval' };
  return loadView<EvalDetail>(main, spec, (res) => {
    const s = res.summary;
    const head = ['Task', 'Primary metric', 'Score', 'Instances', '', ''];
    return [
      h('h1', {}, s.name),
      problemList(s.problems.map(problemText)),
      facts([
        ['Model', s.model ?? '—'],
        ['Tasks', res.tasks.length],
        ['Modified', formatTime(s.modified)],
        ['Folder', s.path || '.'],
      ]),
      h('h2', {}, 'Metrics'),
      h(
        'table',
        { class: 'data', id: 'eval-table' },
        h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, ...res.tasks.flatMap((t) => taskRows(id, t))),
      ),
      Object.keys(res.modelConfig).length === 0
        ? null
        : h(
            'details',
            {},
            h('summary', {}, 'Model config'),
            h('pre', { class: 'json' }, JSON.stringify(res.modelConfig, null, 2)),
          ),
    ];
  });
}
