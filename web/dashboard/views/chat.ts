// #/chat: the chat playground. Messages go to POST /api/chat (the dashboard relays them to --openai URL or to the
// --model loaded in-process) and the reply streams back token by token; each token is tinted by its probability
// (a heat map of the log-probs) and tells its log-prob and the top alternatives on hover or keyboard focus.
import type {
  ChatChunk,
  ChatErrorEvent,
  ChatMessage,
  ChatRenderResponse,
  ChatRequest,
  RootsResponse,
  TokenLogprob,
} from '../../../src/dashboard/api-types.ts';
import { errorMessage, postJson } from '../api.ts';
import { button, h, replace } from '../dom.ts';
import { readSse } from '../sse.ts';

/** Background for a token of probability p: red when unlikely through yellow to green when near certain. */
export function heatColor(logprob: number): string {
  const p = Math.min(1, Math.max(0, Math.exp(logprob)));
  return `hsl(${Math.round(120 * p)}, 85%, 85%)`;
}

function tokenInfo(t: TokenLogprob): string {
  const alts = t.top_logprobs.map((a) => `${JSON.stringify(a.token)} ${a.logprob.toFixed(3)}`).join(', ');
  return `${JSON.stringify(t.token)}: log-prob ${t.logprob.toFixed(3)} (p ${Math.exp(t.logprob).toFixed(3)})${alts ? `; top: ${alts}` : ''}`;
}

function tokenSpan(t: TokenLogprob, info: HTMLElement): HTMLElement {
  const describe = () => (info.textContent = tokenInfo(t));
  return h(
    'span',
    {
      class: 'tok',
      tabindex: 0,
      'data-logprob': String(t.logprob),
      title: tokenInfo(t),
      style: `background:${heatColor(t.logprob)}`,
      onmouseenter: describe,
      onfocus: describe,
    },
    t.token,
  );
}

interface Controls {
  system: HTMLTextAreaElement;
  temperature: HTMLInputElement;
  topP: HTMLInputElement;
  maxTokens: HTMLInputElement;
  seed: HTMLInputElement;
}

function numberInput(id: string, value: string, attrs: Record<string, string | number>): HTMLInputElement {
  return h('input', { id, type: 'number', value, ...attrs });
}

function controlsForm(c: Controls): HTMLElement {
  const field = (label: string, input: HTMLElement) =>
    h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
  return h(
    'fieldset',
    { class: 'controls' },
    h('legend', {}, 'Sampling'),
    field('System prompt', c.system),
    field('Temperature', c.temperature),
    field('top_p', c.topP),
    field('max_tokens', c.maxTokens),
    field('Seed', c.seed),
  );
}

/** The request for the conversation so far, with the controls' values (empty number fields left out). */
function request(c: Controls, history: ChatMessage[]): ChatRequest {
  const num = (i: HTMLInputElement) => (i.value.trim() === '' ? undefined : Number(i.value));
  const system = c.system.value.trim();
  return {
    messages: system ? [{ role: 'system', content: system }, ...history] : history,
    temperature: num(c.temperature),
    top_p: num(c.topP),
    max_tokens: num(c.maxTokens),
    seed: num(c.seed),
    top_logprobs: 5,
  };
}

/** Streams one reply into `reply`; resolves with its text. */
async function streamReply(body: ChatRequest, reply: HTMLElement, info: HTMLElement, signal: AbortSignal) {
  const res = await fetch('/api/chat', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok || !res.body) {
    const err: unknown = await res.json().catch(() => null);
    throw new Error(`POST /api/chat: HTTP ${res.status}${errorMessage(err) ? ` — ${errorMessage(err)}` : ''}`);
  }
  let text = '';
  let failure: string | null = null;
  await readSse(res.body, (e) => {
    if (e.event === 'error') {
      failure = (JSON.parse(e.data) as ChatErrorEvent).message;
      return;
    }
    if (e.data === '[DONE]') return;
    const chunk = JSON.parse(e.data) as ChatChunk;
    for (const choice of chunk.choices) {
      const content = choice.delta.content ?? '';
      text += content;
      const tokens = choice.logprobs?.content ?? null;
      if (tokens && tokens.length > 0) reply.append(...tokens.map((t) => tokenSpan(t, info)));
      else if (content) reply.append(h('span', { class: 'tok plain' }, content));
      if (choice.finish_reason) reply.setAttribute('data-finish', choice.finish_reason);
    }
  });
  if (failure !== null) throw new Error(failure);
  return text;
}

function backendLine(roots: RootsResponse): HTMLElement {
  const c = roots.chat;
  if (c.kind === 'none')
    return h(
      'p',
      { class: 'error', role: 'alert' },
      'No model to chat with: start the dashboard with --model FOLDER or --openai URL (for example an `olmo serve`).',
    );
  return h(
    'p',
    { class: 'muted' },
    `Backend: ${c.kind === 'openai' ? 'OpenAI-compatible' : 'in-process'} `,
    h('code', {}, c.target ?? ''),
    c.model ? ` · model ${c.model}` : '',
  );
}

export function chatView(main: HTMLElement, _route: unknown, roots: RootsResponse): () => void {
  const c: Controls = {
    system: h('textarea', { id: 'chat-system', rows: 2, placeholder: 'optional' }),
    temperature: numberInput('chat-temperature', '0.7', { min: 0, max: 2, step: 0.1 }),
    topP: numberInput('chat-top-p', '1', { min: 0, max: 1, step: 0.05 }),
    maxTokens: numberInput('chat-max-tokens', '64', { min: 1, max: 4096, step: 1 }),
    seed: numberInput('chat-seed', '', { step: 1, placeholder: 'random' }),
  };
  const history: ChatMessage[] = [];
  const log = h('div', { class: 'messages', id: 'chat-log', 'aria-live': 'polite' });
  const info = h(
    'p',
    { class: 'token-info muted', id: 'token-info', 'aria-live': 'polite' },
    'Hover or focus a token to see its log-prob.',
  );
  const template = h('pre', { id: 'chat-template', class: 'json' });
  const input = h('textarea', {
    id: 'chat-input',
    rows: 3,
    placeholder: 'Message (Enter sends, Shift+Enter: new line)',
    'aria-label': 'message',
  });
  let controller: AbortController | null = null;
  const stop = button('Stop', () => controller?.abort(), { id: 'chat-stop', disabled: true });

  const renderTemplate = async (body: ChatRequest) => {
    try {
      const r = await postJson<ChatRenderResponse>('/api/chat/render', body);
      template.textContent = r.available ? (r.text ?? '') : `Not available: ${r.reason ?? 'no tokenizer known'}`;
    } catch (err) {
      template.textContent = `Not available: ${err instanceof Error ? err.message : String(err)}`;
    }
  };

  const send = async () => {
    const content = input.value.trim();
    if (content === '' || controller) return;
    input.value = '';
    history.push({ role: 'user', content });
    log.append(
      h('div', { class: 'msg user' }, h('span', { class: 'role' }, 'user'), h('div', { class: 'text' }, content)),
    );
    const reply = h('div', { class: 'text reply', 'data-streaming': '1' });
    log.append(h('div', { class: 'msg assistant' }, h('span', { class: 'role' }, 'assistant'), reply));
    const body = request(c, history);
    void renderTemplate(body);
    controller = new AbortController();
    stop.disabled = false;
    try {
      history.push({ role: 'assistant', content: await streamReply(body, reply, info, controller.signal) });
    } catch (err) {
      history.pop();
      reply.append(
        h(
          'span',
          { class: 'error', role: 'alert' },
          controller.signal.aborted ? ' [stopped]' : ` ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    } finally {
      reply.removeAttribute('data-streaming');
      reply.setAttribute('data-done', '1');
      controller = null;
      stop.disabled = true;
      input.focus();
    }
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void send();
    }
  });

  replace(
    main,
    h('h1', {}, 'Chat'),
    backendLine(roots),
    h(
      'div',
      { class: 'chat' },
      h(
        'div',
        { class: 'chat-main' },
        log,
        h(
          'div',
          { class: 'composer' },
          input,
          button('Send', () => void send(), { id: 'chat-send', disabled: roots.chat.kind === 'none' }),
          stop,
        ),
        info,
        h(
          'p',
          { class: 'legend small' },
          'Token colour: ',
          h('span', { class: 'tok', style: `background:${heatColor(Math.log(0.05))}` }, 'p 0.05'),
          ' ',
          h('span', { class: 'tok', style: `background:${heatColor(Math.log(0.5))}` }, 'p 0.5'),
          ' ',
          h('span', { class: 'tok', style: `background:${heatColor(0)}` }, 'p 1'),
        ),
      ),
      h(
        'aside',
        { class: 'chat-side' },
        controlsForm(c),
        h('details', { open: roots.chat.canRender }, h('summary', {}, 'Chat template as rendered'), template),
      ),
    ),
  );
  main.setAttribute('data-ready', 'chat');
  return () => controller?.abort();
}
