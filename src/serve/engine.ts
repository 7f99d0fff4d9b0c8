// What the HTTP routes share: the model, its tokenizer and the scheduler, turning an API request's fields into
// sequences (one per prompt × choice) and following each choice's text, tokens and log-probs as they arrive.
import { randomInt } from 'node:crypto';
import type { CausalLM } from '../models/index.ts';
import { applyChatTemplate, type ChatMessage, type Tokenizer } from '../tokenizers/index.ts';
import type { TokenLogprob } from './logprobs.ts';
import { ApiError, type ChatBody, type CommonBody } from './protocol.ts';
import { QueueFullError, Scheduler, type FinishReason, type Sequence, type SequenceRequest } from './scheduler.ts';
import { ServeMetrics } from './metrics.ts';
import { ChoiceText } from './text.ts';

export interface EngineOptions {
  model: CausalLM;
  tokenizer: Tokenizer;
  /** The name clients pass as `model` (and GET /v1/models lists). */
  servedModelName: string;
  /** Where the weights came from (GET /v1/models `root`). */
  root?: string;
  maxNumSeqs?: number;
  maxQueue?: number;
  /** Default: the model's max_position_embeddings. */
  maxModelLen?: number;
  /** Prompt tokens per step at most, run in one forward with the decode rows (default 64). */
  prefillChunk?: number;
}

/** A request's sampling and output settings, resolved from its body. */
export interface GenParams {
  n: number;
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  /** The seed of choice 0 (the others derive theirs from it). */
  seed: number;
  stops: string[];
  includeStop: boolean;
  stopTokenIds: Set<number>;
  logprobs: number | null;
  promptLogprobs: number | null;
  skipSpecialTokens: boolean;
}

/** One choice's progress, for the routes to format. */
export class ChoiceRun {
  readonly text: ChoiceText;
  readonly logprobs: TokenLogprob[] = [];
  promptLogprobs: (TokenLogprob | null)[] | null = null;
  finishReason: FinishReason | null = null;
  /** The stop token that ended the choice (EOS or a stop_token_id), null when none did. */
  stopTokenId: number | null = null;
  error: Error | null = null;
  seq: Sequence | null = null;
  private lastTokenAt = 0;
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly index: number,
    readonly prompt: number[],
    decode: (ids: number[]) => string,
    params: GenParams,
  ) {
    this.text = new ChoiceText(decode, params.stops, params.includeStop);
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /**
   * Hooks a stream sets: each released piece of text with the token's log-prob, and the end with the text still
   * held back and the log-prob of the stop token that ended the choice (vLLM sends it in the last chunk).
   */
  onDelta: ((delta: string, lp: TokenLogprob | null) => void) | null = null;
  onEnd: ((delta: string, lp: TokenLogprob | null) => void) | null = null;
  private stopLogprob: TokenLogprob | null = null;

  sequenceRequest(params: GenParams, seed: number, metrics: ServeMetrics, startedAt: number): SequenceRequest {
    return {
      prompt: this.prompt,
      maxTokens: params.maxTokens,
      sampling: { temperature: params.temperature, topP: params.topP, topK: params.topK },
      seed,
      stopTokenIds: params.stopTokenIds,
      logprobs: params.logprobs,
      promptLogprobs: params.promptLogprobs,
      onPromptLogprobs: (lps) => (this.promptLogprobs = lps),
      onToken: (id, lp, stop) => {
        const now = performance.now();
        if (this.lastTokenAt === 0) metrics.ttft.observe((now - startedAt) / 1000);
        else metrics.itl.observe((now - this.lastTokenAt) / 1000);
        this.lastTokenAt = now;
        metrics.generationTokens++;
        if (lp) this.logprobs.push(lp);
        if (stop) {
          // As vLLM's detokenizer does, the stop token is a generated token (counted, with its log-prob) whose
          // text is left out unless include_stop_str_in_output asks for it
          // (https://github.com/vllm-project/vllm/blob/main/vllm/v1/engine/detokenizer.py, update()).
          this.stopTokenId = id;
          this.stopLogprob = lp;
          if (params.includeStop) this.text.push(id);
          return false;
        }
        const delta = this.text.push(id);
        this.onDelta?.(delta, lp);
        return !this.text.stopped;
      },
      onFinish: (reason, error) => {
        this.finishReason = reason;
        this.error = error ?? null;
        const rest = this.text.finish();
        this.onEnd?.(rest, this.stopLogprob);
        this.resolveDone();
      },
    };
  }
}

export class Engine {
  readonly model: CausalLM;
  readonly tok: Tokenizer;
  readonly name: string;
  readonly root: string;
  readonly maxModelLen: number;
  readonly scheduler: Scheduler;
  readonly metrics = new ServeMetrics();
  readonly created = Math.floor(Date.now() / 1000);
  private readonly eos: number[];

  constructor(opts: EngineOptions) {
    this.model = opts.model;
    this.tok = opts.tokenizer;
    this.name = opts.servedModelName;
    this.root = opts.root ?? opts.servedModelName;
    this.maxModelLen = opts.maxModelLen ?? this.model.config.maxPositionEmbeddings;
    const maxNumSeqs = opts.maxNumSeqs ?? 16;
    this.scheduler = new Scheduler(this.model, {
      maxNumSeqs,
      maxModelLen: this.maxModelLen,
      maxQueue: opts.maxQueue ?? 256,
      prefillChunk: opts.prefillChunk ?? 64,
      vocabLimit: Math.min(this.tok.vocabSize, this.model.config.vocabSize),
    });
    const eos = [this.tok.eosTokenId, this.model.config.eosTokenId].filter((x): x is number => x !== null);
    this.eos = [...new Set(eos)];
  }

  checkModel(model: string | undefined): void {
    if (model !== undefined && model !== this.name) {
      throw new ApiError(
        404,
        `The model \`${model}\` does not exist; this server serves \`${this.name}\``,
        'model',
        'model_not_found',
      );
    }
  }

  /** The prompt of a chat request, rendered with the model's chat template (the render path of `olmo chat`). */
  renderChat(messages: ChatBody['messages'], addGenerationPrompt: boolean): number[] {
    const msgs: ChatMessage[] = messages.map((m, i) => {
      const c = m.content;
      const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((p) => p.text ?? '').join('') : '';
      if (c === undefined || c === null) {
        if (m.role !== 'assistant')
          throw new ApiError(
            400,
            `messages[${i}] (${m.role}) has no content`,
            `messages[${i}].content`,
            'invalid_value',
          );
      }
      return { ...m, role: m.role, content: text };
    });
    let rendered: string;
    try {
      rendered = applyChatTemplate(this.tok, msgs, { addGenerationPrompt });
    } catch (e) {
      throw new ApiError(
        400,
        `the chat template could not render these messages: ${(e as Error).message}`,
        'messages',
        'invalid_value',
      );
    }
    return this.tok.encode(rendered, { addSpecialTokens: false });
  }

  /** Refuses token ids outside the model and prompts that do not fit the context with the requested tokens. */
  checkPrompt(ids: number[], where: string, maxTokens: number | null): void {
    if (ids.length === 0)
      throw new ApiError(400, `${where} is empty: it must hold at least one token`, where, 'invalid_value');
    const vocab = this.model.config.vocabSize;
    const bad = ids.find((id) => !(id >= 0 && id < vocab));
    if (bad !== undefined)
      throw new ApiError(
        400,
        `${where} has token id ${bad}, outside the vocabulary [0, ${vocab})`,
        where,
        'invalid_value',
      );
    const need = ids.length + (maxTokens ?? 0);
    if (ids.length > this.maxModelLen || need > this.maxModelLen) {
      throw new ApiError(
        400,
        `This model's maximum context length is ${this.maxModelLen} tokens. However, you requested ${need} tokens (${ids.length} in the prompt, ${maxTokens ?? 0} in the completion). Please reduce the length of the prompt or the completion.`,
        where,
        'context_length_exceeded',
      );
    }
  }

  /** Sampling settings from a body; `maxTokens` null: the rest of the context (resolved per prompt). */
  params(
    body: CommonBody,
    maxTokens: number | null,
    logprobs: number | null,
  ): Omit<GenParams, 'maxTokens'> & { maxTokens: number | null } {
    const stops =
      body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
    const stopTokenIds = new Set<number>([...(body.ignore_eos ? [] : this.eos), ...(body.stop_token_ids ?? [])]);
    return {
      n: body.n ?? 1,
      maxTokens,
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      topK: body.top_k === undefined || body.top_k === null || body.top_k < 0 ? 0 : body.top_k,
      seed: body.seed ?? randomInt(2 ** 31),
      stops: stops.filter((s) => s !== ''),
      includeStop: body.include_stop_str_in_output ?? false,
      stopTokenIds,
      logprobs,
      promptLogprobs: body.prompt_logprobs ?? null,
      skipSpecialTokens: body.skip_special_tokens ?? true,
    };
  }

  decoder(params: GenParams): (ids: number[]) => string {
    return (ids) => this.tok.decode(ids, { skipSpecialTokens: params.skipSpecialTokens });
  }

  /** Starts every prompt × choice of one request (all queued or none: 429 when the queue is full). */
  start(prompts: number[][], params: GenParams[], startedAt: number): ChoiceRun[] {
    const runs: ChoiceRun[] = [];
    const reqs: SequenceRequest[] = [];
    prompts.forEach((prompt, p) => {
      const gp = params[p];
      for (let i = 0; i < gp.n; i++) {
        const run = new ChoiceRun(p * gp.n + i, prompt, this.decoder(gp), gp);
        runs.push(run);
        reqs.push(run.sequenceRequest(gp, choiceSeed(gp.seed, i), this.metrics, startedAt));
      }
    });
    let seqs: Sequence[];
    try {
      seqs = this.scheduler.submit(reqs);
    } catch (e) {
      if (e instanceof QueueFullError)
        throw new ApiError(429, `The server is busy: ${e.message}. Retry later.`, null, 'rate_limit_exceeded');
      throw e;
    }
    seqs.forEach((s, i) => (runs[i].seq = s));
    for (const p of prompts) this.metrics.promptTokens += p.length * (params[0]?.n ?? 1);
    return runs;
  }

  /** vLLM's stop_reason: the stop string or stop_token_id that ended a choice; null for EOS and the length limit. */
  stopReason(run: ChoiceRun): string | number | null {
    if (run.text.stopString !== null) return run.text.stopString;
    return run.stopTokenId !== null && !this.eos.includes(run.stopTokenId) ? run.stopTokenId : null;
  }

  /** The text of a token as logprobs report it. */
  tokenText(id: number): string {
    return id < this.tok.vocabSize ? this.tok.decode([id], { skipSpecialTokens: false }) : '';
  }
}

/** Choice 0 uses the request's seed (so n = 1 and the first of n agree); the others a distinct mix of it. */
function choiceSeed(seed: number, choice: number): number {
  if (choice === 0) return seed;
  let x = (seed ^ Math.imul(choice, 0x9e3779b9)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  return (x ^ (x >>> 13)) >>> 0;
}
