// The model side of an evaluation, as the runner sees it. A backend (in-process model, OpenAI-compatible server,
// a fake in tests) answers batches of requests; it owns tokenisation (see ../tokenization.ts: encodePair for the
// context/continuation split, truncateLeft for cutting long inputs from the left at maxLength).
import type * as req from '../types.ts';

export interface Backend {
  /** model identity, e.g. "allenai/OLMo-2-0425-1B" or a checkpoint path; part of the request-cache key */
  readonly name: string;
  /** the model's context length (OLMES: 2048); inputs longer than this are cut from the left */
  readonly maxLength: number;
  /** anything else that changes results (revision, dtype, server URL, add_bos_token…); part of the cache key */
  readonly identity?: Record<string, unknown>;
  /**
   * What determines the results, independent of where the model lives (weights and tokenizer content, numerics,
   * the server's reported model): when present the request cache is keyed by it instead of model_config, so
   * replacing the weights behind a path misses the cache and two paths to one model share it.
   */
  cacheIdentity?(): Promise<Record<string, unknown>>;
  /** One result per request, in order. Must not depend on how requests are batched. */
  loglikelihood(requests: req.LoglikelihoodRequest[]): Promise<req.LoglikelihoodResult[]>;
  loglikelihoodRolling(requests: req.LoglikelihoodRollingRequest[]): Promise<req.RollingResult[]>;
  generateUntil(requests: req.GenerateUntilRequest[]): Promise<string[]>;
}

/** The model_config written to metrics.json. */
export function modelConfigOf(backend: Pick<Backend, 'name' | 'maxLength' | 'identity'>): Record<string, unknown> {
  return { model: backend.name, max_length: backend.maxLength, ...(backend.identity ?? {}) };
}
