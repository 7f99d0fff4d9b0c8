// #/quickstarts: the `olmo quickstart` output folders; #/quickstarts/ID opens one on its report (report.html,
// served read-only under /files/) with links to the runs and evaluations inside it.
import type { QuickstartsResponse, QuickstartSummary } from '../../../src/dashboard/api-types.ts';
import { errorPanel, h, link, problemList } from '../dom.ts';
import { formatTime } from '../format.ts';
import { href } from '../router.ts';
import { loadView } from './load.ts';
import { problemText } from './runs.ts';

const SPEC = { what: 'the quickstart folders', url: '/api/quickstarts' };

function card(q: QuickstartSummary): HTMLElement {
  return h(
    'li',
    {},
    link(href(['quickstarts', q.id]), q.name),
    h(
      'span',
      { class: 'muted' },
      ` · ${q.runs.length} runs · ${q.evals.length} evaluations · ${formatTime(q.modified)}`,
    ),
    problemList(q.problems.map(problemText)),
  );
}

export function quickstartsView(main: HTMLElement): () => void {
  return loadView<QuickstartsResponse>(main, { ...SPEC, title: 'Quickstarts', ready: 'quickstarts' }, (res) => [
    h('h1', {}, 'Quickstarts'),
    res.quickstarts.length === 0
      ? h('p', { class: 'muted' }, 'No quickstart folders (with report.html) under the roots.')
      : h('ul', { class: 'cards' }, ...res.quickstarts.map(card)),
  ]);
}

export function quickstartView(main: HTMLElement, id: string): () => void {
  return loadView<QuickstartsResponse>(main, { ...SPEC, title: 'Quickstart', ready: 'quickstart' }, (res) => {
    const q = res.quickstarts.find((x) => x.id === id);
    if (!q) return [h('h1', {}, 'Quickstart'), errorPanel(`quickstart ${id}`, 'no such quickstart folder')];
    return [
      h('h1', {}, q.name),
      problemList(q.problems.map(problemText)),
      h(
        'p',
        { class: 'toolbar' },
        h('a', { href: q.reportUrl, target: '_blank', rel: 'noopener' }, 'Open the report in its own tab'),
        ` · ${q.runs.length} runs, ${q.evals.length} evaluations: `,
        link('#/runs', 'runs'),
        ', ',
        link('#/evals', 'evaluations'),
      ),
      h('iframe', { class: 'report', src: q.reportUrl, title: `${q.name} report` }),
    ];
  });
}
