// #/compare?ids=A,B[,C…]: evaluations side by side, per task the score of each and, for each later one against the
// first, the paired comparison on the instances both scored: fixed, broken and the exact sign test's p.
import type { CompareResponse, CompareTask } from '../../../src/dashboard/api-types.ts';
import { h, problemBadge } from '../dom.ts';
import { formatNumber, formatP, formatPercent } from '../format.ts';
import type { Route } from '../router.ts';
import { loadView } from './load.ts';
import { problemText } from './runs.ts';
import { scoreCell } from './evals.ts';

function pairCell(task: CompareTask, other: string): HTMLTableCellElement {
  const pair = task.pairs.find((p) => p.other === other);
  if (!pair) return h('td', { class: 'muted' }, '—');
  return h(
    'td',
    { 'data-pair': other },
    h('span', { class: 'fixed', title: 'wrong for the baseline, right here' }, `+${pair.fixed}`),
    ' / ',
    h('span', { class: 'broken', title: 'right for the baseline, wrong here' }, `−${pair.broken}`),
    h(
      'div',
      { class: 'muted small' },
      `p = ${formatP(pair.pValue)} · ${formatNumber(pair.shared)} shared · ${formatPercent(pair.before)} → ${formatPercent(pair.after)}`,
    ),
  );
}

function compareRow(res: CompareResponse, t: CompareTask): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-task': t.task },
    h('th', { scope: 'row' }, t.task),
    h('td', {}, t.primaryMetric ?? '—'),
    ...t.scores.map((s) => scoreCell(s)),
    ...res.ids.slice(1).map((other) => pairCell(t, other)),
    h('td', {}, ...t.problems.map((p) => problemBadge(problemText(p)))),
  );
}

export function compareView(main: HTMLElement, route: Route): () => void {
  const url = `/api/compare?ids=${encodeURIComponent(route.query.get('ids') ?? '')}`;
  const spec = { title: 'Compare evaluations', what: 'the comparison', url, ready: 'compare' };
  return loadView<CompareResponse>(main, spec, (res) => {
    const [baseline, ...others] = res.names;
    const head = [
      'Task',
      'Metric',
      ...res.names,
      ...others.map((n) => `${n} vs ${baseline}: fixed / broken`),
      'Problems',
    ];
    return [
      h('h1', {}, 'Compare evaluations'),
      h(
        'p',
        { class: 'muted' },
        `Baseline: ${baseline ?? '—'}. Fixed/broken count the instances both scored; p is the exact two-sided sign test.`,
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data', id: 'compare-table' },
          h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, ...res.tasks.map((t) => compareRow(res, t))),
        ),
      ),
    ];
  });
}
