// Several OpenAI-compatible endpoints serving one model (vLLM replicas, several `olmo serve` processes) as one
// backend: each request goes to the healthy endpoint with the fewest requests in flight, at most `concurrency` per
// endpoint, through one OpenAIBackend per endpoint (its retries, deadline, size cap and circuit breaker).
//
// Failover: when an endpoint gives no usable answer after its retries, or its circuit breaker opens, it is taken
// out for the rest of the run and the request goes to another endpoint; the evaluation fails only when every
// endpoint is out. Other errors (a request the server rejects, an answer that cannot be read) fail the run as with
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
}

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
  readonly endpoints: readonly OpenAIBackend[];
  private readonly eps: Endpoint[];
  private readonly waiting: (() => void)[] = [];
  private readonly log: (m: string) => void;
  private verified: Promise<Record<string, unknown>> | undefined;

  constructor(opts: OpenAIPoolOptions) {
    const { baseUrls, ...rest } = opts;
    if (baseUrls.length === 0) throw new OpenAIBackendError('openai pool: at least one endpoint URL is required');
    this.endpoints = baseUrls.map((baseUrl) => new OpenAIBackend({ ...rest, baseUrl }));
    const urls = this.endpoints.map((b) => b.baseUrl);
    const dup = urls.find((u, i) => urls.indexOf(u) !== i);
    if (dup !== undefined) throw new OpenAIBackendError(`openai pool: endpoint ${dup} is given more than once`);
    this.eps = this.endpoints.map((backend) => ({ backend, inFlight: 0, down: null }));
    const first = this.endpoints[0];
    this.name = first.name;
    this.maxLength = first.maxLength;
    this.identity = first.identity;
    this.log = opts.log ?? (() => {});
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

  private release(ep: Endpoint): void {
    ep.inFlight--;
    // every waiter re-checks: a freed slot or an endpoint taken out (all out → they fail) concerns them all
    for (const wake of this.waiting.splice(0)) wake();
  }

  /** One request on some endpoint, moved to another when its endpoint stops answering. */
  private async one<R>(fn: (b: OpenAIBackend) => Promise<R>): Promise<R> {
    for (;;) {
      const ep = await this.acquire();
      try {
        return await fn(ep.backend);
      } catch (e) {
        if (!(e instanceof OpenAIBackendError && e.unreachable)) throw e;
        if (ep.down === null) {
          ep.down = e.message;
          const left = this.eps.filter((x) => x.down === null).length;
          this.log(`${ep.backend.baseUrl}: taken out of the pool (${e.message}); ${left} endpoint(s) left`);
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
