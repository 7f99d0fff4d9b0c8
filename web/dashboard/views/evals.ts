// #/evals: every oe-eval output folder with its primary score per task (one column per task), checkboxes to compare
// two or more side by side. #/evals/ID: one folder's metrics table, every metric of a task on demand, and links to
// the instance browser.
import type { EvalDetail, EvalsResponse, EvalTaskDetail, JsonValue } from '../../../src/dashboard/api-types.ts';
import { apiPath, getJson } from '../api.ts';
import { button, errorPanel, facts, h, link, loading, problemBadge, problemList, replace } from '../dom.ts';
import { formatNumber, formatTime } from '../format.ts';
import { href } from '../router.ts';
import { problemText } from './runs.ts';

/** A score cell: formatted for reading, the exact value in data-value and the tooltip. */
export function scoreCell(value: number | null): HTMLTableCellElement {
  return h(
    'td',
    { class: 'num', 'data-value': value === null ? '' : String(value), title: value === null ? '' : String(value) },
    formatNumber(value),
  );
}

export function evalsView(main: HTMLElement): () => void {
  const controller = new AbortController();
  replace(main, h('h1', {}, 'Evaluations'), loading('evaluations'));
  getJson<EvalsResponse>('/api/evals', controller.signal).then(
    (res) => {
      const tasks = [...new Set(res.evals.flatMap((e) => e.tasks.map((t) => t.alias)))];
      const selected = new Set<string>();
      const rows = res.evals.map((e) => {
        const byAlias = new Map(e.tasks.map((t) => [t.alias, t]));
        return h(
          'tr',
          { 'data-eval': e.id },
          h(
            'td',
            {},
            h('input', {
              type: 'checkbox',
              'aria-label': `compare ${e.name}`,
              onchange: (ev: Event) =>
                (ev.target as HTMLInputElement).checked ? selected.add(e.id) : selected.delete(e.id),
            }),
          ),
          h('th', { scope: 'row' }, link(href(['evals', e.id]), e.name)),
          h('td', {}, e.model ?? '—'),
          ...tasks.map((alias) => scoreCell(byAlias.get(alias)?.score ?? null)),
          h('td', {}, ...e.problems.map((p) => problemBadge(problemText(p)))),
        );
      });
      const compare = () => {
        if (selected.size >= 2) location.hash = href(['compare'], { ids: [...selected].join(',') });
      };
      replace(
        main,
        h('h1', {}, 'Evaluations'),
        h(
          'p',
          { class: 'toolbar' },
          button('Compare selected', compare, { id: 'compare-evals' }),
          h('span', { class: 'muted' }, ' Pick two or more; the first is the baseline. Cells: primary score.'),
        ),
        res.evals.length === 0
          ? h('p', { class: 'muted' }, 'No evaluation folders (with metrics.json) under the roots.')
          : h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'data', id: 'evals-table' },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    h('th', {}, ''),
                    h('th', { scope: 'col' }, 'Folder'),
                    h('th', { scope: 'col' }, 'Model'),
                    ...tasks.map((t) => h('th', { scope: 'col' }, t)),
                    h('th', { scope: 'col' }, 'Problems'),
                  ),
                ),
                h('tbody', {}, ...rows),
              ),
            ),
      );
      main.setAttribute('data-ready', 'evals');
    },
    (err) => {
      if (!controller.signal.aborted) replace(main, h('h1', {}, 'Evaluations'), errorPanel('the evaluations', err));
    },
  );
  return () => controller.abort();
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
  const controller = new AbortController();
  replace(main, loading('the evaluation'));
  getJson<EvalDetail>(apiPath('evals', id), controller.signal).then(
    (res) => {
      const s = res.summary;
      const model = res.modelConfig;
      replace(
        main,
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
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Task', 'Primary metric', 'Score', 'Instances', '', ''].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h('tbody', {}, ...res.tasks.flatMap((t) => taskRows(id, t))),
        ),
        Object.keys(model).length === 0
          ? null
          : h(
              'details',
              {},
              h('summary', {}, 'Model config'),
              h('pre', { class: 'json' }, JSON.stringify(model, null, 2)),
            ),
      );
      main.setAttribute('data-ready', 'eval');
    },
    (err) => {
      if (!controller.signal.aborted) replace(main, h('h1', {}, 'Evaluation'), errorPanel(`evaluation ${id}`, err));
    },
  );
  return () => controller.abort();
}
