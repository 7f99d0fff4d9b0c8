// Server-sent events from a fetch() response body, for POST streams (EventSource only does GET): blocks separated by
// a blank line, `event:` naming the type (default "message") and `data:` lines joined by newlines, per the HTML
// standard's event-stream format (https://html.spec.whatwg.org/multipage/server-sent-events.html).

export interface SseEvent {
  event: string;
  data: string;
}

/** Splits off the complete events in buffer; returns them and the unfinished rest. */
export function parseSse(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const normalised = buffer.replace(/\r\n?/g, '\n');
  const blocks = normalised.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

/** Calls onEvent for each event of the response body as it arrives; resolves when the stream ends. */
export async function readSse(body: ReadableStream<Uint8Array>, onEvent: (e: SseEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    buffer += decoder.decode(value, { stream: !done });
    const { events, rest } = parseSse(done ? `${buffer}\n\n` : buffer);
    buffer = rest;
    for (const e of events) onEvent(e);
    if (done) return;
  }
}
