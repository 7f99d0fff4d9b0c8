// The dashboard's HTTP server (fastify, as `olmo serve`): the JSON API of api-types.ts over the folders under the
// roots, the live metrics stream, the chat relay, read-only file serving with strict path checks, and the bundled
// web app. It never writes into the folders. Every error is an ApiErrorBody with a status; a malformed file is a
// problem inside a 200 answer, never a 500.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { isLoopback } from '../serve/index.ts';
import { packageInfo, packageRoot } from '../io/package-info.ts';
import type { ApiErrorBody, ChatRequest, MetricsResponse, RootsResponse } from './api-types.ts';
import { ChatBackend, type ChatOption } from './chat.ts';
import { DashboardData, type DataOptions } from './context.ts';
import { evalDetail, listEvals } from './evals.ts';
import { compareEvals, evalInstances } from './instances.ts';
import { numericKeys } from './metrics-lines.ts';
import { listModels, listQuickstarts } from './models.ts';
import { decodeId, HttpError, resolveInside } from './paths.ts';
import { historyFile, listRuns, readHistory, rowSteps, runDetail } from './runs.ts';
import { isDirectory } from './scan.ts';
import { MetricsFollower, type FollowEvent } from './watch.ts';

export interface DashboardOptions extends DataOptions {
  /** Folders to look in (default: the current folder). */
  roots?: string[];
  host?: string;
  /** 0 picks a free port (default 8100). */
  port?: number;
  /** The bundled web app (default <package root>/dist/dashboard-app; dist/dashboard holds the compiled server). */
  assetsDir?: string;
  chat?: ChatOption;
  /** Poll period of the live metrics stream in milliseconds (default 500). */
  pollMs?: number;
  log?: (line: string) => void;
}

export interface RunningDashboard {
  app: FastifyInstance;
  url: string;
  port: number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.yaml': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

/** Streams a file (checkpoints can be large); `shown` is the path the 404 names. */
function sendFile(reply: FastifyReply, abs: string, shown: string): FastifyReply {
  const st = statSync(abs);
  if (!st.isFile()) throw new HttpError(404, `${shown} is a folder, not a file`);
  return reply
    .type(TYPES[extname(abs).toLowerCase()] ?? 'application/octet-stream')
    .header('content-length', st.size)
    .header('x-content-type-options', 'nosniff')
    .send(createReadStream(abs));
}

const MISSING_BUNDLE = (dir: string) =>
  `<!doctype html><meta charset="utf-8"><title>olmo dashboard</title><h1>The dashboard's web app is not built</h1><p>No index.html in <code>${dir.replace(/[<&>]/g, '')}</code>. Run <code>npm run build</code> in the olmo-ts package (it bundles the web app with esbuild), then reload.</p><p>The JSON API is up: <a href="/api/runs">/api/runs</a>, <a href="/api/evals">/api/evals</a>, <a href="/api/models">/api/models</a>.</p>`;

function errorBody(status: number, message: string): ApiErrorBody {
  return { error: { status, message } };
}

function intParam(v: unknown, name: string, dflt: number, max: number): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new HttpError(400, `query parameter ${name}: expected an integer in [0, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

function openEvents(reply: FastifyReply): (event: string, data: { lines: number }) => void {
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  reply.raw.write(': connected\n\n');
  // the id is the count of lines sent: EventSource sends it back as Last-Event-ID when it reconnects
  return (event, data) => {
    if (!reply.raw.destroyed) reply.raw.write(`event: ${event}\nid: ${data.lines}\ndata: ${JSON.stringify(data)}\n\n`);
  };
}

function registerApi(app: FastifyInstance, data: DashboardData, chat: ChatBackend, opts: DashboardOptions): void {
  app.get('/api/roots', async (): Promise<RootsResponse> => ({
    roots: data.roots.map((path, index) => ({ index, path, exists: isDirectory(path) })),
    chat: await chat.info(),
    version: packageInfo().version,
  }));
  app.get('/api/runs', async () => ({ runs: listRuns(data), runningWindowSeconds: data.runningWindowSeconds }));
  app.get<{ Params: { id: string } }>('/api/runs/:id', async (req) => runDetail(data, req.params.id));
  app.get<{ Params: { id: string } }>('/api/runs/:id/metrics', async (req): Promise<MetricsResponse> => {
    const { abs } = data.folder(req.params.id, 'runs');
    const h = readHistory(historyFile(abs));
    const rows = h?.rows ?? [];
    return {
      id: req.params.id,
      rows,
      problems: h?.problems ?? [],
      lines: h?.lines ?? 0,
      numericKeys: numericKeys(rows),
    };
  });
  app.get<{ Params: { id: string }; Querystring: { from?: string } }>('/api/runs/:id/events', (req, reply) => {
    const { abs } = data.folder(req.params.id, 'runs');
    // a reconnecting EventSource resumes after the last event it received, not at the `from` of its first request
    const resume = req.headers['last-event-id'] ?? req.query.from;
    const from = resume === undefined ? null : intParam(resume, 'from', 0, Number.MAX_SAFE_INTEGER);
    const send = openEvents(reply);
    const file = historyFile(abs);
    const follower = new MetricsFollower(file, (e: FollowEvent) => send(e.event, e.data), {
      fromLines: from,
      pollMs: opts.pollMs,
      fixRows: rowSteps(file),
    });
    const keepAlive = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000);
    reply.raw.on('close', () => {
      clearInterval(keepAlive);
      follower.close();
    });
    follower.start();
  });
  app.get('/api/evals', async () => ({ evals: listEvals(data) }));
  app.get<{ Params: { id: string } }>('/api/evals/:id', async (req) => evalDetail(data, req.params.id));
  app.get<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>(
    '/api/evals/:id/instances',
    async (req) => {
      const q = req.query;
      if (!q.task) throw new HttpError(400, 'instances: the query parameter task=ALIAS is required');
      return evalInstances(data, req.params.id, {
        task: q.task,
        wrongOnly: q.wrong === '1' || q.wrong === 'true',
        offset: intParam(q.offset, 'offset', 0, 1e9),
        limit: intParam(q.limit, 'limit', 50, 1000),
      });
    },
  );
  app.get<{ Querystring: { ids?: string; task?: string } }>('/api/compare', async (req) =>
    compareEvals(data, (req.query.ids ?? '').split(',').filter(Boolean), req.query.task ?? null),
  );
  app.get('/api/models', async () => ({ models: listModels(data) }));
  app.get('/api/quickstarts', async () => ({ quickstarts: listQuickstarts(data) }));
  app.post<{ Body: ChatRequest }>('/api/chat', { schema: { body: CHAT_SCHEMA } }, (req, reply) =>
    chat.relay(req.body, reply),
  );
  app.post<{ Body: ChatRequest }>('/api/chat/render', { schema: { body: CHAT_SCHEMA } }, async (req) =>
    chat.render(req.body),
  );
}

const CHAT_SCHEMA = {
  type: 'object',
  required: ['messages'],
  properties: {
    messages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['role', 'content'],
        properties: { role: { enum: ['system', 'user', 'assistant'] }, content: { type: 'string' } },
      },
    },
    temperature: { type: 'number', minimum: 0, maximum: 2 },
    top_p: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    max_tokens: { type: 'integer', minimum: 1 },
    seed: { type: 'integer' },
    top_logprobs: { type: 'integer', minimum: 0, maximum: 20 },
  },
};

function registerFiles(app: FastifyInstance, data: DashboardData, assetsDir: string): void {
  app.get<{ Params: { id: string; '*': string } }>('/files/:id/*', async (req, reply) => {
    const ref = decodeId(req.params.id, data.roots.length);
    const rel = [ref.rel, req.params['*']].filter((s) => s !== '').join('/');
    return sendFile(reply, resolveInside(data.roots[ref.root], rel, `file ${req.params['*']}`), rel);
  });
  app.get<{ Params: { '*': string } }>('/assets/*', async (req, reply) => {
    if (!existsSync(assetsDir))
      throw new HttpError(404, `the web app is not built (no ${assetsDir}): run npm run build`);
    return sendFile(reply, resolveInside(assetsDir, req.params['*'], 'asset'), req.params['*']);
  });
  app.get('/', async (_req, reply) => {
    const index = join(assetsDir, 'index.html');
    if (existsSync(index)) return sendFile(reply, index, 'index.html');
    return reply.type('text/html; charset=utf-8').send(MISSING_BUNDLE(assetsDir));
  });
}

export async function startDashboard(opts: DashboardOptions = {}): Promise<RunningDashboard> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (!isLoopback(host))
    log(
      `WARNING: olmo dashboard is listening on ${host}, reachable from other machines: anyone who can reach it can read every file under ${(opts.roots ?? ['.']).join(', ')} and use the chat backend. Bind 127.0.0.1 unless you mean it.`,
    );
  const data = new DashboardData(opts.roots ?? ['.'], opts);
  const chat = await ChatBackend.start(opts.chat ?? null);
  const app = Fastify({ bodyLimit: 1024 * 1024, forceCloseConnections: true });
  app.setErrorHandler((err: FastifyError | HttpError, _req, reply) => {
    const fe = err as FastifyError;
    const status = err instanceof HttpError ? err.status : fe.validation ? 400 : (fe.statusCode ?? 500);
    const message = fe.validation ? `invalid request body: ${err.message}` : err.message;
    return reply.code(status).send(errorBody(status, message));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody(404, `no route ${req.method} ${req.url}`)));
  registerApi(app, data, chat, opts);
  registerFiles(app, data, opts.assetsDir ?? join(packageRoot(), 'dist', 'dashboard-app'));
  await app.listen({ host, port: opts.port ?? 8100 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 8100);
  let closing: Promise<void> | null = null;
  return {
    app,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await chat.close();
      })()),
  };
}
