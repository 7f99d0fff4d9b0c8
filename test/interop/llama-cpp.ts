// llama.cpp, through node-llama-cpp's prebuilt CPU binary, as the reference the GGUF parity tests compare
// olmo-ts against: next-token log-probabilities at every position of a prompt fed as token ids (so tokenisation
// is not in question), greedy continuations with llama.cpp's own sampler, and its tokenizer.
// node-llama-cpp: https://node-llama-cpp.withcat.ai (LlamaContextSequence.controlledEvaluate returns the raw
// logits of every position asked for; evaluate() with temperature 0 is llama.cpp's greedy sampler).
import {
  getLlama,
  LlamaLogLevel,
  NoBinaryFoundError,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import assert from 'node:assert/strict';
import { noGrad, tensor, tidy } from '../../src/tensor/index.ts';
import type { CausalLM } from '../../src/models/index.ts';

/**
 * The llama.cpp binding, or why it cannot run here. Only a binary that cannot load on this machine (node-llama-cpp
 * finds no prebuilt binary it can load, and we never build from source) is a reason to skip; any other failure is
 * thrown, so that a broken file or API change fails the test instead of skipping it.
 */
export async function loadLlama(): Promise<Llama | string> {
  try {
    return await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: LlamaLogLevel.error });
  } catch (err) {
    if (err instanceof NoBinaryFoundError)
      return `node-llama-cpp's prebuilt llama.cpp binary does not load on this machine: ${err.message}`;
    throw err;
  }
}

export interface LlamaRunnerOptions {
  /** Tokens one prompt plus its continuation may take. */
  contextSize: number;
  /**
   * Attention in f32 as olmo-ts computes it: KV cache f32 and flash attention off. llama.cpp's defaults (KV cache
   * f16, flash attention chosen automatically, on for these CPUs) round K, V and the flash-attention path's Q to
   * f16, which moves log-probs by up to about 1e-3 on the fixtures; the f32 parity test compares the arithmetic
   * without that rounding.
   */
  f32Attention?: boolean;
}

/** One GGUF file loaded in llama.cpp (CPU only, one thread), with one sequence reused prompt after prompt. */
export class LlamaRunner {
  private constructor(
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
    readonly sequence: LlamaContextSequence,
  ) {}

  static async open(llama: Llama, modelPath: string, opts: LlamaRunnerOptions): Promise<LlamaRunner> {
    const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
    const context = await model.createContext({
      contextSize: opts.contextSize,
      // One thread: these models are tiny, and ggml's worker threads spin-wait between ops, which on a busy
      // machine costs far more than a second core gains.
      threads: 1,
      ...(opts.f32Attention
        ? { flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' }
        : {}),
    });
    return new LlamaRunner(model, context, context.getSequence());
  }

  /**
   * Log-softmax of llama.cpp's logits after each prefix of `ids` ([position][token], length ids.length): row t is
   * the distribution of the token after ids[0..t].
   */
  async logProbs(ids: readonly number[]): Promise<Float64Array[]> {
    await this.sequence.clearHistory();
    const out = await this.sequence.controlledEvaluate(
      ids.map((id) => [id as Token, { generateNext: { logits: true } }]),
    );
    return out.map((r, t) => {
      const logits = r?.next.logits;
      if (!logits) throw new Error(`llama.cpp returned no logits at position ${t} of ${ids.length}`);
      const row = new Float64Array(logits.size);
      for (const [token, value] of logits) row[token] = value;
      return logSoftmax(row);
    });
  }

  /** llama.cpp's greedy continuation (its sampler at temperature 0) of `n` tokens; EOS does not stop it. */
  async greedy(ids: readonly number[], n: number): Promise<number[]> {
    await this.sequence.clearHistory();
    const out: number[] = [];
    if (n === 0) return out;
    for await (const token of this.sequence.evaluate(ids as Token[], { temperature: 0, yieldEogToken: true })) {
      out.push(token);
      if (out.length === n) break;
    }
    return out;
  }

  /** llama.cpp's tokenisation of `text`, special-token strings parsed as special tokens. */
  tokenize(text: string): number[] {
    return this.model.tokenize(text, true);
  }

  /** llama.cpp's text for `ids`, special tokens written out. */
  detokenize(ids: readonly number[]): string {
    return this.model.detokenize(ids as Token[], true);
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }
}

export function logSoftmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (v) => v - lse);
}

/** olmo-ts's log-softmax of the logits after each prefix of `ids`, over the first `vocab` entries. */
export function olmoLogProbs(model: CausalLM, ids: readonly number[], vocab: number): Float64Array[] {
  const logits = noGrad(() =>
    tidy(() =>
      model
        .forward(tensor(Int32Array.from(ids), [1, ids.length], 'i32'))
        .logits.f32()
        .slice(),
    ),
  );
  const width = model.config.vocabSize;
  return ids.map((_, t) => logSoftmax(logits.subarray(t * width, t * width + vocab)));
}

/** The largest |a − b| over every position and token, and where it is. */
export function maxLogProbDiff(
  ours: Float64Array[],
  theirs: Float64Array[],
): { diff: number; position: number; token: number } {
  if (ours.length !== theirs.length)
    throw new Error(`log-prob rows: olmo-ts has ${ours.length} positions, llama.cpp ${theirs.length}`);
  let worst = { diff: 0, position: -1, token: -1 };
  ours.forEach((row, t) => {
    if (row.length !== theirs[t].length)
      throw new Error(`position ${t}: olmo-ts has ${row.length} tokens, llama.cpp ${theirs[t].length}`);
    for (let i = 0; i < row.length; i++) {
      const d = Math.abs(row[i] - theirs[t][i]);
      if (!(d <= worst.diff)) worst = { diff: d, position: t, token: i };
    }
  });
  return worst;
}

/**
 * Bounds on |olmo-ts − llama.cpp| next-token log-probs, llama.cpp running f32 attention. f32: the issue asks for
 * 1e-3; with f32 attention only the order of summation differs, so the bound is ten times tighter. q8_0 (olmo-ts's
 * int8 weights, the same q8_0 numbers): llama.cpp's q8_0 matmul (ggml's vec_dot_q8_0_q8_0) also quantises each
 * activation row to q8_0, 32 values per f16 scale, before its integer dot products, while olmo-ts keeps
 * activations in f32; that rounding, up to half a step of amax/127 on every input of every matrix, is the
 * difference the bound allows, with a margin of about three over the worst seen on many random prompts.
 */
export const F32_BOUND = 1e-4;
export const Q8_BOUND = 0.05;

/** Asserts log-prob parity at every position of every prompt, naming the prompt, position and token that fail. */
export async function assertLogProbsClose(
  model: CausalLM,
  runner: LlamaRunner,
  prompts: readonly number[][],
  bound: number,
  label: string,
): Promise<void> {
  for (const ids of prompts) {
    const theirs = await runner.logProbs(ids);
    const d = maxLogProbDiff(olmoLogProbs(model, ids, theirs[0].length), theirs);
    if (process.env.OLMO_TEST_VERBOSE) console.log(`${label}: prompt of ${ids.length}: max |Δ log-prob| ${d.diff}`);
    assert.ok(
      d.diff <= bound,
      `${label}: prompt of ${ids.length}: log-prob of token ${d.token} after position ${d.position} differs by ${d.diff} > ${bound}`,
    );
  }
}

// Text that exercises the pre-tokenizer (runs of spaces, digits, non-Latin letters and emoji, line breaks,
// contractions, special-token strings) for the tokenizer parity checks.
export const TOKENIZER_TEXTS = [
  '  two  spaces   ',
  'numbers 1234567 and 3.14',
  'Ünïcödé ß 東京 🙂',
  'line\n\nbreaks\r\n end',
  "don't I'll WE'RE they've",
  'tabs\tand   \n  mixed',
  '<|endoftext|>hi<|user|>',
];
