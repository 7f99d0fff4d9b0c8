// Evaluation benchmark: log-likelihood requests/s of the in-process backend (LocalBackend, the `olmo eval --model`
// path) on a random-weight OLMo 2 of about 30M parameters (d 384, 8 layers, 6 heads, vocab 20480; bf16 weights
// loaded as `olmo eval` loads a checkpoint), for an OLMES-shaped workload: docs with a few-shot context of CONTEXT
// tokens and 4 answer continuations of 2–8 tokens. Each way of scoring is warmed up on a few requests first.
//
//   alone:     each request scored alone (its context recomputed every time)
//   one at a time: all requests in one backend call, each distinct context prefilled once and forked for its
//             continuations, one context or continuation per forward pass (score batch 1: the scoring before
//             batching) — the baseline of the batched rows
//   batched:   the same with score batch 16 (the default) and 64: several contexts, then several continuations,
//             per forward pass (right-padded); the run checks that every result equals one at a time bit for bit
// Args: --docs N (default 12), --context T (default 192 tokens).
import { LocalBackend } from '../src/eval/backends/local.ts';
import type { LoglikelihoodRequest } from '../src/eval/types.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, saveModel, type CausalLM } from '../src/models/index.ts';
import { Generator, backendName, numThreads } from '../src/tensor/index.ts';
import type { Tokenizer } from '../src/tokenizers/index.ts';
import { randomOlmo2 } from './random-model.ts';
import type { BenchOptions, Measurement } from './run.ts';

/**
 * The random model saved and loaded back the way `olmo eval --model DIR` loads a checkpoint: bf16, as real OLMo
 * checkpoints are, kept as stored (the inference kernels; a freshly initialised model would run the training GEMM).
 */
function makeModel(): CausalLM {
  const dir = mkdtempSync(join(tmpdir(), 'olmo-bench-eval-'));
  try {
    const random = randomOlmo2({
      hidden_size: 384,
      intermediate_size: 1024,
      num_hidden_layers: 8,
      num_attention_heads: 6,
      vocab_size: 20480,
      max_position_embeddings: 2048,
      eos_token_id: 0,
      pad_token_id: 1,
    });
    saveModel(random, dir, { dtype: 'bfloat16' });
    return loadModel(dir, { trainable: false, weights: 'stored', verify: 'none' });
  } finally {
    rmSync(dir, { recursive: true, force: true }); // the mapped weights outlive their file's name
  }
}

/** A byte-level tokenizer (id = 2 + byte): one token per character of ASCII text, enough for timing. */
function byteTokenizer(): Tokenizer {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  return {
    name: 'bytes',
    vocabSize: 258,
    bosTokenId: null,
    eosTokenId: 0,
    padTokenId: 1,
    unkTokenId: null,
    bosToken: null,
    eosToken: '<eos>',
    padToken: '<pad>',
    unkToken: null,
    specialTokenIds: new Set([0, 1]),
    chatTemplate: null,
    encode: (text: string) => Array.from(enc.encode(text), (b) => 2 + b),
    decode: (ids: ArrayLike<number>) =>
      dec.decode(
        Uint8Array.from(
          Array.from(ids)
            .filter((i) => i >= 2)
            .map((i) => i - 2),
        ),
      ),
    tokenToId: () => undefined,
    idToToken: (id: number) => (id === 0 ? '<eos>' : undefined),
    decodeStream: () => {
      throw new Error('not needed');
    },
  } as Tokenizer;
}

function workload(docs: number, contextTokens: number): LoglikelihoodRequest[] {
  const gen = new Generator(7);
  const word = (n: number) => Array.from({ length: n }, () => String.fromCharCode(97 + gen.int(26))).join('');
  const reqs: LoglikelihoodRequest[] = [];
  for (let d = 0; d < docs; d++) {
    let ctx = '';
    while (ctx.length < contextTokens - 8) ctx += word(1 + gen.int(7)) + ' ';
    ctx = ctx.slice(0, contextTokens - 8) + '\nAnswer:';
    for (let c = 0; c < 4; c++)
      reqs.push({ type: 'loglikelihood', context: ctx, continuation: ' ' + word(1 + gen.int(7)) });
  }
  return reqs;
}

async function rate(fn: () => Promise<unknown>, n: number): Promise<number> {
  const t0 = performance.now();
  await fn();
  return n / ((performance.now() - t0) / 1000);
}

export async function run(opts: BenchOptions): Promise<Measurement[]> {
  const arg = (name: string, def: number) => {
    const i = opts.args.indexOf(`--${name}`);
    return i >= 0 ? Number(opts.args[i + 1]) : def;
  };
  const docs = arg('docs', 12);
  const context = arg('context', 192);
  const model = makeModel();
  const params = [...model.namedParameters()].reduce((a, [, t]) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  const tok = byteTokenizer();
  const reqs = workload(docs, context);
  opts.log(
    `eval bench: ${(params / 1e6).toFixed(1)}M-parameter OLMo 2, ${backendName()} backend, ${numThreads()} threads; ${docs} docs × 4 choices, contexts of ${context} tokens`,
  );
  const backend = (scoreBatchSize: number) =>
    new LocalBackend({ model, tokenizer: tok, name: 'bench', scoreBatchSize });
  const one = backend(1);
  await one.loglikelihood(reqs.slice(0, 4)); // warm-up
  let reference: Awaited<ReturnType<LocalBackend['loglikelihood']>> = [];
  const oneAtATime = await rate(async () => (reference = await one.loglikelihood(reqs)), reqs.length);
  const batched: Measurement[] = [];
  for (const size of [16, 64]) {
    let got: typeof reference = [];
    const b = backend(size);
    await b.loglikelihood(reqs.slice(0, 4 * size)); // warm-up, as for one at a time: this batch's shapes
    const value = await rate(async () => (got = await b.loglikelihood(reqs)), reqs.length);
    const same = got.every(
      (r, i) => Object.is(r.logprob, reference[i].logprob) && r.isGreedy === reference[i].isGreedy,
    );
    if (!same) throw new Error(`eval bench: score batch ${size} changed a result (batch invariance broken)`);
    batched.push({
      name: `loglikelihood, score batch ${size}${size === 16 ? ' (default)' : ''}, results identical`,
      value,
      unit: 'req/s',
      baseline: oneAtATime,
      ratio: value / oneAtATime,
    });
  }
  const alone = await rate(async () => {
    for (const r of reqs) await one.loglikelihood([r]);
  }, reqs.length);
  return [
    { name: 'loglikelihood, each request alone', value: alone, unit: 'req/s' },
    {
      name: 'loglikelihood, shared contexts, one at a time (score batch 1)',
      value: oneAtATime,
      unit: 'req/s',
      baseline: alone,
      ratio: oneAtATime / alone,
    },
    ...batched,
  ];
}
