// #/evals/ID/instances?task=ALIAS&wrong=1&offset=N: the instance browser. Each instance shows the request exactly
// as scored (the context in a <pre>, whitespace kept, then each choice's continuation), each choice's
// log-likelihood and normalised scores, the prediction, the gold answer and whether it was right.
import type { Instance, InstanceChoice, InstancesResponse } from '../../../src/dashboard/api-types.ts';
import { apiPath } from '../api.ts';
import { button, h, link, pill, problemList } from '../dom.ts';
import { formatNumber } from '../format.ts';
import { href, type Route } from '../router.ts';
import { loadView } from './load.ts';
import { problemText } from './runs.ts';

const PAGE = 10;

/** Choices grouped by their context, in order: a multiple-choice request shares one prompt among its choices. */
function byContext(choices: InstanceChoice[]): { context: string; choices: InstanceChoice[] }[] {
  const groups: { context: string; choices: InstanceChoice[] }[] = [];
  for (const c of choices) {
    const g = groups.find((x) => x.context === c.context);
    if (g) g.choices.push(c);
    else groups.push({ context: c.context, choices: [c] });
  }
  return groups;
}

function choiceTable(inst: Instance, choices: InstanceChoice[]): HTMLTableElement {
  const scoreKeys = [...new Set(choices.flatMap((c) => Object.keys(c.scores)))];
  const head = ['#', 'Continuation', 'Log-likelihood', ...scoreKeys, 'Greedy'];
  return h(
    'table',
    { class: 'data choices' },
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      ...choices.map((c) =>
        h(
          'tr',
          {
            class: [c.index === inst.prediction ? 'predicted' : '', c.index === inst.gold ? 'gold' : '']
              .join(' ')
              .trim(),
          },
          h('td', { class: 'num' }, c.index, c.unconditioned ? ' (uncond.)' : ''),
          h('td', {}, h('pre', { class: 'continuation' }, c.continuation)),
          h('td', { class: 'num', title: String(c.logLikelihood) }, formatNumber(c.logLikelihood)),
          ...scoreKeys.map((k) => h('td', { class: 'num', title: String(c.scores[k]) }, formatNumber(c.scores[k]))),
          h('td', {}, c.isGreedy === null ? '—' : c.isGreedy ? 'yes' : 'no'),
        ),
      ),
    ),
  );
}

function answer(v: number | string | null): string {
  return v === null ? '—' : String(v);
}

function instanceCard(inst: Instance): HTMLElement {
  const verdict = inst.correct === null ? pill('unscored', 'unknown') : inst.correct ? pill('correct') : pill('wrong');
  const requests = byContext(inst.choices).map((g) =>
    h(
      'div',
      { class: 'request' },
      h('h4', {}, 'Request context'),
      h('pre', { class: 'request-text', 'data-doc': inst.docId }, g.context),
      choiceTable(inst, g.choices),
    ),
  );
  return h(
    'article',
    { class: 'instance', 'data-doc': inst.docId },
    h(
      'header',
      {},
      h('h3', {}, `doc ${inst.docId}`, inst.nativeId === null ? '' : ` · ${inst.nativeId}`),
      verdict,
      h('span', { class: 'muted' }, ` prediction ${answer(inst.prediction)} · gold ${answer(inst.gold)}`),
    ),
    inst.query === null ? null : h('p', { class: 'query' }, h('strong', {}, 'Query: '), inst.query),
    ...requests,
    inst.generation === null
      ? null
      : h(
          'div',
          { class: 'request' },
          h('h4', {}, 'Prompt'),
          h('pre', { class: 'request-text', 'data-doc': inst.docId }, inst.generation.context),
          h('h4', {}, 'Generated'),
          h('pre', { class: 'continuation' }, inst.generation.output ?? '—'),
        ),
    Object.keys(inst.metrics).length === 0
      ? null
      : h(
          'p',
          { class: 'muted small' },
          Object.entries(inst.metrics)
            .map(([k, v]) => `${k} ${formatNumber(v)}`)
            .join(' · '),
        ),
  );
}

function pager(res: InstancesResponse, go: (offset: number) => void): HTMLElement {
  const last = Math.min(res.offset + res.instances.length, res.total);
  const prev = button('← Previous', () => go(Math.max(0, res.offset - PAGE)), { disabled: res.offset === 0 });
  const next = button('Next →', () => go(res.offset + PAGE), { disabled: last >= res.total });
  const range = ` ${res.total === 0 ? 0 : res.offset + 1}–${last} of ${res.total} `;
  return h('nav', { class: 'pager', 'aria-label': 'pages' }, prev, h('span', { 'data-range': '' }, range), next);
}

export function instancesView(main: HTMLElement, route: Route, id: string): () => void {
  const task = route.query.get('task') ?? '';
  const wrong = route.query.get('wrong') === '1';
  const offset = Math.max(0, Number(route.query.get('offset') ?? 0) || 0);
  const go = (next: { wrong?: boolean; offset?: number }) => {
    const w = next.wrong ?? wrong;
    location.hash = href(['evals', id, 'instances'], { task, wrong: w ? 1 : undefined, offset: next.offset ?? offset });
  };
  const params = new URLSearchParams({ task, offset: String(offset), limit: String(PAGE) });
  if (wrong) params.set('wrong', '1');
  const url = `${apiPath('evals', id, 'instances')}?${params}`;
  const spec = { title: `Instances · ${task}`, what: `the instances of ${task}`, url, ready: 'instances' };
  return loadView<InstancesResponse>(main, spec, (res) => {
    const filter = h('input', {
      type: 'checkbox',
      id: 'wrong-only',
      checked: wrong,
      onchange: (e: Event) => go({ wrong: (e.target as HTMLInputElement).checked, offset: 0 }),
    });
    const count = ` only wrong answers (${wrong ? res.total : '…'} of ${res.totalAll})`;
    return [
      h('h1', {}, `Instances · ${task}`),
      h('p', {}, link(href(['evals', id]), '← metrics table')),
      problemList(res.problems.map(problemText)),
      h(
        'div',
        { class: 'toolbar' },
        h('label', {}, filter, count),
        pager(res, (o) => go({ offset: o })),
      ),
      res.instances.length === 0
        ? h('p', { class: 'muted' }, 'No instances match.')
        : h('div', { class: 'instances' }, ...res.instances.map(instanceCard)),
    ];
  });
}
