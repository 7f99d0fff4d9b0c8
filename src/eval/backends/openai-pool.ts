// Several OpenAI-compatible endpoints serving one model (vLLM replicas, several `olmo serve` processes) as one
// backend: each request goes to the healthy endpoint with the fewest requests in flight, at most `concurrency` per
// endpoint, through one OpenAIBackend per endpoint (its retries, deadline, size cap and circuit breaker).
//
// Failover: when an endpoint gives no usable answer after its retries, or its circuit breaker opens, it is taken
// out and the request goes to another endpoint; the evaluation fails only when every endpoint is out. A downed
// endpoint is probed again (GET /v1/models) after a back-off that doubles up to a minute, and re-admitted, with a
// fresh backend (its circuit breaker closed), once it answers and reports the same served model (a replica that
// restarted); one that answers with another model stays out. Other errors (a request the server rejects, an answer that cannot be read) fail the run as with
// one endpoint: another replica of the same model would answer the same.
//
// Results are identical to one endpoint: every request is scored whole by one replica and results are returned in
// request order. The cache identity must not depend on which replica answered, so every endpoint must report the
// same served model from GET /v1/models (see OpenAIBackend.cacheIdentity); otherwise the pool refuses to run.
import type { Backend } from '../runner/backend.ts';
import type * as req from '../types.ts';
import { OpenAIBackend, OpenAIBackendError, type OpenAIBackendOptions } from './openai.ts';

export interface OpenAIPoolOptions extends Omit<OpenAIBackendOptions, 'baseUrl'> {
  /** one base URL per endpoint (at least one); `concurrency` applies to each */
  baseUrls: string[];
  /** wait before the first probe of a downed endpoint, in ms (default 1000; doubled after each failed probe) */
  reprobeMs?: number;
}

const MAX_REPROBE_MS = 60_000;

interface Endpoint {
  backend: OpenAIBackend;
  inFlight: number;
  /** why the endpoint was taken out; null while it is healthy */
  down: string | null;
}

export class OpenAIPool implements Backend {
  readonly name: string;
  readonly maxLength: number;
  readonly identity: Record<string, unknown>;
  private readonly eps: Endpoint[];
  private readonly backendOpts: Omit<OpenAIBackendOptions, 'baseUrl'>;
  private readonly reprobeMs: number;
  private readonly waiting: (() => void)[] = [];
  private readonly log: (m: string) => void;
  private verified: Promise<Record<string, unknown>> | undefined;

  constructor(opts: OpenAIPoolOptions) {
    const { baseUrls, reprobeMs, ...rest } = opts;
    if (baseUrls.length === 0) throw new OpenAIBackendError('openai pool: at least one endpoint URL is required');
    this.backendOpts = rest;
    this.reprobeMs = reprobeMs ?? 1000;
    if (!(this.reprobeMs > 0))
      throw new OpenAIBackendError(`openai pool: reprobeMs must be a positive number of ms, got ${reprobeMs}`);
    const backends = baseUrls.map((baseUrl) => new OpenAIBackend({ ...rest, baseUrl }));
    const urls = backends.map((b) => b.baseUrl);
    const dup = urls.find((u, i) => urls.indexOf(u) !== i);
    if (dup !== undefined) throw new OpenAIBackendError(`openai pool: endpoint ${dup} is given more than once`);
    this.eps = backends.map((backend) => ({ backend, inFlight: 0, down: null }));
    const first = backends[0];
    this.name = first.name;
    this.maxLength = first.maxLength;
    this.identity = first.identity;
    this.log = opts.log ?? (() => {});
  }

  /** One backend per endpoint (a re-admitted endpoint's is a new one). */
  get endpoints(): readonly OpenAIBackend[] {
    return this.eps.map((e) => e.backend);
  }

  /** The endpoints' common cache identity; refuses endpoints that report different served models. */
  cacheIdentity(): Promise<Record<string, unknown>> {
    this.verified ??= Promise.all(this.endpoints.map((b) => b.cacheIdentity())).then((ids) => {
      const keys = ids.map((id) => JSON.stringify(id));
      if (keys.every((k) => k === keys[0])) return ids[0];
      const lines = this.endpoints.map((b, i) => `  ${b.baseUrl}: ${JSON.stringify(ids[i].server)}`).join('\n');
      throw new OpenAIBackendError(
        `the --openai endpoints do not report the same model ${JSON.stringify(this.name)} in GET /v1/models, so their ` +
          `results could differ and could not share the request cache:\n${lines}\n` +
          '(an entry {"url": ...} means the endpoint did not list the model: unreachable, or serving another model)',
      );
    });
    return this.verified;
  }

  /** The healthy endpoint with a free slot and the fewest requests in flight; waits for one; throws when all are out. */
  private async acquire(): Promise<Endpoint> {
    for (;;) {
      const healthy = this.eps.filter((e) => e.down === null);
      if (healthy.length === 0) {
        const why = this.eps.map((e) => `  ${e.backend.baseUrl}: ${e.down}`).join('\n');
        throw new OpenAIBackendError(`every --openai endpoint stopped answering:\n${why}`, { unreachable: true });
      }
      const free = healthy.filter((e) => e.inFlight < e.backend.concurrency);
      if (free.length > 0) {
        const best = free.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
        best.inFlight++;
        return best;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** Probes a downed endpoint after `waitMs`; re-admits it when it is back with the same model, else waits longer. */
  private probeLater(ep: Endpoint, waitMs: number): void {
    const timer = setTimeout(() => {
      this.probe(ep).then(
        (verdict) => {
          if (verdict === 'back') {
            ep.down = null;
            this.log(`${ep.backend.baseUrl}: answers again with the same model; back in the pool`);
            for (const wake of this.waiting.splice(0)) wake();
          } else if (verdict === 'down') this.probeLater(ep, Math.min(MAX_REPROBE_MS, waitMs * 2));
          else this.log(`${ep.backend.baseUrl}: answers again but ${verdict}; it stays out of the pool`);
        },
        () => this.probeLater(ep, Math.min(MAX_REPROBE_MS, waitMs * 2)),
      );
    }, waitMs);
    timer.unref(); // a pending probe never keeps the process alive
  }

  /** 'back' (the endpoint's backend replaced by a fresh one), 'down', or why it answers but may not come back. */
  private async probe(ep: Endpoint): Promise<string> {
    const url = ep.backend.baseUrl;
    const apiKey = this.backendOpts.apiKey ?? process.env.OPENAI_API_KEY;
    const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
    const res = await (this.backendOpts.fetch ?? fetch)(`${url}/models`, {
      headers,
      signal: AbortSignal.timeout(Math.min(this.backendOpts.timeoutMs ?? 10_000, 10_000)),
    });
    await res.arrayBuffer();
    if (!res.ok) return 'down';
    const fresh = new OpenAIBackend({ ...this.backendOpts, baseUrl: url });
    const [want, got] = await Promise.all([this.cacheIdentity(), fresh.cacheIdentity()]);
    if (JSON.stringify(got) !== JSON.stringify(want))
      return `reports another model in GET /v1/models (${JSON.stringify(got.server)})`;
    ep.backend = fresh;
    return 'back';
  }

  private release(ep: Endpoint): void {
    ep.inFlight--;
    // every waiter re-checks: a freed slot or an endpoint taken out (all out → they fail) concerns them all
    for (const wake of this.waiting.splice(0)) wake();
  }

  /** One request on some endpoint, moved to another when its endpoint stops answering. */
  private async one<R>(fn: (b: OpenAIBackend) => Promise<R>): Promise<R> {
    for (;;) {
      const ep = await this.acquire();
      const backend = ep.backend;
      try {
        return await fn(backend);
      } catch (e) {
        if (!(e instanceof OpenAIBackendError && e.unreachable)) throw e;
        // a request begun before the endpoint went down and came back does not take the new backend out
        if (ep.down === null && ep.backend === backend) {
          ep.down = e.message;
          const left = this.eps.filter((x) => x.down === null).length;
          this.log(`${ep.backend.baseUrl}: taken out of the pool (${e.message}); ${left} endpoint(s) left`);
          this.probeLater(ep, this.reprobeMs);
        }
      } finally {
        this.release(ep);
      }
    }
  }

  /** fn over every request, each on one endpoint; results in request order. */
  private async spread<T, R>(items: readonly T[], fn: (b: OpenAIBackend, item: T) => Promise<R>): Promise<R[]> {
    await this.cacheIdentity();
    const settled = await Promise.allSettled(items.map((x) => this.one((b) => fn(b, x))));
    const failed = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
  }

  loglikelihood(requests: req.LoglikelihoodRequest[]): Promise<req.LoglikelihoodResult[]> {
    return this.spread(requests, async (b, r) => (await b.loglikelihood([r]))[0]);
  }

  loglikelihoodRolling(requests: req.LoglikelihoodRollingRequest[]): Promise<req.RollingResult[]> {
    return this.spread(requests, async (b, r) => (await b.loglikelihoodRolling([r]))[0]);
  }

  generateUntil(requests: req.GenerateUntilRequest[]): Promise<string[]> {
    return this.spread(requests, async (b, r) => (await b.generateUntil([r]))[0]);
  }
}
