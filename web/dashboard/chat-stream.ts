// One chat reply from POST /api/chat: the server-sent chat.completion.chunk objects read as they arrive, each
// chunk's tokens appended to the reply at once (with their log-probs when the backend sent them).
import type { ChatChunk, ChatErrorEvent, ChatRequest } from '../../src/dashboard/api-types.ts';
import { httpError } from './api.ts';
import { h } from './dom.ts';
import { tokenSpan } from './heat.ts';
import { readSse } from './sse.ts';

/** Streams one reply into `reply` (token details go to `info`); resolves with its text. */
export async function streamReply(
  body: ChatRequest,
  reply: HTMLElement,
  info: HTMLElement,
  signal: AbortSignal,
): Promise<string> {
  const res = await fetch('/api/chat', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok || !res.body) throw httpError('POST', '/api/chat', res.status, await res.json().catch(() => null));
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
