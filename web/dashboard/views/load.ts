// What every view that shows one API response does: a heading and "Loading…", the request (aborted when the user
// navigates away), then the rendered page marked data-ready, or the heading and an error panel saying what failed.
import { getJson } from '../api.ts';
import { button, errorPanel, h, loading, replace, type Child } from '../dom.ts';

export interface LoadSpec {
  /** The page heading while loading and on failure. */
  title: Child;
  /** What is loading, for "Loading …" and "Could not load …". */
  what: string;
  url: string;
  /** data-ready value once rendered (tests and scripts wait for it). */
  ready: string;
}

/** Loads spec.url into main with render(response); returns the function that aborts the request. */
export function loadView<T>(main: HTMLElement, spec: LoadSpec, render: (res: T) => (Child | Child[])[]): () => void {
  const controller = new AbortController();
  const heading = () => h('h1', {}, spec.title);
  replace(main, heading(), loading(spec.what));
  getJson<T>(spec.url, controller.signal).then(
    (res) => {
      replace(main, ...render(res));
      main.setAttribute('data-ready', spec.ready);
    },
    (err) => {
      if (!controller.signal.aborted) replace(main, heading(), errorPanel(spec.what, err));
    },
  );
  return () => controller.abort();
}

/** The "Compare selected" toolbar of the runs and evaluations lists, with a note beside the button. */
export function compareToolbar(id: string, onCompare: () => void, note: string): HTMLElement {
  return h(
    'p',
    { class: 'toolbar' },
    button('Compare selected', onCompare, { id }),
    h('span', { class: 'muted' }, ` ${note}`),
  );
}
