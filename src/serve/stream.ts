// Replies shared by the generation routes: server-sent events (`data: {...}` lines, `data: [DONE]` at the end,
// as the OpenAI API streams), cancelling a request's sequences when its client goes away, and waiting for a
// request's choices.
import type { FastifyReply } from 'fastify';
import type { ChoiceRun, Engine } from './engine.ts';
import type { TokenLogprob } from './logprobs.ts';
import { ApiError } from './protocol.ts';

export class SseStream {
  private readonly raw: FastifyReply['raw'];

  constructor(
    reply: FastifyReply,
    private readonly onEnd: () => void,
  ) {
    reply.hijack();
    this.raw = reply.raw;
    this.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
  }

  get open(): boolean {
    return !this.raw.destroyed && !this.raw.writableEnded;
  }

  send(obj: unknown): void {
    if (this.open) this.raw.write(`data: ${JSON.stringify(obj)}\n\n`);
  }

  end(): void {
    if (this.open) this.raw.end('data: [DONE]\n\n');
    this.onEnd();
  }
}

/** Cancels the runs when the client closes the connection before the reply is complete (their slots are freed). */
export function cancelOnDisconnect(reply: FastifyReply, runs: ChoiceRun[]): void {
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) for (const r of runs) r.seq?.cancel();
  });
}

/** Waits for every run; a run the scheduler aborted with an error becomes a 500. */
export async function settle(runs: ChoiceRun[]): Promise<void> {
  await Promise.all(runs.map((r) => r.done));
  const failed = runs.find((r) => r.error);
  if (failed) throw new ApiError(500, `generation failed: ${failed.error!.message}`, null, 'server_error');
}

export function usage(runs: ChoiceRun[], promptTokens: number) {
  const completion = runs.reduce((n, r) => n + (r.seq?.generated ?? 0), 0);
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
}

/**
 * The chunks of a stream; with stream_options.include_usage, streamRuns ends each chunk of `first` and `chunk` with
 * `usage: null`, as the OpenAI API does.
 */
export interface StreamFormat {
  /** Sent for each run before its tokens (the chat API's role chunk). */
  first?: (run: ChoiceRun) => object;
  /**
   * A run's next piece of text with its token's log-prob, or its end (finish set; the log-prob is the stop token's,
   * if any). Called for a token with no text to release only when it has a log-prob or `eager(run)` holds.
   */
  chunk: (run: ChoiceRun, delta: string, finish: string | null, lp: TokenLogprob | null) => object;
  /** Whether a run's next chunk goes out even with no text (an echoed prompt waiting to be sent). */
  eager?: (run: ChoiceRun) => boolean;
  /** The last chunk, with usage (stream_options.include_usage). */
  final: (u: ReturnType<typeof usage>) => unknown;
}

/** Streams every run's deltas and closes the stream once all have ended (usage last if asked). */
export function streamRuns(
  engine: Engine,
  reply: FastifyReply,
  runs: ChoiceRun[],
  route: string,
  format: StreamFormat,
  promptTokens: number,
  includeUsage: boolean | null | undefined,
): void {
  const { first, final, eager } = format;
  const chunk: StreamFormat['chunk'] = includeUsage
    ? (...args) => ({ ...format.chunk(...args), usage: null })
    : format.chunk;
  const sse = new SseStream(reply, () => engine.metrics.countRequest(route, 200));
  if (first) for (const run of runs) sse.send(includeUsage ? { ...first(run), usage: null } : first(run));
  let open = runs.length;
  for (const run of runs) {
    run.onDelta = (delta, lp) => {
      if (delta !== '' || lp || eager?.(run)) sse.send(chunk(run, delta, null, lp));
    };
    run.onEnd = (rest, lp) => {
      sse.send(chunk(run, rest, run.finishReason, lp));
      if (--open === 0) {
        if (includeUsage) sse.send(final(usage(runs, promptTokens)));
        sse.end();
      }
    };
  }
}
