// The in-process backend: an olmo-ts model and its tokenizer answer the evaluation's requests.
//
// - loglikelihood: lm-eval's pair encoding (encodePair) and left truncation (truncateLeft), then
//   scoreLoglikelihood, which runs each distinct context once (KV cache) and forks it for all its continuations,
//   several contexts and continuations per forward pass (scoreBatchSize).
// - loglikelihood_rolling: lm-eval's rolling windows (./rolling.ts) scored the same way, summed per text.
// - generate_until: the context cut from the left to leave room for max_gen_toks, then `generate` with the stop
//   sequences (and the EOS token); the text is cut before the first stop sequence.
//
// Batch invariance: the runner may hand us any slice of the requests, and a result must not depend on it.
// encodePair/truncateLeft depend only on the request, and scoreLoglikelihood's batches are invariant (a request
// scored among others gets the numbers it gets alone, bit for bit), so a result never depends on its batch-mates.
import { generate, scoreLoglikelihood, type CausalLM } from '../../models/index.ts';
import { backendName } from '../../tensor/index.ts';
import type { Tokenizer } from '../../tokenizers/index.ts';
import type { Backend } from '../runner/backend.ts';
import type { Tokenize } from '../tokenization.ts';
import type {
  GenerateUntilRequest,
  GenerationKwargs,
  LoglikelihoodRequest,
  LoglikelihoodResult,
  LoglikelihoodRollingRequest,
  RollingResult,
} from '../types.ts';
import { cutAtStops, encodeRequest, prefixTokenOf, type TokenPair } from './common.ts';
import { jsonFingerprint, tokenizerFingerprint, weightsFingerprint } from './fingerprint.ts';
import { rollingWindows } from './rolling.ts';

/** OLMES's MODEL_DEFAULTS.max_length. */
export const OLMES_MAX_LENGTH = 2048;

export interface LocalBackendOptions {
  model: CausalLM;
  tokenizer: Tokenizer;
  /** model identity (checkpoint path or HF id), written to model_config; the request cache keys by content instead */
  name: string;
  /**
   * The folder the model was loaded from: its checksums.json (checked by loadModel) names the weights' content
   * for the cache key without hashing them again; without it the loaded parameters are hashed once.
   */
  checkpointDir?: string;
  /** context length; default min(2048, the model's max_position_embeddings) */
  maxLength?: number;
  /** prompts generated together (generate_until) */
  modelBatchSize?: number;
  /** requests scored together in one forward pass (loglikelihood, rolling); default 16; results never depend on it */
  scoreBatchSize?: number;
  /** put the BOS token before every context (OLMES: only for models that need it, e.g. Gemma) */
  addBosToken?: boolean;
  /** extra identity for the cache key and model_config (revision, dtype…) */
  identity?: Record<string, unknown>;
  /** seed for sampled generation (do_sample true) */
  seed?: number;
}

export class LocalBackend implements Backend {
  readonly name: string;
  readonly maxLength: number;
  readonly identity: Record<string, unknown>;
  readonly model: CausalLM;
  readonly tokenizer: Tokenizer;
  readonly modelBatchSize: number;
  readonly scoreBatchSize: number;
  private readonly addBos: boolean;
  private readonly seed: number;
  private readonly checkpointDir: string | undefined;
  private readonly extraIdentity: Record<string, unknown> | undefined;
  private contentIdentity: Promise<Record<string, unknown>> | undefined;
  readonly tokenize: Tokenize;

  constructor(opts: LocalBackendOptions) {
    this.model = opts.model;
    this.tokenizer = opts.tokenizer;
    this.name = opts.name;
    const modelMax = opts.model.config.maxPositionEmbeddings;
    this.maxLength = opts.maxLength ?? Math.min(OLMES_MAX_LENGTH, modelMax);
    if (!Number.isInteger(this.maxLength) || this.maxLength < 2)
      throw new Error(`local backend: maxLength must be an integer ≥ 2, got ${this.maxLength}`);
    if (this.maxLength > modelMax)
      throw new Error(
        `local backend: maxLength ${this.maxLength} exceeds the model's max_position_embeddings ${modelMax}`,
      );
    this.modelBatchSize = opts.modelBatchSize ?? 1;
    if (!Number.isInteger(this.modelBatchSize) || this.modelBatchSize < 1)
      throw new Error(`local backend: modelBatchSize must be a positive integer, got ${this.modelBatchSize}`);
    this.scoreBatchSize = opts.scoreBatchSize ?? 16;
    if (!Number.isInteger(this.scoreBatchSize) || this.scoreBatchSize < 1)
      throw new Error(`local backend: scoreBatchSize must be a positive integer, got ${this.scoreBatchSize}`);
    this.addBos = opts.addBosToken ?? false;
    if (this.addBos && opts.tokenizer.bosTokenId === null)
      throw new Error(`local backend: addBosToken is set but tokenizer ${opts.tokenizer.name} has no BOS token`);
    if (opts.tokenizer.vocabSize > opts.model.config.vocabSize) {
      throw new Error(
        `local backend: tokenizer ${opts.tokenizer.name} has ${opts.tokenizer.vocabSize} ids but the model's vocabulary has ${opts.model.config.vocabSize}`,
      );
    }
    this.seed = opts.seed ?? 1234;
    this.identity = {
      backend: 'local',
      tokenizer: opts.tokenizer.name,
      ...(this.addBos ? { add_bos_token: true } : {}),
      ...(opts.identity ?? {}),
    };
    this.checkpointDir = opts.checkpointDir;
    this.extraIdentity = opts.identity;
    this.tokenize = (text) => this.tokenizer.encode(text, { addSpecialTokens: false });
  }

  /**
   * The results depend on the weights, the model's config, the tokenizer, the kernels (js and native round
   * differently), the context length, BOS handling and the sampling seed: all by content, none by path. The
   * model computes in f32 whatever the file's dtype, and the weights' fingerprint covers the stored values.
   */
  cacheIdentity(): Promise<Record<string, unknown>> {
    this.contentIdentity ??= Promise.resolve().then(() => ({
      backend: 'local',
      weights: weightsFingerprint(this.checkpointDir, () => this.model.namedParameters()),
      model_config: jsonFingerprint(this.model.config.raw),
      tokenizer: tokenizerFingerprint(this.tokenizer),
      kernels: backendName(),
      compute_dtype: 'float32',
      max_length: this.maxLength,
      add_bos_token: this.addBos,
      seed: this.seed,
      ...(this.extraIdentity ? { extra: this.extraIdentity } : {}),
    }));
    return this.contentIdentity;
  }

  private get bos(): number | undefined {
    return this.addBos ? (this.tokenizer.bosTokenId as number) : undefined;
  }

  /** The token pairs a batch of loglikelihood requests is scored as. */
  encode(requests: readonly LoglikelihoodRequest[]): TokenPair[] {
    const prefix = prefixTokenOf(this.tokenizer);
    return requests.map((r) => encodeRequest(r, this.tokenize, prefix, this.maxLength, this.bos));
  }

  async loglikelihood(requests: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    if (requests.length === 0) return [];
    const pairs = this.encode(requests);
    const scored = scoreLoglikelihood(this.model, pairs, { batchSize: this.scoreBatchSize, maxLength: this.maxLength });
    return scored.map((s, i) => ({
      logprob: s.sum,
      isGreedy: s.isGreedy,
      numTokens: pairs[i].continuation.length,
      numTokensAll: pairs[i].numTokensAll,
    }));
  }

  async loglikelihoodRolling(requests: LoglikelihoodRollingRequest[]): Promise<RollingResult[]> {
    const prefix = prefixTokenOf(this.tokenizer);
    const windows = requests.map((r) => rollingWindows(this.tokenize(r.context), prefix, this.maxLength));
    const flat = windows.flat();
    const scored =
      flat.length > 0
        ? scoreLoglikelihood(this.model, flat, { batchSize: this.scoreBatchSize, maxLength: this.maxLength })
        : [];
    let k = 0;
    return windows.map((ws) => {
      let logprob = 0;
      let numTokens = 0;
      for (const w of ws) {
        logprob += scored[k++].sum;
        numTokens += w.continuation.length;
      }
      return { logprob, numTokens };
    });
  }

  async generateUntil(requests: GenerateUntilRequest[]): Promise<string[]> {
    const out: string[] = new Array(requests.length);
    // requests with the same generation settings may share a model batch
    const groups = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const key = JSON.stringify(r.generation_kwargs);
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const decode = (ids: number[]) => this.tokenizer.decode(ids, { skipSpecialTokens: true });
    const eos = this.tokenizer.eosTokenId;
    for (const members of groups.values()) {
      const kw: GenerationKwargs = requests[members[0]].generation_kwargs;
      const maxNew = kw.max_gen_toks;
      if (!Number.isInteger(maxNew) || maxNew < 1)
        throw new Error(`generate_until: max_gen_toks must be a positive integer, got ${JSON.stringify(maxNew)}`);
      if (maxNew >= this.maxLength)
        throw new Error(
          `generate_until: max_gen_toks ${maxNew} leaves no room for the context in max length ${this.maxLength}`,
        );
      const stops = [...(kw.stop_sequences ?? [])];
      if (eos !== null) {
        const eosText = this.tokenizer.idToToken(eos);
        if (eosText && !stops.includes(eosText)) stops.push(eosText);
      }
      for (let s = 0; s < members.length; s += this.modelBatchSize) {
        const chunk = members.slice(s, s + this.modelBatchSize);
        const prompts = chunk.map((i) => {
          const ids = this.tokenize(requests[i].context);
          const withBos = this.bos !== undefined ? [this.bos, ...ids] : ids;
          // lm-eval: context_enc[-(max_length - max_gen_toks):]
          const cut = withBos.slice(-(this.maxLength - maxNew));
          return cut.length > 0 ? cut : [prefixTokenOf(this.tokenizer)];
        });
        const r = generate(this.model, prompts, {
          maxNewTokens: maxNew,
          temperature: kw.do_sample ? kw.temperature : 0,
          ...(kw.do_sample && kw.top_p !== undefined ? { topP: kw.top_p } : {}),
          seed: this.seed,
          stop: stops,
          decode,
          eosTokenIds: eos !== null ? [eos] : undefined,
          vocabLimit: this.tokenizer.vocabSize,
        });
        chunk.forEach((i, j) => (out[i] = cutAtStops(r.texts[j], stops)));
      }
    }
    return out;
  }
}
