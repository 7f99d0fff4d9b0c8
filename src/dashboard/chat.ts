// The chat playground's backend: POST /api/chat relays an OpenAI-compatible endpoint's streamed
// chat.completion.chunk objects (with logprobs and top_logprobs) to the page unchanged. The endpoint is either
// --openai URL, or `olmo serve` of --model started in this process on a loopback port — the same app and engine,
// so the playground shows what a served model answers. The rendered chat template comes from the in-process engine,
// or from the endpoint's /tokenize and /detokenize routes (olmo serve and vLLM have them) when it has them.
import type { FastifyReply } from 'fastify';
import { startServer, type RunningServer, type ServeOptions } from '../serve/index.ts';
import type { ChatBackendInfo, ChatRenderResponse, ChatRequest } from './api-types.ts';
import { HttpError } from './paths.ts';

export type ChatOption = { openai: string } | { serve: ServeOptions } | null;

export class ChatBackend {
  private model: string | null = null;

  private constructor(
    readonly kind: ChatBackendInfo['kind'],
    /** Base URL ending in /v1 (or the given --openai URL). */
    private readonly baseUrl: string | null,
    readonly target: string | null,
    private readonly server: RunningServer | null,
  ) {}

  static async start(opt: ChatOption): Promise<ChatBackend> {
    if (opt === null) return new ChatBackend('none', null, null, null);
    if ('openai' in opt) return new ChatBackend('openai', opt.openai.replace(/\/+$/, ''), opt.openai, null);
    const server = await startServer({ ...opt.serve, host: '127.0.0.1', port: 0, log: opt.serve.log ?? (() => {}) });
    return new ChatBackend('model', `${server.url}/v1`, opt.serve.root ?? server.engine.name, server);
  }

  async info(): Promise<ChatBackendInfo> {
    return {
      kind: this.kind,
      target: this.target,
      model: this.kind === 'none' ? null : await this.modelName().catch(() => null),
      canRender: this.server !== null || this.kind === 'openai',
    };
  }

  /** The served model's name (GET /models, asked once). */
  private async modelName(): Promise<string> {
    if (this.server) return this.server.engine.name;
    if (this.model !== null) return this.model;
    const res = await fetch(`${this.baseUrl}/models`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { data?: { id?: unknown }[] };
    const id = body.data?.[0]?.id;
    if (typeof id !== 'string') throw new Error(`${this.baseUrl}/models lists no model`);
    return (this.model = id);
  }

  /** The model name for a request: a backend that cannot say is a 502 naming it. */
  private async servedModel(): Promise<string> {
    try {
      return await this.modelName();
    } catch (err) {
      throw new HttpError(
        502,
        `the chat backend ${this.baseUrl} did not name its model (GET /models): ${(err as Error).message}`,
      );
    }
  }

  /** Streams the completion to `reply` as server-sent events; stops the upstream request when the page goes away. */
  async relay(body: ChatRequest, reply: FastifyReply): Promise<void> {
    if (this.kind === 'none' || this.baseUrl === null)
      throw new HttpError(409, 'no chat backend: start the dashboard with --model DIR or --openai URL');
    const abort = new AbortController();
    reply.raw.on('close', () => abort.abort());
    const upstream = await this.post(
      '/chat/completions',
      this.completionBody(body, await this.servedModel()),
      abort.signal,
    );
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    if (!upstream.ok || !upstream.body) {
      const text = await upstream.text().catch(() => '');
      reply.raw.end(sseError(`the chat backend answered ${upstream.status}: ${errorMessage(text)}`));
      return;
    }
    try {
      for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) reply.raw.write(chunk);
    } catch (err) {
      if (!abort.signal.aborted)
        reply.raw.write(sseError(`the chat backend's stream broke: ${(err as Error).message}`));
    }
    reply.raw.end();
  }

  private completionBody(body: ChatRequest, model: string): object {
    return {
      model,
      messages: body.messages,
      stream: true,
      logprobs: true,
      top_logprobs: body.top_logprobs ?? 5,
      ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
      ...(body.top_p !== undefined ? { top_p: body.top_p } : {}),
      ...(body.max_tokens !== undefined ? { max_tokens: body.max_tokens } : {}),
      ...(body.seed !== undefined ? { seed: body.seed } : {}),
    };
  }

  private async post(path: string, body: object, signal?: AbortSignal, root = false): Promise<Response> {
    const base = root ? this.baseUrl!.replace(/\/v1$/, '') : this.baseUrl!;
    try {
      return await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer none' },
        body: JSON.stringify(body),
        signal,
      });
    } catch (err) {
      throw new HttpError(502, `the chat backend ${base} cannot be reached: ${(err as Error).message}`);
    }
  }

  async render(body: ChatRequest): Promise<ChatRenderResponse> {
    const none = (reason: string): ChatRenderResponse => ({ available: false, text: null, tokens: null, reason });
    if (this.server) {
      const e = this.server.engine;
      const ids = e.renderChat(
        body.messages.map((m) => ({ ...m })),
        true,
      );
      return {
        available: true,
        text: e.tok.decode(ids, { skipSpecialTokens: false }),
        tokens: ids.length,
        reason: null,
      };
    }
    if (this.kind !== 'openai') return none('no chat backend: start the dashboard with --model DIR or --openai URL');
    const model = await this.modelName().catch(() => null);
    const tok = await this.post(
      '/tokenize',
      { model, messages: body.messages, add_generation_prompt: true },
      undefined,
      true,
    );
    if (!tok.ok) return none(`the endpoint has no /tokenize for chat messages (it answered ${tok.status})`);
    const { tokens } = (await tok.json()) as { tokens: number[] };
    const detok = await this.post('/detokenize', { model, tokens }, undefined, true);
    if (!detok.ok) return none(`the endpoint has no /detokenize (it answered ${detok.status})`);
    const { prompt } = (await detok.json()) as { prompt: string };
    return { available: true, text: prompt, tokens: tokens.length, reason: null };
  }

  async close(): Promise<void> {
    await this.server?.close(1000);
  }
}

function sseError(message: string): string {
  return `event: error\ndata: ${JSON.stringify({ message })}\n\n`;
}

function errorMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON: show the text itself
  }
  return text.slice(0, 300) || '(empty body)';
}
