// A small server-sent-events reader for the dashboard tests: raw HTTP (no URL normalisation) and fetch streams.
import { request } from 'node:http';

export interface SseEvent {
  event: string;
  data: string;
  id: string | null;
}

/** Reads an event stream; `next()` waits for the next event (rejecting after `timeoutMs`). */
export class SseReader {
  private queue: SseEvent[] = [];
  private waiters: ((e: SseEvent) => void)[] = [];
  private buffer = '';
  private readonly abort = new AbortController();
  readonly done: Promise<void>;

  constructor(url: string, init: RequestInit = {}) {
    this.done = (async () => {
      const res = await fetch(url, { ...init, signal: this.abort.signal });
      if (!res.body) throw new Error(`${url}: no body (status ${res.status})`);
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          this.feed(decoder.decode(chunk, { stream: true }));
      } catch (err) {
        if (!this.abort.signal.aborted) throw err;
      }
    })();
    this.done.catch(() => {});
  }

  private feed(text: string): void {
    this.buffer += text;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      let id: string | null = null;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length === 0) continue; // a comment (keep-alive)
      const e = { event, data: data.join('\n'), id };
      const w = this.waiters.shift();
      if (w) w(e);
      else this.queue.push(e);
    }
  }

  next(timeoutMs = 2000): Promise<SseEvent> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== take);
        reject(new Error(`no server-sent event within ${timeoutMs} ms`));
      }, timeoutMs);
      const take = (e: SseEvent) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push(take);
    });
  }

  /** Every event until the stream ends. */
  async rest(): Promise<SseEvent[]> {
    await this.done;
    return this.queue.splice(0);
  }

  close(): void {
    this.abort.abort();
  }
}

/** GET with the path sent exactly as given (fetch would resolve `..` and `%2e%2e` before sending). */
export function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
