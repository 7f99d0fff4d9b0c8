// Continuous batching: one scheduler owns the model and runs it one step at a time. Each step drops cancelled
// sequences, admits waiting ones into free KV-cache slots (reusing a cached prompt prefix where a slot holds one),
// then runs one forward over every decoding sequence's next token together with up to `prefillChunk` prompt
// tokens of the prefilling ones (chunked prefill, as vLLM mixes prefill and decode rows in one batch: a long
// prompt takes several steps, so it never stalls the running streams for long, and every matrix multiplies the
// decode and prompt rows at once instead of streaming its weights once per forward), and retires the finished
// ones. That forward is a packed one (CausalLM.forward's `packed`): each sequence's tokens continue its own slot,
// so slots need not be contiguous, and logits are computed only at the rows read (decode rows, a prompt's last
// row, every row of a request asking for prompt log-probs). The model runs synchronously; between steps the
// scheduler yields to the event loop (setImmediate) so that HTTP keeps flowing.
//
// Batch invariance: a sequence's numbers come from kernels whose per-row results do not depend on the other rows
// (the batch-invariant GEMM, row-wise norms, attention per sequence), a reused prefix holds exactly the keys and
// values a fresh prefill would compute (below), and every sequence samples from its own seeded generator, one
// uniform per draw. So a seeded request gets the same tokens and log-probs whatever else runs, and wherever its
// prompt is cut between steps.
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
  /** Prompt tokens per step at most (results do not depend on it: a prompt may be split anywhere). */
  prefillChunk: number;
  /** Ids sampling may choose (the tokenizer's vocabulary; checkpoints pad their embeddings past it). */
  vocabLimit: number;
}

/** A step's packed forward: the token ids, which cache row each piece continues, and whose logits are read. */
interface Batch {
  ids: number[];
  slots: number[];
  counts: number[];
  logitsAt: number[];
  /** Each sequence's piece: where its tokens start in `ids`, how many, and its first logits row. */
  pieces: { s: Sequence; at: number; count: number; row: number }[];
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
  /** Sequences being decoded, each in its own slot. */
  private readonly decoding: Sequence[] = [];
  private loopRunning = false;
  /** Prompt tokens whose keys/values came from a held prefix instead of a prefill (a counter for /metrics). */
  reusedTokens = 0;
  private idleWaiters: (() => void)[] = [];
  /** Scratch for one row's log-softmax (read at once, never kept). */
  private readonly lsmRow: Float32Array;

  constructor(
    readonly model: CausalLM,
    readonly opts: SchedulerOptions,
  ) {
    for (const [k, v] of Object.entries(opts)) {
      if (!Number.isSafeInteger(v) || v < (k === 'maxQueue' ? 0 : 1))
        throw new Error(`scheduler: ${k} must be a positive integer, got ${v}`);
    }
    // the cache is allocated once, whole: refuse what cannot fit before trying. Activations: a step's forward,
    // every slot's next token and a prefill chunk (tokens per slot rounded up covers them).
    assertFits(
      `serving ${opts.maxNumSeqs} sequences of up to ${opts.maxModelLen} tokens (--max-num-seqs × --max-model-len)`,
      estimateMemory(model.config, {
        batch: opts.maxNumSeqs,
        context: opts.maxModelLen,
        tokens: Math.ceil((opts.maxNumSeqs + opts.prefillChunk) / opts.maxNumSeqs),
        weightsLoaded: true,
      }),
    );
    this.slots = new SlotCache(model, opts.maxNumSeqs, opts.maxModelLen);
    this.lsmRow = new Float32Array(model.config.vocabSize);
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
    this.runBatch();
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

  /**
   * One packed forward over every decoding sequence's pending token and up to `prefillChunk` prompt tokens of the
   * prefilling ones, in arrival order (a prompt is cut wherever the budget ends), with logits only at the rows
   * someone reads; then each sequence takes its rows.
   */
  private runBatch(): void {
    const batch = this.planBatch();
    if (batch.pieces.length === 0) return;
    const { slots, counts } = batch;
    // the rows are read before the scope ends, so the logits are not copied out
    tidy(() => {
      const input = tensor(Int32Array.from(batch.ids), [1, batch.ids.length], 'i32');
      const packed = { slots, counts, logitsAt: batch.logitsAt };
      const logits = this.model.forward(input, { cache: this.slots.cache, packed }).logits.f32();
      const v = this.model.config.vocabSize;
      const row = (r: number) => logits.subarray(r * v, (r + 1) * v);
      for (const p of batch.pieces) this.slots.appended(p.s.slot, batch.ids.slice(p.at, p.at + p.count));
      for (const p of batch.pieces) {
        // (a callback may have ended a sequence since: abortAll from a request handler)
        if (p.s.state === 'decode') this.choose(p.s, row(p.row));
        else if (p.s.state === 'prefill') this.prefilled(p.s, p.count, p.row, row);
      }
    });
  }

  private planBatch(): Batch {
    const batch: Batch = { ids: [], slots: [], counts: [], logitsAt: [], pieces: [] };
    const add = (s: Sequence, ids: readonly number[], rows: number[]) => {
      batch.pieces.push({ s, at: batch.ids.length, count: ids.length, row: batch.logitsAt.length });
      batch.logitsAt.push(...rows.map((j) => batch.ids.length + j));
      batch.slots.push(s.slot);
      batch.counts.push(ids.length);
      batch.ids.push(...ids);
    };
    for (const s of this.decoding) add(s, [s.pending], [0]);
    let budget = this.opts.prefillChunk;
    for (const s of this.prefilling) {
      if (budget === 0) break;
      const { prompt } = s.req;
      const ids = prompt.slice(s.computed, s.computed + budget);
      budget -= ids.length;
      // prompt log-probs read every row; otherwise only the prompt's last row (it chooses the first token)
      const rows = Array.from({ length: ids.length }, (_, j) => j);
      const last = s.computed + ids.length === prompt.length;
      add(s, ids, s.req.promptLogprobs !== null ? rows : last ? [ids.length - 1] : []);
    }
    return batch;
  }

  /** A prefilling sequence's `count` prompt tokens went through; its logits rows start at `first`. */
  private prefilled(s: Sequence, count: number, first: number, row: (r: number) => Float32Array): void {
    const { prompt } = s.req;
    const start = s.computed;
    const end = start + count;
    const wantLps = s.req.promptLogprobs;
    if (wantLps !== null) {
      if (start === 0) s.promptLps.push(null);
      // row j predicts prompt position start + j + 1
      for (let j = 0; j < count && start + j + 1 < prompt.length; j++) {
        const lsm = logSoftmaxRow(row(first + j), this.lsmRow);
        s.promptLps.push(tokenLogprob(lsm, prompt[start + j + 1], wantLps, this.opts.vocabLimit));
      }
    }
    s.computed = end;
    if (end < prompt.length) return;
    if (wantLps !== null) s.req.onPromptLogprobs?.(s.promptLps);
    if (s.req.maxTokens === 0) return this.finish(s, 'length');
    remove(this.prefilling, s);
    s.state = 'decode';
    this.decoding.push(s);
    // the prompt's last row is the piece's last logits row (its only one without prompt log-probs)
    this.choose(s, row(wantLps !== null ? first + count - 1 : first));
  }

  /** Samples a sequence's next token from its logits row and hands it to the request; finishes when it ends. */
  private choose(s: Sequence, row: Float32Array): void {
    if (s.state !== 'decode') return;
    const { req } = s;
    const limit = this.opts.vocabLimit;
    const id = sampleToken(limit < row.length ? row.subarray(0, limit) : row, req.sampling, s.gen);
    s.generated++;
    const lp = req.logprobs !== null ? tokenLogprob(logSoftmaxRow(row, this.lsmRow), id, req.logprobs, limit) : null;
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
      remove(this.decoding, s);
      this.slots.release(s.slot);
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
