// The OpenAI-compatible HTTP backend (vLLM, SGLang, llama.cpp server, our own server), with node's fetch.
//
// Log-likelihoods come from /v1/completions:
// - `echo` mode (default): `{prompt, echo: true, logprobs: 1, max_tokens: 0}` returns the prompt's tokens with
//   token_logprobs, top_logprobs and text_offset; tokens a server generates anyway (max_tokens ≥ 1 servers) are
//   dropped by the prompt's token count.
// - `prompt_logprobs` mode (vLLM): `{prompt, prompt_logprobs: 1, max_tokens: 1}` returns per prompt position a
//   map token id → {logprob, rank}. Needs a local tokenizer (the ids are matched against the prompt we send).
//
// With a local tokenizer (--tokenizer), requests are tokenised here exactly as the local backend does
// (lm-eval's pair encoding and left truncation) and sent as token-id prompts, so the continuation is the last
// numTokens positions and every count matches the in-process backend. The server must hold the whole prompt, so
// a truncated request keeps maxLength tokens (lm-eval's API models), one context token fewer than the in-process
// model's maxLength + 1; rolling windows are maxLength - 1 long for the same reason. Requests that fit are
// scored identically. Without one, the prompt is sent as text
// (context with its trailing whitespace moved to the continuation, as lm-eval does) and the continuation's span
// is found from the server's text_offset: it starts at the last token that begins at or before the end of the
// context; token counts are the server's.
//
// is_greedy: each continuation token's log-prob is the largest in its top_logprobs (rank 1 for prompt_logprobs).
// Generation: /v1/completions (prompt text) or /v1/chat/completions (the task's messages, else the context as one user message), with the
// stop sequences, then the text is cut before the first stop sequence.
//
// Transport: at most `concurrency` HTTP requests in flight (per backend), each with a deadline that covers the
// whole answer, body included (a server that drips bytes is cut off like one that hangs); 429, 5xx, timeouts and
// network errors are retried with exponential backoff (Retry-After honoured) and a log line per retry giving the
// reason and the wait, other HTTP errors fail at once. After the last retry the error names the URL. A circuit
// breaker stops the whole backend after `maxConsecutiveFailures` connection failures or timeouts in a row (any
// HTTP answer resets it): without it every queued request would wait out its own retries, hours for a dead
// server. Bodies are streamed and refused past `maxResponseBytes` instead of being buffered whole. Results are returned in request order, so nothing depends on
// concurrency or on how the runner batches.
import type { Backend } from '../runner/backend.ts';
import type { Tokenize } from '../tokenization.ts';
import { pyRstrip } from '../../pycompat/pystr.ts';
import type {
  GenerateUntilRequest,
  LoglikelihoodRequest,
  LoglikelihoodResult,
  LoglikelihoodRollingRequest,
  RollingResult,
} from '../types.ts';
import { cutAtStops, encodeRequest, prefixTokenOf, type BackendTokenizer, type TokenPair } from './common.ts';
import { tokenizerFingerprint } from './fingerprint.ts';
import { rollingWindows } from './rolling.ts';

export type LogprobsMode = 'echo' | 'prompt_logprobs';
export type GenerationApi = 'completions' | 'chat';

export interface OpenAIBackendOptions {
  /** server base URL, with or without the trailing /v1 (e.g. http://127.0.0.1:8000) */
  baseUrl: string;
  /** the `model` field sent with every request (the served model's name) */
  model: string;
  /** context length used for truncation with a local tokenizer (default 2048, OLMES) */
  maxLength?: number;
  /** bearer token; default process.env.OPENAI_API_KEY (none: no Authorization header) */
  apiKey?: string;
  /** tokenise locally and send token ids (exact lm-eval token counts); without it the server's counts are used */
  tokenizer?: BackendTokenizer;
  logprobsMode?: LogprobsMode;
  generationApi?: GenerationApi;
  /** HTTP requests in flight at once (default 8) */
  concurrency?: number;
  /** retries after the first attempt on 429/5xx/network errors/timeouts (default 5) */
  maxRetries?: number;
  /** first backoff delay in ms, doubled on every retry, capped at 30 s (default 500) */
  retryBaseMs?: number;
  /** deadline per attempt in ms, from sending the request to the last byte of the answer (default 300 000) */
  timeoutMs?: number;
  /** connection failures or timeouts in a row (across all requests) after which every request fails (default 8) */
  maxConsecutiveFailures?: number;
  /** largest response body accepted, in bytes (default 64 MiB) */
  maxResponseBytes?: number;
  /** max_tokens sent with echo requests (default 0; 1 for servers that refuse 0) */
  echoMaxTokens?: number;
  /** put the BOS token before every context (token mode only) */
  addBosToken?: boolean;
  /** extra identity for the cache key and model_config */
  identity?: Record<string, unknown>;
  /** notes such as retries (default: none) */
  log?: (message: string) => void;
  /** for tests */
  fetch?: typeof fetch;
}

/** The server could not answer (after the retries) or answered something unusable. */
export class OpenAIBackendError extends Error {
  override name = 'OpenAIBackendError';
  /** true when the server gave no usable answer after the retries (or the circuit breaker is open): a pool fails over */
  readonly unreachable: boolean;
  constructor(message: string, opts: { unreachable?: boolean } = {}) {
    super(message);
    this.unreachable = opts.unreachable ?? false;
  }
}

/** `http://h:p`, `http://h:p/`, `http://h:p/v1/` → `http://h:p/v1`. */
export function normalizeBaseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OpenAIBackendError(
      `server URL ${JSON.stringify(url)} is not a valid URL (expected e.g. http://127.0.0.1:8000/v1)`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new OpenAIBackendError(`server URL ${url}: only http and https are supported`);
  let s = u.toString().replace(/\/+$/, '');
  if (!s.endsWith('/v1')) s += '/v1';
  return s;
}

/** A counting semaphore: at most `limit` holders at once. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}
  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpLen = (s: string) => Array.from(s).length;

interface EchoLogprobs {
  tokens?: string[];
  token_logprobs?: (number | null)[];
  top_logprobs?: (Record<string, number> | null)[] | null;
  text_offset?: number[];
}
type PromptLogprob = Record<string, { logprob: number; rank?: number | null; decoded_token?: string }> | null;

interface Span {
  logprobs: number[];
  isGreedy: boolean;
  numTokensAll: number;
}

export class OpenAIBackend implements Backend {
  readonly name: string;
  readonly maxLength: number;
  readonly identity: Record<string, unknown>;
  readonly baseUrl: string;
  readonly concurrency: number;
  private readonly sem: Semaphore;
  private readonly apiKey: string | undefined;
  private readonly tok: BackendTokenizer | undefined;
  private readonly tokenize: Tokenize | undefined;
  private readonly mode: LogprobsMode;
  private readonly genApi: GenerationApi;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private readonly timeoutMs: number;
  private readonly echoMaxTokens: number;
  private readonly addBos: boolean;
  private readonly log: (m: string) => void;
  private readonly fetchFn: typeof fetch;
  private readonly maxConsecutiveFailures: number;
  private readonly maxResponseBytes: number;
  private consecutiveFailures = 0;
  /** set when the circuit breaker trips: every later request fails with it */
  private broken: OpenAIBackendError | null = null;
  private contentIdentity: Promise<Record<string, unknown>> | undefined;
  private readonly extraIdentity: Record<string, unknown> | undefined;

  constructor(opts: OpenAIBackendOptions) {
    this.baseUrl = normalizeBaseUrl(opts.baseUrl);
    if (!opts.model)
      throw new OpenAIBackendError('openai backend: a model name is required (the `model` field the server expects)');
    this.name = opts.model;
    this.maxLength = opts.maxLength ?? 2048;
    this.concurrency = opts.concurrency ?? 8;
    const posInt = (v: number, what: string, min = 1) => {
      if (!Number.isInteger(v) || v < min)
        throw new OpenAIBackendError(`openai backend: ${what} must be an integer ≥ ${min}, got ${v}`);
    };
    posInt(this.maxLength, 'maxLength', 2);
    posInt(this.concurrency, 'concurrency');
    this.maxRetries = opts.maxRetries ?? 5;
    posInt(this.maxRetries, 'maxRetries', 0);
    this.retryBaseMs = opts.retryBaseMs ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 300_000;
    posInt(this.timeoutMs, 'timeoutMs');
    this.maxConsecutiveFailures = opts.maxConsecutiveFailures ?? 8;
    posInt(this.maxConsecutiveFailures, 'maxConsecutiveFailures');
    this.maxResponseBytes = opts.maxResponseBytes ?? 64 << 20;
    posInt(this.maxResponseBytes, 'maxResponseBytes');
    this.extraIdentity = opts.identity;
    this.echoMaxTokens = opts.echoMaxTokens ?? 0;
    this.sem = new Semaphore(this.concurrency);
    this.apiKey = opts.apiKey ?? process.env.OPENAI_API_KEY ?? undefined;
    this.tok = opts.tokenizer;
    this.tokenize = opts.tokenizer ? (t) => opts.tokenizer!.encode(t, { addSpecialTokens: false }) : undefined;
    this.mode = opts.logprobsMode ?? 'echo';
    if (this.mode === 'prompt_logprobs' && !this.tok) {
      throw new OpenAIBackendError(
        'openai backend: prompt_logprobs mode needs a local tokenizer (--tokenizer) to match the returned token ids',
      );
    }
    this.genApi = opts.generationApi ?? 'completions';
    this.addBos = opts.addBosToken ?? false;
    if (this.addBos && (!this.tok || this.tok.bosTokenId === null))
      throw new OpenAIBackendError('openai backend: addBosToken needs a local tokenizer with a BOS token');
    this.log = opts.log ?? (() => {});
    this.fetchFn = opts.fetch ?? fetch;
    this.identity = {
      backend: 'openai',
      tokenizer: this.tok ? this.tok.name : 'server',
      logprobs: this.mode,
      ...(this.addBos ? { add_bos_token: true } : {}),
      ...(opts.identity ?? {}),
    };
  }

  // ---- transport ----

  /** POST JSON with retries; returns the parsed response body. */
  async post(path: string, body: unknown): Promise<unknown> {
    return this.send('POST', path, JSON.stringify(body));
  }

  /** One request with retries, the deadline, the size cap and the circuit breaker; returns the parsed body. */
  private async send(method: 'GET' | 'POST', path: string, payload?: string): Promise<unknown> {
    const url = this.baseUrl + path;
    const headers: Record<string, string> = payload !== undefined ? { 'content-type': 'application/json' } : {};
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let last: string;
    for (let attempt = 0; ; attempt++) {
      let retryAfterMs: number | undefined;
      await this.sem.acquire();
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), this.timeoutMs);
      try {
        if (this.broken) throw this.broken;
        const res = await this.fetchFn(url, { method, headers, body: payload, signal: ctrl.signal });
        const text = await this.readBody(res, url, ctrl);
        this.consecutiveFailures = 0; // the server answered: it is alive
        if (res.ok) {
          try {
            return JSON.parse(text);
          } catch {
            throw new OpenAIBackendError(`${url}: the response is not JSON: ${text.slice(0, 200)}`);
          }
        }
        last = `HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ''}`;
        if (res.status !== 429 && res.status < 500) {
          throw new OpenAIBackendError(`server ${url} rejected the request: ${last}`);
        }
        const ra = res.headers.get('retry-after');
        if (ra !== null && Number.isFinite(Number(ra))) retryAfterMs = Math.min(60_000, Number(ra) * 1000);
      } catch (e) {
        if (e instanceof OpenAIBackendError) throw e;
        const err = e as Error & { cause?: { code?: string; message?: string } };
        last = ctrl.signal.aborted
          ? `no answer within ${this.timeoutMs} ms (the deadline covers the whole response)`
          : `${err.message}${err.cause ? ` (${err.cause.code ?? err.cause.message})` : ''}`;
        this.noteFailure(last);
      } finally {
        clearTimeout(timer);
        this.sem.release();
      }
      if (attempt >= this.maxRetries) {
        throw new OpenAIBackendError(
          `cannot get an answer from the OpenAI-compatible server at ${url}: ${last} (after ${attempt + 1} attempt${attempt ? 's' : ''}). Is the server running, and is the URL right?`,
          { unreachable: true },
        );
      }
      const delay = retryAfterMs ?? Math.min(30_000, this.retryBaseMs * 2 ** attempt);
      const streak =
        this.consecutiveFailures > 0
          ? `; ${this.consecutiveFailures} of ${this.maxConsecutiveFailures} connection failures in a row before giving up`
          : '';
      this.log(`${url}: ${last}; retry ${attempt + 1}/${this.maxRetries} in ${delay} ms${streak}`);
      await sleep(delay);
    }
  }

  /** Counts a connection failure or timeout; trips the circuit breaker at maxConsecutiveFailures. */
  private noteFailure(reason: string): void {
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.maxConsecutiveFailures && !this.broken) {
      this.broken = new OpenAIBackendError(
        `the OpenAI-compatible server at ${this.baseUrl} failed ${this.consecutiveFailures} times in a row (last: ${reason}); stopping instead of retrying every request. ` +
          'Is the server running and answering? (--timeout sets the deadline per attempt, --retries the retries)',
        { unreachable: true },
      );
    }
    if (this.broken) throw this.broken;
  }

  /** The body as text, streamed: refused (and the connection aborted) once it passes maxResponseBytes. */
  private async readBody(res: Response, url: string, ctrl: AbortController): Promise<string> {
    const tooBig = (n: number | string) => {
      ctrl.abort();
      return new OpenAIBackendError(
        `${url}: the response is larger than ${this.maxResponseBytes} bytes (${n}); refusing to buffer it (maxResponseBytes)`,
      );
    };
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > this.maxResponseBytes) throw tooBig(`content-length ${declared}`);
    if (!res.body) return '';
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > this.maxResponseBytes) throw tooBig(`over ${total} bytes read`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * The results depend on the served model, which its name alone does not pin down (a server restarted with other
   * weights under the same name): the entry GET /v1/models reports for it (id, owned_by, root, parent,
   * max_model_len) joins the key. `created` is left out because vLLM stamps it with the time of the listing
   * request. Without a usable /models listing the base URL stands in, with a log line.
   */
  cacheIdentity(): Promise<Record<string, unknown>> {
    this.contentIdentity ??= this.servedModel().then((served) => ({
      backend: 'openai',
      model: this.name,
      server: served ?? { url: this.baseUrl },
      tokenizer: this.tok ? tokenizerFingerprint(this.tok) : 'server',
      logprobs: this.mode,
      generation_api: this.genApi,
      echo_max_tokens: this.echoMaxTokens,
      max_length: this.maxLength,
      add_bos_token: this.addBos,
      ...(this.extraIdentity ? { extra: this.extraIdentity } : {}),
    }));
    return this.contentIdentity;
  }

  private async servedModel(): Promise<Record<string, unknown> | null> {
    let listing: unknown;
    try {
      listing = await this.send('GET', '/models');
    } catch (e) {
      // not every server lists its models; a server that cannot answer this fails on the requests themselves
      this.log(
        `${this.baseUrl}/models: ${(e as Error).message}; the request cache is keyed by the server URL and model name only`,
      );
      return null;
    }
    const data = (listing as { data?: unknown })?.data;
    const entry = Array.isArray(data)
      ? (data as Record<string, unknown>[]).find((m) => m?.id === this.name)
      : undefined;
    if (!entry) {
      this.log(
        `${this.baseUrl}/models does not list ${JSON.stringify(this.name)}; the request cache is keyed by the server URL and model name only`,
      );
      return null;
    }
    const pick: Record<string, unknown> = {};
    for (const k of ['id', 'owned_by', 'root', 'parent', 'max_model_len'])
      if (entry[k] !== undefined) pick[k] = entry[k];
    return pick;
  }

  /** fn over every item, at most `concurrency` HTTP requests in flight; results in order. */
  private async mapAll<T, R>(items: readonly T[], fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
    // post() holds the semaphore; starting every task at once is fine, they queue on it.
    const settled = await Promise.allSettled(items.map((x, i) => fn(x, i)));
    const failed = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
  }

  // ---- log-likelihoods ----

  private where(what: string): string {
    return `${this.baseUrl}/completions (${what})`;
  }

  /** Log-probs of the last `numCont` tokens of a token-id prompt. */
  private async scoreTokens(prompt: number[], numCont: number): Promise<Span> {
    if (this.mode === 'prompt_logprobs') {
      const res = (await this.post('/completions', {
        model: this.name,
        prompt,
        max_tokens: 1,
        temperature: 0,
        prompt_logprobs: 1,
      })) as {
        choices?: { prompt_logprobs?: PromptLogprob[] }[];
      };
      const pl = res?.choices?.[0]?.prompt_logprobs;
      if (!Array.isArray(pl) || pl.length < prompt.length) {
        throw new OpenAIBackendError(
          `${this.where('prompt_logprobs')}: expected prompt_logprobs for ${prompt.length} prompt tokens, got ${Array.isArray(pl) ? pl.length : typeof pl}; does the server support vLLM's prompt_logprobs?`,
        );
      }
      const logprobs: number[] = [];
      let isGreedy = true;
      for (let j = prompt.length - numCont; j < prompt.length; j++) {
        const entry = pl[j];
        const own = entry?.[String(prompt[j])];
        if (!entry || !own || typeof own.logprob !== 'number')
          throw new OpenAIBackendError(
            `${this.where('prompt_logprobs')}: no log-prob for prompt token ${prompt[j]} at position ${j}`,
          );
        logprobs.push(own.logprob);
        const best = Math.max(...Object.values(entry).map((v) => v.logprob));
        if (own.rank != null ? own.rank !== 1 : own.logprob < best) isGreedy = false;
      }
      return { logprobs, isGreedy, numTokensAll: prompt.length };
    }
    const lp = await this.echo(prompt);
    const n = prompt.length;
    const tl = lp.token_logprobs ?? [];
    if (tl.length < n)
      throw new OpenAIBackendError(
        `${this.where('echo')}: expected log-probs for ${n} prompt tokens, got ${tl.length}`,
      );
    return this.span(lp, n - numCont, n, 'echo');
  }

  private async echo(prompt: number[] | string): Promise<EchoLogprobs & { promptTokens?: number }> {
    const res = (await this.post('/completions', {
      model: this.name,
      prompt,
      max_tokens: this.echoMaxTokens,
      temperature: 0,
      echo: true,
      logprobs: 1,
    })) as {
      choices?: { logprobs?: EchoLogprobs | null }[];
      usage?: { prompt_tokens?: number };
    };
    const lp = res?.choices?.[0]?.logprobs;
    if (!lp || !Array.isArray(lp.token_logprobs)) {
      throw new OpenAIBackendError(
        `${this.where('echo')}: the response has no choices[0].logprobs.token_logprobs; the server must support echo with logprobs (vLLM, llama.cpp) — or use --logprobs prompt_logprobs`,
      );
    }
    return { ...lp, promptTokens: res.usage?.prompt_tokens };
  }

  /** Sum and greediness of positions [start, end) of echoed log-probs. */
  private span(lp: EchoLogprobs, start: number, end: number, what: string): Span {
    const tl = lp.token_logprobs ?? [];
    const top = lp.top_logprobs ?? [];
    const logprobs: number[] = [];
    let isGreedy = true;
    for (let j = start; j < end; j++) {
      const v = tl[j];
      if (typeof v !== 'number')
        throw new OpenAIBackendError(`${this.where(what)}: prompt token ${j} has no log-prob (${JSON.stringify(v)})`);
      logprobs.push(v);
      const t = top[j];
      if (!t || typeof t !== 'object')
        throw new OpenAIBackendError(
          `${this.where(what)}: prompt token ${j} has no top_logprobs (needed for is_greedy)`,
        );
      if (v < Math.max(...Object.values(t))) isGreedy = false;
    }
    return { logprobs, isGreedy, numTokensAll: end };
  }

  /** Text mode: the whole string is sent; the continuation starts at the last token beginning at or before the context's end. */
  private async scoreText(req: LoglikelihoodRequest): Promise<LoglikelihoodResult> {
    if (req.context === '') {
      throw new OpenAIBackendError(
        `openai backend: a request with an empty context needs a local tokenizer (--tokenizer) for the prefix token; continuation ${JSON.stringify(req.continuation)}`,
      );
    }
    const ctx = pyRstrip(req.context);
    const cont = req.context.slice(ctx.length) + req.continuation;
    const prompt = ctx + cont;
    const lp = await this.echo(prompt);
    const offsets = lp.text_offset;
    const tl = lp.token_logprobs ?? [];
    if (!Array.isArray(offsets) || offsets.length !== tl.length) {
      throw new OpenAIBackendError(
        `${this.where('echo')}: text mode needs text_offset for every token (or pass --tokenizer to send token ids)`,
      );
    }
    const promptLen = cpLen(prompt);
    let n = offsets.findIndex((o) => o >= promptLen);
    if (n < 0) n = offsets.length;
    if (lp.promptTokens !== undefined && lp.promptTokens <= offsets.length) n = lp.promptTokens;
    const boundary = cpLen(ctx);
    let start = 0;
    for (let i = 0; i < n; i++) if (offsets[i] <= boundary) start = i;
    if (start >= n)
      throw new OpenAIBackendError(
        `${this.where('echo')}: no token of the continuation ${JSON.stringify(req.continuation)} in the echoed prompt`,
      );
    if (start === 0) {
      throw new OpenAIBackendError(
        `${this.where('echo')}: the continuation starts at the prompt's first token, which has no log-prob; pass --tokenizer so the prefix token can be sent`,
      );
    }
    const s = this.span(lp, start, n, 'echo');
    return { logprob: sum(s.logprobs), isGreedy: s.isGreedy, numTokens: n - start, numTokensAll: n };
  }

  private encode(req: LoglikelihoodRequest): TokenPair {
    const tok = this.tok!;
    // The server must hold the whole prompt, the scored last token included, in its maxLength positions: keep the
    // last maxLength tokens (lm-eval's API models do the same), one context token fewer than the in-process
    // model sees when a request is truncated.
    return encodeRequest(
      req,
      this.tokenize!,
      prefixTokenOf(tok),
      this.maxLength - 1,
      this.addBos ? (tok.bosTokenId as number) : undefined,
    );
  }

  async loglikelihood(requests: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    return this.mapAll(requests, async (req) => {
      if (!this.tok) return this.scoreText(req);
      const p = this.encode(req);
      const s = await this.scoreTokens([...p.context, ...p.continuation], p.continuation.length);
      return {
        logprob: sum(s.logprobs),
        isGreedy: s.isGreedy,
        numTokens: p.continuation.length,
        numTokensAll: s.numTokensAll,
      };
    });
  }

  async loglikelihoodRolling(requests: LoglikelihoodRollingRequest[]): Promise<RollingResult[]> {
    if (!this.tok)
      throw new OpenAIBackendError(
        'openai backend: loglikelihood_rolling needs a local tokenizer (--tokenizer) to cut the text into windows',
      );
    const prefix = prefixTokenOf(this.tok);
    // windows of maxLength - 1 predictions, so that each whole window (its context token included) fits the server
    const windows = requests.map((r) => rollingWindows(this.tokenize!(r.context), prefix, this.maxLength - 1));
    const flat = windows.flat();
    const scored = await this.mapAll(flat, (w) =>
      this.scoreTokens([...w.context, ...w.continuation], w.continuation.length),
    );
    let k = 0;
    return windows.map((ws) => {
      let logprob = 0;
      let numTokens = 0;
      for (const w of ws) {
        logprob += sum(scored[k++].logprobs);
        numTokens += w.continuation.length;
      }
      return { logprob, numTokens };
    });
  }

  // ---- generation ----

  async generateUntil(requests: GenerateUntilRequest[]): Promise<string[]> {
    return this.mapAll(requests, async (req) => {
      const kw = req.generation_kwargs;
      const stops = kw.stop_sequences ?? [];
      const sampling = {
        max_tokens: kw.max_gen_toks,
        temperature: kw.do_sample ? kw.temperature : 0,
        ...(kw.do_sample && kw.top_p !== undefined ? { top_p: kw.top_p } : {}),
        ...(stops.length > 0 ? { stop: stops } : {}),
      };
      let text: unknown;
      if (this.genApi === 'chat') {
        const res = (await this.post('/chat/completions', {
          model: this.name,
          messages: req.messages ?? [{ role: 'user', content: req.context }],
          ...sampling,
        })) as {
          choices?: { message?: { content?: unknown } }[];
        };
        text = res?.choices?.[0]?.message?.content;
      } else {
        let prompt: string | number[] = req.context;
        if (this.tok) {
          // lm-eval: keep the last max_length - max_gen_toks context tokens
          const ids = this.tokenize!(req.context);
          const room = this.maxLength - kw.max_gen_toks;
          if (room < 1)
            throw new OpenAIBackendError(
              `generate_until: max_gen_toks ${kw.max_gen_toks} leaves no room for the context in max length ${this.maxLength}`,
            );
          if (ids.length > room) prompt = ids.slice(-room);
        }
        const res = (await this.post('/completions', { model: this.name, prompt, ...sampling })) as {
          choices?: { text?: unknown }[];
        };
        text = res?.choices?.[0]?.text;
      }
      if (typeof text !== 'string')
        throw new OpenAIBackendError(
          `${this.baseUrl}/${this.genApi === 'chat' ? 'chat/completions' : 'completions'}: the response has no generated text`,
        );
      return cutAtStops(text, stops);
    });
  }
}

/** Left-to-right float64 sum (the same order as the in-process backend). */
function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
