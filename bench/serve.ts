// Serving benchmark: `olmo serve` (in this process, on a loopback port) under a bounded load generator of 1, 4, 16
// and 64 concurrent streaming clients, each sending a fixed number of requests (64 prompt tokens, 32 generated,
// greedy, EOS ignored) within a time limit. Reports output tokens/s, time to first token and inter-token latency
// (p50/p99), errors, and the throughput at 16 clients over sequential requests (continuous batching's gain).
//
// Models: a quickstart-size OLMo 2 (2 layers, d 64, vocab 1280) and the 150M shape (OLMO2_150M), with random
// weights held as olmo serve holds a loaded checkpoint (f32 inference weights: the wgemm kernels), and the built-in
// dolma2 tokenizer (ids past the model's vocabulary are never sampled).
// Options: --models quickstart,150M  --requests N (per client, default 8)  --seconds S (per level, default 30)
// --levels 1,4,16,64.
// Eight requests per client, not fewer: a level starts with its clients' first prompts prefilled one chunk a step
// with little decoding to batch them with, and ends with the last streams decoding alone. That ramp is the same
// length whatever the number of requests, so with few of them it weighs on the level's throughput instead of
// the steady state the level is meant to measure (at 4 requests a client it took about a third of the
// 16-client level on the 150M shape).
import OpenAI from 'openai';
import { Generator, backendName, numThreads } from '../src/tensor/index.ts';
import type { CausalLM } from '../src/models/index.ts';
import { dolma2Tokenizer } from '../src/tokenizers/index.ts';
import { startServer } from '../src/serve/index.ts';
import { forInference, OLMO2_150M, randomOlmo2 } from './random-model.ts';
import type { BenchOptions, Measurement } from './run.ts';

const SHAPES: Record<string, Record<string, unknown>> = {
  quickstart: {
    hidden_size: 64,
    intermediate_size: 160,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    vocab_size: 1280,
  },
  '150M': OLMO2_150M,
};
const PROMPT = 64;
const NEW = 32;

// held as olmo serve holds a loaded checkpoint (inference weights), not as a model being trained
const makeModel = (raw: Record<string, unknown>): CausalLM =>
  forInference(randomOlmo2({ max_position_embeddings: PROMPT + NEW, eos_token_id: 0, ...raw }));

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

interface Level {
  tokens: number;
  seconds: number;
  ttft: number[];
  itl: number[];
  errors: number;
  done: number;
}

/** `clients` loops of `requests` streaming completions each, stopped at the deadline. */
async function load(openai: OpenAI, vocab: number, clients: number, requests: number, seconds: number): Promise<Level> {
  const level: Level = { tokens: 0, seconds: 0, ttft: [], itl: [], errors: 0, done: 0 };
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const gen = new Generator(1000 + c);
      for (let r = 0; r < requests && performance.now() < deadline; r++) {
        const prompt = Array.from({ length: PROMPT }, () => 2 + (gen.nextU32() % (vocab - 2)));
        const sent = performance.now();
        let last = 0;
        try {
          const body = {
            model: 'bench',
            prompt,
            max_tokens: NEW,
            temperature: 0,
            stream: true,
            logprobs: 0,
            ignore_eos: true,
          };
          const stream = (await openai.completions.create(
            body as never,
          )) as unknown as AsyncIterable<OpenAI.Completions.Completion>;
          for await (const chunk of stream) {
            const n = chunk.choices[0]?.logprobs?.tokens?.length ?? 0;
            if (n === 0) continue;
            const now = performance.now();
            if (last === 0) level.ttft.push(now - sent);
            else level.itl.push(now - last);
            last = now;
            level.tokens += n;
          }
          level.done++;
        } catch {
          level.errors++;
        }
      }
    }),
  );
  level.seconds = (performance.now() - start) / 1000;
  return level;
}

/** One model's levels as the README table: clients, output tok/s, TTFT and ITL p50/p99, errors of requests. */
function levelTable(name: string, rows: [number, Level][]): string {
  const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
  const cells = [
    ['clients', 'output tok/s', 'TTFT p50 ms', 'TTFT p99 ms', 'ITL p50 ms', 'ITL p99 ms', 'errors'],
    ...rows.map(([c, l]) => [
      String(c),
      (l.tokens / l.seconds).toFixed(1),
      ms(percentile(l.ttft, 50)),
      ms(percentile(l.ttft, 99)),
      ms(percentile(l.itl, 50)),
      ms(percentile(l.itl, 99)),
      `${l.errors} of ${l.done + l.errors}`,
    ]),
  ];
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((x, i) => x.padStart(widths[i])).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`;
  return [`${name}:`, line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}

export async function run(opts: BenchOptions): Promise<Measurement[]> {
  const arg = (name: string) => {
    const i = opts.args.indexOf(`--${name}`);
    return i >= 0 ? opts.args[i + 1] : undefined;
  };
  const models = (arg('models') ?? 'quickstart,150M').split(',');
  const requests = Number(arg('requests') ?? 8);
  const seconds = Number(arg('seconds') ?? 30);
  const levels = (arg('levels') ?? '1,4,16,64').split(',').map(Number);
  opts.log(
    `backend ${backendName()}, ${numThreads()} threads; ${PROMPT} prompt + ${NEW} generated tokens per request, ${requests} requests per client, ${seconds} s per level; loopback, client and server in one process`,
  );
  const out: Measurement[] = [];
  for (const name of models) {
    const shape = SHAPES[name];
    if (!shape) throw new Error(`bench serve: unknown model '${name}' (known: ${Object.keys(SHAPES).join(', ')})`);
    const model = makeModel(shape);
    const server = await startServer({
      model,
      tokenizer: dolma2Tokenizer(),
      servedModelName: 'bench',
      port: 0,
      maxNumSeqs: 64,
      maxQueue: 1024,
      log: opts.log,
    });
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0, timeout: 600_000 });
    try {
      await load(openai, model.config.vocabSize, 1, 1, seconds); // warm-up
      let sequential = NaN;
      const rows: [number, Level][] = [];
      for (const clients of levels) {
        const l = await load(openai, model.config.vocabSize, clients, requests, seconds);
        rows.push([clients, l]);
        const tps = l.tokens / l.seconds;
        if (clients === 1) sequential = tps;
        const p = `${name} c=${clients}`;
        out.push(
          { name: `${p} output tokens/s`, value: tps, unit: 'tok/s' },
          { name: `${p} TTFT p50`, value: percentile(l.ttft, 50), unit: 'ms' },
          { name: `${p} TTFT p99`, value: percentile(l.ttft, 99), unit: 'ms' },
          { name: `${p} ITL p50`, value: percentile(l.itl, 50), unit: 'ms' },
          { name: `${p} ITL p99`, value: percentile(l.itl, 99), unit: 'ms' },
          { name: `${p} errors`, value: l.errors, unit: `of ${l.done + l.errors}` },
        );
        if (clients === 16 && Number.isFinite(sequential))
          out.push({ name: `${name} throughput 16 clients / sequential`, value: tps / sequential, unit: '×' });
      }
      opts.log(levelTable(name, rows));
      const ratio = out.find((m) => m.name === `${name} throughput 16 clients / sequential`);
      if (ratio) opts.log(`${name}: throughput at 16 clients ÷ sequential = ${ratio.value.toFixed(2)}×`);
    } finally {
      await server.close(1000);
    }
  }
  return out;
}
