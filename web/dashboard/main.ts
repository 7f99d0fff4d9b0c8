// The dashboard web app: a hash router over the views. Each view renders into <main> and returns a function that
// stops what it started (live event streams, chat requests, charts) when the user navigates away.
import { Chart, registerables } from 'chart.js';
import type { RootsResponse } from '../../src/dashboard/api-types.ts';
import { getJson } from './api.ts';
import { errorPanel, replace } from './dom.ts';
import { parseHash, type Route } from './router.ts';
import { chatView } from './views/chat.ts';
import { compareView } from './views/compare.ts';
import { evalView, evalsView } from './views/evals.ts';
import { instancesView } from './views/instances.ts';
import { modelsView } from './views/models.ts';
import { quickstartView, quickstartsView } from './views/quickstarts.ts';
import { runView } from './views/run.ts';
import { runsView } from './views/runs.ts';

Chart.register(...registerables);
// Exposed as the quickstart report does, so a test (or a curious user in the console) can read a chart's data.
(window as unknown as { Chart: typeof Chart }).Chart = Chart;

export type Dispose = () => void;
export type View = (main: HTMLElement, route: Route, roots: RootsResponse) => Dispose | void;

function pick(route: Route): { section: string; view: View } {
  const [section = 'runs', id, sub] = route.segments;
  switch (section) {
    case 'runs':
      return { section, view: id === undefined ? runsView : (m, r, x) => runView(m, r, x, id) };
    case 'evals':
      if (id === undefined) return { section, view: evalsView };
      return { section, view: sub === 'instances' ? (m, r) => instancesView(m, r, id) : (m) => evalView(m, id) };
    case 'compare':
      return { section: 'evals', view: compareView };
    case 'models':
      return { section, view: modelsView };
    case 'chat':
      return { section, view: chatView };
    case 'quickstarts':
      return { section, view: id === undefined ? quickstartsView : (m) => quickstartView(m, id) };
    default:
      return { section: '', view: (m) => replace(m, errorPanel('this page', `no view is called "${section}"`)) };
  }
}

let dispose: Dispose | void;
let lastPath = '';

function render(roots: RootsResponse): void {
  const main = document.getElementById('main')!;
  const route = parseHash(location.hash);
  const { section, view } = pick(route);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a[data-section]')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (dispose) dispose();
  main.replaceChildren();
  main.removeAttribute('data-ready');
  // Which route the page shows: with data-ready, a script can tell a finished render of this route from the last.
  main.setAttribute('data-hash', location.hash);
  dispose = view(main, route, roots);
  // Keyboard users land on the new content, not on the link they came from (only when the page changed, not the query).
  const path = route.segments.join('/');
  if (path !== lastPath) main.focus({ preventScroll: true });
  lastPath = path;
}

async function start(): Promise<void> {
  const main = document.getElementById('main')!;
  let roots: RootsResponse;
  try {
    roots = await getJson<RootsResponse>('/api/roots');
  } catch (err) {
    replace(main, errorPanel('the dashboard server', err));
    return;
  }
  const info = document.getElementById('server-info');
  if (info) info.textContent = `${roots.roots.map((r) => r.path).join(', ')} · olmo-ts ${roots.version}`;
  if (location.hash === '' || location.hash === '#' || location.hash === '#/') history.replaceState(null, '', '#/runs');
  window.addEventListener('hashchange', () => render(roots));
  render(roots);
}

void start();
