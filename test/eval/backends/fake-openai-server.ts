// A loopback OpenAI-compatible server for the backend tests: /v1/completions (echo + logprobs, vLLM's
// prompt_logprobs, greedy generation) and /v1/chat/completions, answered with real log-probs from an olmo-ts model
// in this process. It listens on 127.0.0.1 port 0, serves at most `maxRequests` requests, closes itself after
// `idleMs` without traffic, and never keeps the process alive. Faults can be injected per request.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generate, type CausalLM } from '../../../src/models/index.ts';
import { kernels, noGrad, tensor, tidy } from '../../../src/tensor/index.ts';
import type { Tokenizer } from '../../../src/tokenizers/index.ts';

export type Fault = number | 'drop' | 'hang';

export interface FakeServerOptions {
  model: CausalLM;
  tokenizer: Tokenizer;
  /** the model name the server accepts (default "fake-model") */
  modelName?: string;
  /** fault for the n-th request (0-based): an HTTP status to answer with, 'drop' (destroy the socket) or 'hang' */
  fault?: (n: number) => Fault | undefined;
  /** answer each request after this many ms (lets concurrency show) */
  delayMs?: number;
  maxRequests?: number;
  idleMs?: number;
  /** required bearer token, if any */
  apiKey?: string;
}

export interface FakeServer {
  url: string;
  port: number;
  stats: {
    requests: number;
    inFlight: number;
    maxInFlight: number;
    bodies: Record<string, unknown>[];
    authorization: (string | undefined)[];
  };
  close(): Promise<void>;
}

interface Scored {
  ids: number[];
  /** log-prob of ids[j] given ids[:j] (null for j = 0) */
  logprobs: (number | null)[];
  /** argmax id and its log-prob at the row predicting ids[j] (null for j = 0); last entry: after the last token */
  top: ({ id: number; logprob: number } | null)[];
}

/** One forward pass over the whole prompt; log-softmax per row as the scorer does. */
function scoreAll(model: CausalLM, ids: number[]): Scored {
  const rows = noGrad(() =>
    tidy(() => {
      const { logits } = model.forward(tensor(Int32Array.from(ids), [1, ids.length], 'i32'));
      const v = logits.shape[2];
      const d = logits.f32();
      return ids.map((_, j) => d.slice(j * v, (j + 1) * v));
    }),
  );
  const logprobs: (number | null)[] = [null];
  const top: ({ id: number; logprob: number } | null)[] = [null];
  const k = kernels();
  rows.forEach((row, j) => {
    const lsm = new Float32Array(row.length);
    k.logSoftmax(row, lsm, 1, row.length);
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    if (j + 1 < ids.length) logprobs.push(lsm[ids[j + 1]]);
    top.push({ id: best, logprob: lsm[best] });
  });
  return { ids, logprobs, top };
}

export async function startFakeOpenAIServer(opts: FakeServerOptions): Promise<FakeServer> {
  const { model, tokenizer: tok } = opts;
  const modelName = opts.modelName ?? 'fake-model';
  const maxRequests = opts.maxRequests ?? 10_000;
  const idleMs = opts.idleMs ?? 60_000;
  const stats: FakeServer['stats'] = { requests: 0, inFlight: 0, maxInFlight: 0, bodies: [], authorization: [] };
  const cp = (s: string) => Array.from(s).length;
  // ids past the tokenizer (checkpoints pad their embedding rows) have no text; vLLM shows them as ''
  const tokStr = (id: number) => (id < tok.vocabSize ? tok.decode([id]) : `<extra_id_${id}>`);

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, message: string) =>
    send(res, status, { error: { message, type: 'invalid_request_error', code: status } });

  const completions = (body: Record<string, unknown>): [number, unknown] => {
    const prompt = body.prompt;
    let ids: number[];
    if (typeof prompt === 'string') ids = tok.encode(prompt, { addSpecialTokens: false });
    else if (Array.isArray(prompt) && prompt.every((x) => Number.isInteger(x))) ids = prompt as number[];
    else return [400, 'prompt must be a string or a list of token ids'];
    if (ids.length === 0) return [400, 'empty prompt'];
    if (ids.length > model.config.maxPositionEmbeddings)
      return [400, `prompt of ${ids.length} tokens exceeds the context length ${model.config.maxPositionEmbeddings}`];
    const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : 16;
    const usage = (c: number) => ({ prompt_tokens: ids.length, completion_tokens: c, total_tokens: ids.length + c });
    if (body.echo === true && body.logprobs != null) {
      const s = scoreAll(model, ids);
      const tokens = ids.map(tokStr);
      const text_offset = ids.map((_, j) => cp(tok.decode(ids.slice(0, j))));
      const token_logprobs = [...s.logprobs];
      const top_logprobs: (Record<string, number> | null)[] = s.top
        .slice(0, ids.length)
        .map((t, j) => (t === null ? null : { [tokStr(t.id)]: t.logprob, [tokens[j]]: s.logprobs[j] as number }));
      // a server that cannot do max_tokens 0 generates one token; the client must drop it
      if (maxTokens > 0) {
        const last = s.top[ids.length]!;
        tokens.push(tokStr(last.id));
        token_logprobs.push(last.logprob);
        top_logprobs.push({ [tokStr(last.id)]: last.logprob });
        text_offset.push(cp(tok.decode(ids)));
      }
      const text = tokens.join('');
      return [
        200,
        {
          id: 'cmpl-fake',
          object: 'text_completion',
          model: modelName,
          choices: [
            {
              index: 0,
              text,
              logprobs: { tokens, token_logprobs, top_logprobs, text_offset },
              finish_reason: 'length',
            },
          ],
          usage: usage(maxTokens > 0 ? 1 : 0),
        },
      ];
    }
    if (body.prompt_logprobs != null) {
      const s = scoreAll(model, ids);
      const prompt_logprobs = ids.map((id, j) => {
        if (j === 0) return null;
        const t = s.top[j]!;
        const own = s.logprobs[j] as number;
        return {
          [String(id)]: { logprob: own, rank: t.id === id ? 1 : 2, decoded_token: tokStr(id) },
          [String(t.id)]: { logprob: t.logprob, rank: 1, decoded_token: tokStr(t.id) },
        };
      });
      return [
        200,
        {
          id: 'cmpl-fake',
          object: 'text_completion',
          model: modelName,
          choices: [{ index: 0, text: tokStr(s.top[ids.length]!.id), prompt_logprobs, finish_reason: 'length' }],
          usage: usage(1),
        },
      ];
    }
    return [
      200,
      {
        id: 'cmpl-fake',
        object: 'text_completion',
        model: modelName,
        choices: [{ index: 0, text: gen(ids, body, maxTokens), finish_reason: 'stop' }],
        usage: usage(0),
      },
    ];
  };

  const gen = (ids: number[], body: Record<string, unknown>, maxTokens: number): string => {
    const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? (body.stop as string[]) : [];
    const r = generate(model, [ids.slice(-(model.config.maxPositionEmbeddings - maxTokens))], {
      maxNewTokens: maxTokens,
      temperature: 0,
      stop,
      decode: (x) => tok.decode(x, { skipSpecialTokens: true }),
      eosTokenIds: tok.eosTokenId !== null ? [tok.eosTokenId] : undefined,
      vocabLimit: tok.vocabSize,
    });
    return r.texts[0];
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    // vLLM's listing: the served model's identity (the evaluation cache keys by it)
    if (req.method === 'GET' && req.url === '/v1/models') {
      return send(res, 200, {
        object: 'list',
        data: [
          {
            id: modelName,
            object: 'model',
            created: Math.floor(Date.now() / 1000),
            owned_by: 'olmo-ts-test',
            root: modelName,
            max_model_len: model.config.maxPositionEmbeddings,
          },
        ],
      });
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw);
    } catch {
      return error(res, 400, 'body is not JSON');
    }
    stats.bodies.push(body);
    if (body.model !== modelName) return error(res, 404, `model ${JSON.stringify(body.model)} does not exist`);
    try {
      if (req.url === '/v1/completions') {
        const [status, out] = completions(body);
        return status === 200 ? send(res, 200, out) : error(res, status, String(out));
      }
      if (req.url === '/v1/chat/completions') {
        const messages = body.messages as { content: string }[];
        const ids = tok.encode(messages.map((m) => m.content).join('\n'), { addSpecialTokens: false });
        const text = gen(ids, body, typeof body.max_tokens === 'number' ? body.max_tokens : 16);
        return send(res, 200, {
          id: 'chat-fake',
          object: 'chat.completion',
          model: modelName,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        });
      }
      return error(res, 404, `no route ${req.url}`);
    } catch (e) {
      return error(res, 500, (e as Error).message);
    }
  };

  let idleTimer: NodeJS.Timeout | undefined;
  const server = createServer((req, res) => {
    const n = stats.requests++;
    stats.authorization.push(req.headers.authorization);
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.on('close', () => stats.inFlight--);
    resetIdle();
    if (n >= maxRequests) {
      error(res, 503, 'fake server: request budget used up');
      return;
    }
    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      error(res, 401, 'bad api key');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fault = opts.fault?.(n);
      const respond = () => {
        if (fault === 'drop') return req.socket.destroy();
        if (fault === 'hang') return;
        if (typeof fault === 'number') return error(res, fault, `injected ${fault}`);
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      };
      if (opts.delayMs) setTimeout(respond, opts.delayMs);
      else respond();
    });
  });
  const close = () =>
    new Promise<void>((resolve) => {
      if (idleTimer) clearTimeout(idleTimer);
      server.closeAllConnections();
      server.close(() => resolve());
    });
  function resetIdle() {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => void close(), idleMs);
    idleTimer.unref();
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  resetIdle();
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, stats, close };
}
