// #/chat: the chat playground. Messages go to POST /api/chat (the dashboard relays them to --openai URL or to the
// --model loaded in-process) and the reply streams back token by token; each token is tinted by its probability
// (a heat map of the log-probs) and tells its log-prob and the top alternatives on hover or keyboard focus.
import type { ChatMessage, ChatRenderResponse, ChatRequest, RootsResponse } from '../../../src/dashboard/api-types.ts';
import { postJson } from '../api.ts';
import { streamReply } from '../chat-stream.ts';
import { button, h, replace } from '../dom.ts';
import { heatLegend } from '../heat.ts';

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

/** The message box: Enter sends, Shift+Enter starts a new line. */
function composerInput(send: () => void): HTMLTextAreaElement {
  const input = h('textarea', {
    id: 'chat-input',
    rows: 3,
    placeholder: 'Message (Enter sends, Shift+Enter: new line)',
    'aria-label': 'message',
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  return input;
}

function message(role: string, body: HTMLElement | string): HTMLElement {
  return h(
    'div',
    { class: `msg ${role}` },
    h('span', { class: 'role' }, role),
    typeof body === 'string' ? h('div', { class: 'text' }, body) : body,
  );
}

/** The playground's state: the conversation, the request in flight, and the elements it updates. */
class Playground {
  readonly history: ChatMessage[] = [];
  readonly log = h('div', { class: 'messages', id: 'chat-log', 'aria-live': 'polite' });
  readonly info = h(
    'p',
    { class: 'token-info muted', id: 'token-info', 'aria-live': 'polite' },
    'Hover or focus a token to see its log-prob.',
  );
  readonly template = h('pre', { id: 'chat-template', class: 'json' });
  readonly input = composerInput(() => void this.send());
  readonly stop = button('Stop', () => this.controller?.abort(), { id: 'chat-stop', disabled: true });
  controller: AbortController | null = null;

  constructor(readonly controls: Controls) {}

  async renderTemplate(body: ChatRequest): Promise<void> {
    try {
      const r = await postJson<ChatRenderResponse>('/api/chat/render', body);
      this.template.textContent = r.available ? (r.text ?? '') : `Not available: ${r.reason ?? 'no tokenizer known'}`;
    } catch (err) {
      this.template.textContent = `Not available: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  async send(): Promise<void> {
    const content = this.input.value.trim();
    if (content === '' || this.controller) return;
    this.input.value = '';
    this.history.push({ role: 'user', content });
    const reply = h('div', { class: 'text reply', 'data-streaming': '1' });
    this.log.append(message('user', content), message('assistant', reply));
    const body = request(this.controls, this.history);
    void this.renderTemplate(body);
    const controller = (this.controller = new AbortController());
    this.stop.disabled = false;
    try {
      this.history.push({ role: 'assistant', content: await streamReply(body, reply, this.info, controller.signal) });
    } catch (err) {
      this.history.pop();
      const why = controller.signal.aborted ? '[stopped]' : err instanceof Error ? err.message : String(err);
      reply.append(h('span', { class: 'error', role: 'alert' }, ` ${why}`));
    } finally {
      reply.removeAttribute('data-streaming');
      reply.setAttribute('data-done', '1');
      this.controller = null;
      this.stop.disabled = true;
      this.input.focus();
    }
  }
}

export function chatView(main: HTMLElement, _route: unknown, roots: RootsResponse): () => void {
  const p = new Playground({
    system: h('textarea', { id: 'chat-system', rows: 2, placeholder: 'optional' }),
    temperature: numberInput('chat-temperature', '0.7', { min: 0, max: 2, step: 0.1 }),
    topP: numberInput('chat-top-p', '1', { min: 0, max: 1, step: 0.05 }),
    maxTokens: numberInput('chat-max-tokens', '64', { min: 1, max: 4096, step: 1 }),
    seed: numberInput('chat-seed', '', { step: 1, placeholder: 'random' }),
  });
  const send = button('Send', () => void p.send(), { id: 'chat-send', disabled: roots.chat.kind === 'none' });
  const side = h(
    'aside',
    { class: 'chat-side' },
    controlsForm(p.controls),
    h('details', { open: roots.chat.canRender }, h('summary', {}, 'Chat template as rendered'), p.template),
  );
  const chat = h(
    'div',
    { class: 'chat-main' },
    p.log,
    h('div', { class: 'composer' }, p.input, send, p.stop),
    p.info,
    heatLegend(),
  );
  replace(main, h('h1', {}, 'Chat'), backendLine(roots), h('div', { class: 'chat' }, chat, side));
  main.setAttribute('data-ready', 'chat');
  return () => p.controller?.abort();
}
