// #/quickstarts: the `olmo quickstart` output folders; #/quickstarts/ID opens one on its report (report.html,
// served read-only under /files/) with links to the runs and evaluations inside it.
import type { QuickstartsResponse, QuickstartSummary } from '../../../src/dashboard/api-types.ts';
import { getJson } from '../api.ts';
import { errorPanel, h, link, loading, problemList, replace } from '../dom.ts';
import { formatTime } from '../format.ts';
import { href } from '../router.ts';
import { problemText } from './runs.ts';

function load(main: HTMLElement, title: string, then: (q: QuickstartSummary[]) => void): () => void {
  const controller = new AbortController();
  replace(main, h('h1', {}, title), loading('quickstart folders'));
  getJson<QuickstartsResponse>('/api/quickstarts', controller.signal).then(
    (res) => then(res.quickstarts),
    (err) => {
      if (!controller.signal.aborted) replace(main, h('h1', {}, title), errorPanel('the quickstart folders', err));
    },
  );
  return () => controller.abort();
}

export function quickstartsView(main: HTMLElement): () => void {
  return load(main, 'Quickstarts', (list) => {
    replace(
      main,
      h('h1', {}, 'Quickstarts'),
      list.length === 0
        ? h('p', { class: 'muted' }, 'No quickstart folders (with report.html) under the roots.')
        : h(
            'ul',
            { class: 'cards' },
            ...list.map((q) =>
              h(
                'li',
                {},
                link(href(['quickstarts', q.id]), q.name),
                h(
                  'span',
                  { class: 'muted' },
                  ` · ${q.runs.length} runs · ${q.evals.length} evaluations · ${formatTime(q.modified)}`,
                ),
                problemList(q.problems.map(problemText)),
              ),
            ),
          ),
    );
    main.setAttribute('data-ready', 'quickstarts');
  });
}

export function quickstartView(main: HTMLElement, id: string): () => void {
  return load(main, 'Quickstart', (list) => {
    const q = list.find((x) => x.id === id);
    if (!q) {
      replace(main, h('h1', {}, 'Quickstart'), errorPanel(`quickstart ${id}`, 'no such quickstart folder'));
      return;
    }
    replace(
      main,
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
    );
    main.setAttribute('data-ready', 'quickstart');
  });
}
