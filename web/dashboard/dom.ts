// Small DOM helpers instead of a view library: h() builds an element from a tag, attributes and children, and text
// always goes in as text nodes, so nothing read from a run folder can ever be parsed as HTML.

export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/**
 * Creates `<tag>` with attributes and children. `on*` attributes given a function become event listeners; `false`,
 * null and undefined attributes are left out; `true` sets a boolean attribute.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

/** Appends children, skipping null/undefined/false and flattening arrays. */
export function append(parent: Node, ...children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? text(String(child)) : child);
  }
}

export function text(value: string): Text {
  return document.createTextNode(value);
}

/** Replaces every child of el. */
export function replace(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/** A problem badge: malformed or missing data is shown where it is, never hidden and never fatal. */
export function problemBadge(problem: string): HTMLElement {
  return h('span', { class: 'badge problem', title: problem, role: 'note' }, '⚠ ', problem);
}

export function problemList(problems: readonly string[]): HTMLElement | null {
  if (problems.length === 0) return null;
  return h('ul', { class: 'problems', 'aria-label': 'problems' }, ...problems.map((p) => h('li', {}, problemBadge(p))));
}

/** A status/kind pill. */
export function pill(label: string, kind = label): HTMLElement {
  return h('span', { class: `pill pill-${kind.replace(/[^a-z0-9-]/gi, '')}` }, label);
}

/** A table from a header row and body rows; cells may be nodes. Numeric cells get class "num". */
export function table(head: readonly string[], rows: readonly Child[][], attrs: Attrs = {}): HTMLTableElement {
  return h(
    'table',
    attrs,
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', typeof c === 'number' ? { class: 'num' } : {}, c)))),
    ),
  );
}

/** A definition list of label → value pairs (config and state summaries). */
export function facts(pairs: readonly [string, Child][]): HTMLElement {
  return h('dl', { class: 'facts' }, ...pairs.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v ?? '—'))));
}

/** A button that runs onClick on click and, being a <button>, on Enter and Space too. */
export function button(label: string, onClick: () => void, attrs: Attrs = {}): HTMLButtonElement {
  return h('button', { type: 'button', ...attrs, onclick: () => onClick() }, label);
}

/** A link inside the app (hash routing). */
export function link(href: string, label: Child, attrs: Attrs = {}): HTMLAnchorElement {
  return h('a', { href, ...attrs }, label);
}

/** An error panel for a failed request: the page stays usable and says what failed. */
export function errorPanel(what: string, err: unknown): HTMLElement {
  const message = err instanceof Error ? err.message : String(err);
  return h('div', { class: 'error', role: 'alert' }, h('strong', {}, `Could not load ${what}: `), message);
}

export function loading(what: string): HTMLElement {
  return h('p', { class: 'muted', 'aria-busy': 'true' }, `Loading ${what}…`);
}
