// #/runs: every training run found under the roots, with its kind, status, progress and problems. Checkboxes pick
// runs to overlay on one run page's charts.
import type { Problem, RunsResponse, RunSummary } from '../../../src/dashboard/api-types.ts';
import { h, link, pill, problemBadge, table } from '../dom.ts';
import { formatNumber, formatTime } from '../format.ts';
import { href } from '../router.ts';
import { compareToolbar, loadView } from './load.ts';

/** A problem as one line: file, line and message. */
export function problemText(p: Problem): string {
  return `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`;
}

function progress(run: RunSummary): string {
  if (run.lastStep === null) return '—';
  return run.totalSteps === null
    ? formatNumber(run.lastStep)
    : `${formatNumber(run.lastStep)} / ${formatNumber(run.totalSteps)}`;
}

function runRow(run: RunSummary, selected: Set<string>) {
  const box = h('input', {
    type: 'checkbox',
    'aria-label': `compare ${run.name}`,
    'data-run': run.id,
    onchange: (e: Event) => ((e.target as HTMLInputElement).checked ? selected.add(run.id) : selected.delete(run.id)),
  });
  return [
    box,
    link(href(['runs', run.id]), run.name, { 'data-run-link': run.id }),
    pill(run.kind),
    pill(run.status),
    progress(run),
    run.checkpoints,
    formatTime(run.modified),
    run.problems.length === 0 ? '' : h('span', {}, ...run.problems.map((p) => problemBadge(problemText(p)))),
  ];
}

export function runsView(main: HTMLElement): () => void {
  return loadView<RunsResponse>(main, { title: 'Runs', what: 'the runs', url: '/api/runs', ready: 'runs' }, (res) => {
    const selected = new Set<string>();
    const compare = () => {
      const [first, ...rest] = [...selected];
      if (first !== undefined) location.hash = href(['runs', first], { compare: rest.join(',') });
    };
    return [
      h('h1', {}, 'Runs'),
      compareToolbar('compare-runs', compare, `Running = metrics written in the last ${res.runningWindowSeconds} s.`),
      res.runs.length === 0
        ? h('p', { class: 'muted' }, 'No training runs (folders with metrics.jsonl) under the roots.')
        : table(
            ['', 'Run', 'Kind', 'Status', 'Step', 'Checkpoints', 'Modified', 'Problems'],
            res.runs.map((r) => runRow(r, selected)),
            { id: 'runs-table', class: 'data' },
          ),
    ];
  });
}
