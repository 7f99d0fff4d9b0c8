// Continuous batching: one scheduler owns the model and runs it one step at a time. Each step drops cancelled
// sequences, admits waiting ones into free KV-cache slots (reusing a cached prompt prefix where a slot holds one),
// prefills prompts in chunks of a fixed size (a long prompt takes several steps, so it never stalls the running
// streams for long), then decodes every running sequence in one batched forward over the contiguous block of
// slots they hold, and retires the finished ones. The model runs synchronously; between steps the scheduler
// yields to the event loop (setImmediate) so that HTTP keeps flowing.
//
// Batch invariance: a sequence's numbers come from kernels whose per-row results do not depend on the other rows
// (the batch-invariant GEMM, row-wise norms and attention), a reused prefix holds exactly the keys and values a
// fresh prefill would compute (below), and every sequence samples from its own seeded generator, one uniform per
// draw. So a seeded request gets the same tokens and log-probs whatever else runs.
//
// Which prefixes are exact: all of them. A prefill split at any token offset, or extended one token at a time by
// decode steps, gives keys and values bit-identical to one unsplit prefill on every kernel path
// (test/models/prefill-split.test.ts; native attention sums each score's lanes in one order wherever its key tile
// ends), so a held prefix is reused at token granularity, generated tokens included (a chat's next turn reuses
// the previous reply). A kernel that lost this property would break batch invariance here; that test guards it.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Generator, noGrad, tensor, tidy } from '../tensor/index.ts';
import { assertFits, estimateMemory, sampleToken, type CausalLM, type SamplingParams } from '../models/index.ts';
import { logSoftmaxRow, tokenLogprob, type TokenLogprob } from './logprobs.ts';
import { SlotCache } from './slots.ts';

export type FinishReason = 'stop' | 'length' | 'abort';

export interface SequenceRequest {
  prompt: readonly number[];
  /** Tokens to generate at most (0: only the prompt's log-probs). */
  maxTokens: number;
  sampling: SamplingParams;
  seed: number;
  /** Token ids that end the sequence (reported to onToken with `stop` true, never fed back to the model). */
  stopTokenIds: ReadonlySet<number>;
  /** Report each generated token's log-prob with this many alternatives (null: none). */
  logprobs: number | null;
  /** Report each prompt position's log-prob with this many alternatives (null: none); disables prefix reuse. */
  promptLogprobs: number | null;
  /**
   * Called with each generated token; returning false ends the sequence (a stop string was reached). The stop
   * token that ends a sequence (EOS, a stop_token_id) comes too, with `stop` true: it is a generated token with a
   * log-prob, counted in usage, as vLLM counts it (its text is the route's business).
   */
  onToken(id: number, logprob: TokenLogprob | null, stop: boolean): boolean;
  /** Called once prefill is done, with one entry per prompt position (null for the first). */
  onPromptLogprobs?(logprobs: (TokenLogprob | null)[]): void;
  onFinish(reason: FinishReason, error?: Error): void;
}

export interface SchedulerOptions {
  /** Sequences held at once (KV-cache slots). */
  maxNumSeqs: number;
  /** Tokens per sequence, prompt and generation together. */
  maxModelLen: number;
  /** Sequences waiting for a slot beyond which submit() refuses. */
  maxQueue: number;
  /** Prompt tokens per prefill forward (fixed, so results do not depend on load). */
  prefillChunk: number;
  /** Ids sampling may choose (the tokenizer's vocabulary; checkpoints pad their embeddings past it). */
  vocabLimit: number;
}

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

type State = 'waiting' | 'prefill' | 'decode' | 'done';

export class Sequence {
  slot = -1;
  state: State = 'waiting';
  /** Prompt tokens whose keys/values are in the slot. */
  computed = 0;
  generated = 0;
  /** The token sampled last, whose keys/values the next decode step computes. */
  pending = -1;
  cancelled = false;
  readonly gen: Generator;
  readonly promptLps: (TokenLogprob | null)[] = [];

  constructor(readonly req: SequenceRequest) {
    this.gen = new Generator(req.seed);
  }

  /** Stops the sequence at the next step and frees its slot (a client went away). */
  cancel(): void {
    this.cancelled = true;
  }
}

export class Scheduler {
  readonly slots: SlotCache;
  private readonly waiting: Sequence[] = [];
  private readonly prefilling: Sequence[] = [];
  /** Sequences being decoded; sequence i sits in slot i. */
  private readonly decoding: Sequence[] = [];
  private loopRunning = false;
  /** Prompt tokens whose keys/values came from a held prefix instead of a prefill (a counter for /metrics). */
  reusedTokens = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly model: CausalLM,
    readonly opts: SchedulerOptions,
  ) {
    for (const [k, v] of Object.entries(opts)) {
      if (!Number.isSafeInteger(v) || v < (k === 'maxQueue' ? 0 : 1))
        throw new Error(`scheduler: ${k} must be a positive integer, got ${v}`);
    }
    // the cache is allocated once, whole: refuse what cannot fit before trying. Activations: a decode step over
    // every slot, or one prefill chunk, whichever is larger (tokens per slot rounded up covers both).
    assertFits(
      `serving ${opts.maxNumSeqs} sequences of up to ${opts.maxModelLen} tokens (--max-num-seqs × --max-model-len)`,
      estimateMemory(model.config, {
        batch: opts.maxNumSeqs,
        context: opts.maxModelLen,
        tokens: Math.ceil(opts.prefillChunk / opts.maxNumSeqs),
        weightsLoaded: true,
      }),
    );
    this.slots = new SlotCache(model, opts.maxNumSeqs, opts.maxModelLen);
  }

  get numWaiting(): number {
    return this.waiting.length;
  }

  get numRunning(): number {
    return this.prefilling.length + this.decoding.length;
  }

  /** Queues sequences together (all or none: the choices of one request); throws QueueFullError when full. */
  submit(reqs: SequenceRequest[]): Sequence[] {
    if (this.waiting.length + reqs.length > this.opts.maxQueue) {
      throw new QueueFullError(
        `the queue holds ${this.waiting.length} waiting sequences (limit ${this.opts.maxQueue}); ${reqs.length} more do not fit`,
      );
    }
    for (const r of reqs) {
      if (r.prompt.length === 0) throw new Error('a sequence needs at least one prompt token');
      if (r.prompt.length + r.maxTokens > this.opts.maxModelLen) {
        throw new Error(
          `prompt of ${r.prompt.length} tokens + ${r.maxTokens} to generate exceeds max_model_len ${this.opts.maxModelLen}`,
        );
      }
    }
    const seqs = reqs.map((r) => new Sequence(r));
    this.waiting.push(...seqs);
    this.kick();
    return seqs;
  }

  /** Resolves when nothing waits or runs. */
  idle(): Promise<void> {
    if (this.numWaiting + this.numRunning === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Ends every sequence now with finish reason 'abort'. */
  abortAll(): void {
    for (const s of [...this.waiting, ...this.prefilling, ...this.decoding]) s.cancel();
    this.dropCancelled();
  }

  dispose(): void {
    this.slots.dispose();
  }

  private kick(): void {
    if (this.loopRunning) return;
    this.loopRunning = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.numWaiting + this.numRunning > 0) {
        await nextTurn();
        try {
          noGrad(() => this.step());
        } catch (e) {
          // a failing step (out of memory, a kernel error) ends what is running, never the server
          const err = e instanceof Error ? e : new Error(String(e));
          for (const s of [...this.prefilling, ...this.decoding]) this.finish(s, 'abort', err);
        }
      }
    } finally {
      this.loopRunning = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private step(): void {
    this.dropCancelled();
    this.admit();
    this.prefillSome();
    this.decodeAll();
  }

  private dropCancelled(): void {
    for (const s of this.waiting.filter((x) => x.cancelled)) this.finish(s, 'abort');
    for (const s of [...this.prefilling, ...this.decoding].filter((x) => x.cancelled)) this.finish(s, 'abort');
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.slots.freeCount > 0) {
      const s = this.waiting.shift()!;
      // at least the last prompt token is computed (its logits choose the first token); prompt log-probs need all
      const maxReuse = s.req.promptLogprobs !== null ? 0 : s.req.prompt.length - 1;
      const { reused } = this.slots.claim(s, s.req.prompt, maxReuse);
      s.computed = reused;
      this.reusedTokens += reused;
      s.state = 'prefill';
      this.prefilling.push(s);
    }
  }

  /** Whole chunks of waiting prompts, in arrival order, until a chunk's worth of tokens has run this step. */
  private prefillSome(): void {
    let budget = this.opts.prefillChunk;
    for (const s of [...this.prefilling]) {
      if (budget <= 0) break;
      budget -= this.prefillChunk(s);
    }
  }

  private prefillChunk(s: Sequence): number {
    const { prompt } = s.req;
    const start = s.computed;
    const end = Math.min(prompt.length, start + this.opts.prefillChunk);
    const ids = prompt.slice(start, end);
    const view = this.slots.view(s.slot, 1);
    const last = tidy(() => {
      const { logits } = this.model.forward(tensor(Int32Array.from(ids), [1, ids.length], 'i32'), { cache: view });
      const v = logits.shape[2];
      const data = logits.f32();
      const wantLps = s.req.promptLogprobs;
      if (wantLps !== null) {
        if (start === 0) s.promptLps.push(null);
        // row j predicts prompt position start + j + 1
        for (let j = 0; j < ids.length && start + j + 1 < prompt.length; j++) {
          const lsm = logSoftmaxRow(data.subarray(j * v, (j + 1) * v));
          s.promptLps.push(tokenLogprob(lsm, prompt[start + j + 1], wantLps, this.opts.vocabLimit));
        }
      }
      return data.slice((ids.length - 1) * v, ids.length * v);
    });
    this.slots.appended(s.slot, ids);
    s.computed = end;
    if (end < prompt.length) return ids.length;
    if (s.req.promptLogprobs !== null) s.req.onPromptLogprobs?.(s.promptLps);
    if (s.req.maxTokens === 0) {
      this.finish(s, 'length');
      return ids.length;
    }
    remove(this.prefilling, s);
    // into the decoding block: slot D
    const d = this.decoding.length;
    if (s.slot !== d) this.slots.swap(s.slot, d);
    s.state = 'decode';
    this.decoding.push(s);
    this.choose(s, last);
    return ids.length;
  }

  private decodeAll(): void {
    const d = this.decoding.length;
    if (d === 0) return;
    const input = this.decoding.map((s) => s.pending);
    const rows = tidy(() => {
      const { logits } = this.model.forward(tensor(Int32Array.from(input), [d, 1], 'i32'), {
        cache: this.slots.view(0, d),
      });
      const v = logits.shape[2];
      const data = logits.f32();
      return input.map((_, r) => data.slice(r * v, (r + 1) * v));
    });
    this.decoding.forEach((_s, r) => this.slots.appended(r, [input[r]]));
    for (const [r, s] of [...this.decoding].entries()) this.choose(s, rows[r]);
  }

  /** Samples a sequence's next token from its logits row and hands it to the request; finishes when it ends. */
  private choose(s: Sequence, row: Float32Array): void {
    if (s.state !== 'decode') return;
    const { req } = s;
    const limit = this.opts.vocabLimit;
    const id = sampleToken(limit < row.length ? row.subarray(0, limit) : row, req.sampling, s.gen);
    s.generated++;
    const lp = req.logprobs !== null ? tokenLogprob(logSoftmaxRow(row), id, req.logprobs, limit) : null;
    const stopToken = req.stopTokenIds.has(id);
    if (!req.onToken(id, lp, stopToken) || stopToken) return this.finish(s, 'stop');
    if (s.generated >= req.maxTokens) return this.finish(s, 'length');
    s.pending = id;
  }

  private finish(s: Sequence, reason: FinishReason, error?: Error): void {
    if (s.state === 'done') return;
    if (s.state === 'waiting') remove(this.waiting, s);
    else if (s.state === 'prefill') {
      remove(this.prefilling, s);
      this.slots.release(s.slot);
    } else {
      // keep the decoding block contiguous: the last decoding sequence takes this one's slot
      const last = this.decoding.length - 1;
      if (s.slot !== last) this.slots.swap(s.slot, last);
      this.decoding.pop();
      this.decoding.forEach((_x, i) => (this.decoding[i] = this.slots.owners[i] as Sequence));
      this.slots.release(last);
    }
    s.state = 'done';
    s.req.onFinish(reason, error);
  }
}

function remove(list: Sequence[], s: Sequence): void {
  const i = list.indexOf(s);
  if (i < 0) throw new Error(`scheduler: a ${s.state} sequence is missing from its list`);
  list.splice(i, 1);
}
