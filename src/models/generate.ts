// Text generation with the KV cache: one prefill of every prompt (a batch of different lengths), then one
// token at a time per sequence, until EOS, a stop string or the token budget.
import { Generator, noGrad, tensor, tidy, type Tensor } from '../tensor/index.ts';
import type { CausalLM } from './decoder.ts';
import { assertFits, estimateMemory } from './memory.ts';
import { sampleToken, validateSampling, type SamplingParams } from './sampling.ts';

export interface GenerateOptions extends SamplingParams {
  maxNewTokens: number;
  seed?: number;
  /** Token ids that end a sequence (default: the config's eos_token_id). */
  eosTokenIds?: number[];
  /** Strings that end a sequence; needs `decode`. The returned text is cut before the stop string. */
  stop?: string[];
  /** Turns token ids into text (for stop strings and the returned texts). */
  decode?: (ids: number[]) => string;
  /**
   * Only ids below this can be generated (the tokenizer's vocabulary: checkpoints pad their embedding
   * rows past it, and those ids decode to nothing).
   */
  vocabLimit?: number;
  /** Called with each new token as it is chosen. */
  onToken?: (sequence: number, token: number) => void;
}

export type FinishReason = 'eos' | 'stop' | 'length';

export interface GenerateResult {
  /** New tokens per sequence (EOS excluded). */
  tokens: number[][];
  /** Decoded new text per sequence (when `decode` was given), cut at a stop string. */
  texts: string[];
  finishReasons: FinishReason[];
}

export function generate(model: CausalLM, prompts: number[][], opts: GenerateOptions): GenerateResult {
  validateSampling(opts);
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) {
    throw new Error(`maxNewTokens must be a non-negative integer, got ${opts.maxNewTokens}`);
  }
  if (prompts.length === 0) return { tokens: [], texts: [], finishReasons: [] };
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i} is empty: generation needs at least one token`);
    for (const id of p) {
      if (!Number.isInteger(id) || id < 0 || id >= model.config.vocabSize) {
        throw new Error(`prompt ${i} has token id ${id} outside the vocabulary [0, ${model.config.vocabSize})`);
      }
    }
  });
  if (opts.stop?.length && !opts.decode) throw new Error('stop strings need a decode function');
  const eos = new Set(opts.eosTokenIds ?? (model.config.eosTokenId !== null ? [model.config.eosTokenId] : []));
  const gen = new Generator(opts.seed ?? 0);
  const batch = prompts.length;
  const maxPrompt = Math.max(...prompts.map((p) => p.length));
  // The cache is allocated whole up front: refuse a budget it cannot hold before trying.
  assertFits(
    `generating ${opts.maxNewTokens} tokens after ${batch} prompt(s) of up to ${maxPrompt} tokens`,
    estimateMemory(model.config, {
      batch,
      context: maxPrompt + opts.maxNewTokens,
      tokens: maxPrompt,
      logitsPerSequence: 1,
      weightsLoaded: true,
    }),
  );
  let cache = model.createCache(batch, maxPrompt + opts.maxNewTokens);
  // The sequence each cache row belongs to: rows of finished sequences are dropped once they are a quarter
  // of the batch (sampling runs long after most replies have ended; each drop copies the cache once).
  let rows = prompts.map((_, b) => b);
  const tokens: number[][] = prompts.map(() => []);
  const texts: string[] = prompts.map(() => '');
  const finish: (FinishReason | null)[] = prompts.map(() => null);
  const pad = model.config.padTokenId ?? 0;
  const limit = opts.vocabLimit;
  try {
    noGrad(() => {
      // Prefill: prompts right-padded; padding sits after each prompt, so causality keeps it invisible, and
      // each sequence's cache length is then set to its real length so decoding overwrites the padding.
      let next = tidy(() => {
        const ids = new Int32Array(batch * maxPrompt).fill(pad);
        prompts.forEach((p, b) => ids.set(p, b * maxPrompt));
        // Only each prompt's last position needs logits: [batch, 1, vocab] instead of [batch, maxPrompt, vocab]
        // (at a 100k vocabulary the full prefill logits outweigh every other activation).
        const { logits } = model.forward(tensor(ids, [batch, maxPrompt], 'i32'), {
          cache,
          lengths: prompts.map((p) => p.length),
          logitsAt: prompts.map((p) => p.length - 1),
        });
        return rowsOf(logits);
      });
      prompts.forEach((p, b) => (cache.lengths[b] = p.length));
      for (let step = 0; step < opts.maxNewTokens; step++) {
        // next[r] is the logits row of cache row r; sequences draw in sequence order, one uniform each.
        const chosen = rows.map((b, r) =>
          finish[b]
            ? pad
            : sampleToken(
                limit !== undefined && limit < next[r].length ? next[r].subarray(0, limit) : next[r],
                opts,
                gen,
              ),
        );
        rows.forEach((b, r) => {
          if (finish[b]) return;
          const tok = chosen[r];
          if (eos.has(tok)) {
            finish[b] = 'eos';
            return;
          }
          tokens[b].push(tok);
          opts.onToken?.(b, tok);
          if (opts.stop?.length) {
            const text = opts.decode!(tokens[b]);
            const cut = firstStop(text, opts.stop);
            if (cut >= 0) {
              texts[b] = text.slice(0, cut);
              finish[b] = 'stop';
            }
          }
        });
        if (finish.every((f) => f !== null) || step === opts.maxNewTokens - 1) break;
        const live = rows.flatMap((b, r) => (finish[b] ? [] : [r]));
        let input = chosen;
        if ((rows.length - live.length) * 4 >= rows.length) {
          const kept = cache.select(live);
          cache.dispose();
          cache = kept;
          rows = live.map((r) => rows[r]);
          input = live.map((r) => chosen[r]);
        }
        next = tidy(() => {
          const { logits } = model.forward(tensor(Int32Array.from(input), [input.length, 1], 'i32'), { cache });
          return rowsOf(logits);
        });
      }
    });
  } finally {
    cache.dispose();
  }
  const finishReasons = finish.map((f) => f ?? 'length');
  if (opts.decode) {
    prompts.forEach((_, b) => {
      if (finishReasons[b] !== 'stop') texts[b] = opts.decode!(tokens[b]);
    });
  }
  return { tokens, texts, finishReasons };
}

/** Copies of each row of [B, 1, vocab] logits (they outlive the tensor's scope). */
function rowsOf(logits: Tensor): Float32Array[] {
  const [batch, , vocab] = logits.shape;
  const data = logits.f32();
  return Array.from({ length: batch }, (_, r) => data.slice(r * vocab, (r + 1) * vocab));
}

function firstStop(text: string, stops: string[]): number {
  let best = -1;
  for (const s of stops) {
    if (s === '') continue;
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}
