// The HTTP server (fastify: schema-validated bodies, a body size limit, graceful close): the OpenAI routes as vLLM
// serves them, tokenize/detokenize, health and Prometheus metrics, an optional bearer key, and every error as
// OpenAI's error object so clients show its message.
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { chatCompletions } from './chat.ts';
import { completions } from './completions.ts';
import { Engine, type EngineOptions } from './engine.ts';
import {
  ApiError,
  chatSchema,
  completionSchema,
  detokenizeSchema,
  tokenizeSchema,
  type DetokenizeBody,
  type TokenizeBody,
} from './protocol.ts';

export interface ServeOptions extends EngineOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Required as `Authorization: Bearer KEY` on every route but /health and /metrics. */
  apiKey?: string;
  /** Largest request body in bytes (default 8 MiB). */
  bodyLimit?: number;
  /** Where warnings go (default stderr). */
  log?: (line: string) => void;
}

export interface RunningServer {
  app: FastifyInstance;
  engine: Engine;
  /** http://host:port */
  url: string;
  port: number;
  /**
   * Stops accepting requests, lets running ones finish for up to `graceMs`, aborts the rest (their streams end
   * with finish_reason "abort"), closes every connection and frees the KV cache.
   */
  close(graceMs?: number): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
}

function keyMatches(header: string | undefined, key: string): boolean {
  const given = Buffer.from(header ?? '');
  const want = Buffer.from(`Bearer ${key}`);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Turns whatever a route threw (validation, body size, our ApiErrors) into OpenAI's error object. */
function toApiError(err: FastifyError | ApiError | Error): ApiError {
  if (err instanceof ApiError) return err;
  const fe = err as FastifyError;
  if (fe.validation) {
    const v = fe.validation[0];
    const path = (v?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    const param = path || (v?.params as { missingProperty?: string } | undefined)?.missingProperty || null;
    return new ApiError(
      400,
      `invalid request body: ${param ?? 'body'} ${v?.message ?? fe.message}`,
      param,
      'invalid_value',
    );
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new ApiError(
      413,
      `the request body is larger than the server's limit: ${fe.message}`,
      null,
      'body_too_large',
    );
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500)
    return new ApiError(fe.statusCode, fe.message, null, fe.code ?? null);
  return new ApiError(500, `internal error: ${err.message}`, null, 'server_error');
}

/** The API: health, metrics, models, completions, chat, tokenize/detokenize. */
function registerRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/health', async () => ({}));
  app.get('/metrics', async (_req, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    const { numWaiting: waiting, numRunning: running, reusedTokens } = engine.scheduler;
    return engine.metrics.render({ waiting, running, reusedTokens });
  });
  app.get('/v1/models', async () => ({
    object: 'list',
    data: [
      {
        id: engine.name,
        object: 'model',
        created: engine.created,
        owned_by: 'olmo-ts',
        root: engine.root,
        parent: null,
        max_model_len: engine.maxModelLen,
      },
    ],
  }));
  app.post('/v1/completions', { schema: { body: completionSchema } }, (req, reply) => completions(engine, req, reply));
  app.post('/v1/chat/completions', { schema: { body: chatSchema } }, (req, reply) =>
    chatCompletions(engine, req, reply),
  );
  app.post('/tokenize', { schema: { body: tokenizeSchema } }, async (req) => {
    const body = req.body as TokenizeBody;
    engine.checkModel(body.model);
    const tokens = body.messages
      ? engine.renderChat(body.messages, body.add_generation_prompt ?? true)
      : engine.tok.encode(body.prompt ?? '', { addSpecialTokens: body.add_special_tokens ?? true });
    return { count: tokens.length, max_model_len: engine.maxModelLen, tokens };
  });
  app.post('/detokenize', { schema: { body: detokenizeSchema } }, async (req) => {
    const body = req.body as DetokenizeBody;
    engine.checkModel(body.model);
    const bad = body.tokens.find((t) => t >= engine.tok.vocabSize);
    if (bad !== undefined)
      throw new ApiError(
        400,
        `token id ${bad} is outside the tokenizer's vocabulary [0, ${engine.tok.vocabSize})`,
        'tokens',
        'invalid_value',
      );
    return { prompt: engine.tok.decode(body.tokens, { skipSpecialTokens: false }) };
  });
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (!isLoopback(host) && opts.apiKey === undefined) {
    log(
      `WARNING: olmo serve is listening on ${host}, reachable from other machines, with no API key: anyone who can reach it can use the model. Pass --api-key KEY or bind 127.0.0.1.`,
    );
  }
  const engine = new Engine(opts);
  const app = Fastify({
    bodyLimit: opts.bodyLimit ?? 8 * 1024 * 1024,
    forceCloseConnections: 'idle',
    // strict JSON types: "5" is not a number; unknown fields are kept (clients send extras such as `user`)
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
  });
  let draining = false;

  app.addHook('onRequest', async (req, reply) => {
    if (draining) {
      reply.header('connection', 'close');
      throw new ApiError(503, 'the server is shutting down', null, 'server_shutting_down');
    }
    const open = req.url === '/health' || req.url === '/metrics';
    if (opts.apiKey !== undefined && !open && !keyMatches(req.headers.authorization, opts.apiKey)) {
      throw new ApiError(
        401,
        'missing or wrong API key: send the header "Authorization: Bearer <key>"',
        null,
        'invalid_api_key',
      );
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    engine.metrics.countRequest(req.routeOptions.url ?? 'unmatched', reply.statusCode);
  });
  app.setErrorHandler((err: FastifyError | ApiError, _req, reply) => {
    const e = toApiError(err);
    if (e.status === 429) reply.header('retry-after', '1');
    return reply.code(e.status).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError(404, `no route ${req.method} ${req.url}`, null, 'not_found');
    return reply.code(404).send(e.body());
  });

  registerRoutes(app, engine);

  await app.listen({ host, port: opts.port ?? 8000 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 8000);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    app,
    engine,
    url: `http://${shownHost}:${port}`,
    port,
    close(graceMs = 30_000) {
      closing ??= (async () => {
        draining = true;
        const closed = app.close();
        let timer: NodeJS.Timeout | undefined;
        const graceOver = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
        if ((await Promise.race([engine.scheduler.idle(), graceOver])) === 'timeout') engine.scheduler.abortAll();
        clearTimeout(timer);
        await engine.scheduler.idle();
        // every reply has been written; a connection still open after a moment is one a client left half-open
        // (an aborted stream) and would hold the close for its keep-alive time
        const lingering = setTimeout(() => app.server.closeAllConnections(), 500);
        await closed;
        clearTimeout(lingering);
        engine.scheduler.dispose();
      })();
      return closing;
    },
  };
}
