// The log-prob heat map of a chat reply: each token tinted by how likely the model found it, its log-prob and the
// top alternatives in its tooltip and, on hover or keyboard focus, in an info line the page shows (a tooltip alone
// is out of reach of the keyboard).
import type { TokenLogprob } from '../../src/dashboard/api-types.ts';
import { h } from './dom.ts';

/** Log-probs at or below this are fully red; the colour is linear in the log-prob from here to 0 (green). */
const HEAT_FLOOR = -8;

/**
 * Background for a token: red for unlikely, yellow at half the floor (log-prob -4, p ≈ 0.02), green near certain.
 * Linear in the log-prob rather than the probability, so the spread among a small model's unlikely tokens shows.
 */
export function heatColor(logprob: number): string {
  const t = Math.min(1, Math.max(0, 1 - logprob / HEAT_FLOOR));
  return `hsl(${Math.round(120 * t)}, 85%, 85%)`;
}

export function tokenInfo(t: TokenLogprob): string {
  const alts = t.top_logprobs.map((a) => `${JSON.stringify(a.token)} ${a.logprob.toFixed(3)}`).join(', ');
  const p = Math.exp(t.logprob).toFixed(3);
  return `${JSON.stringify(t.token)}: log-prob ${t.logprob.toFixed(3)} (p ${p})${alts ? `; top: ${alts}` : ''}`;
}

/** A focusable token of the reply; hovering or focusing it writes its details into `info`. */
export function tokenSpan(t: TokenLogprob, info: HTMLElement): HTMLElement {
  const describe = () => (info.textContent = tokenInfo(t));
  return tinted(
    h(
      'span',
      {
        class: 'tok',
        tabindex: 0,
        'data-logprob': String(t.logprob),
        title: tokenInfo(t),
        onmouseenter: describe,
        onfocus: describe,
      },
      t.token,
    ),
    t.logprob,
  );
}

/**
 * Sets the background through the CSSOM rather than a style attribute, which a Content Security Policy without
 * 'unsafe-inline' in style-src would refuse.
 */
function tinted(el: HTMLElement, logprob: number): HTMLElement {
  el.style.background = heatColor(logprob);
  return el;
}

/** The colour key: three swatches along the scale. */
export function heatLegend(): HTMLElement {
  const swatch = (lp: number) => tinted(h('span', { class: 'tok' }, `log-prob ${lp}`), lp);
  return h(
    'p',
    { class: 'legend small' },
    'Token colour: ',
    swatch(HEAT_FLOOR),
    ' ',
    swatch(HEAT_FLOOR / 2),
    ' ',
    swatch(0),
  );
}
