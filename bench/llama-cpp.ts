// The llama.cpp side of `npm run bench -- llm`: one GGUF file in llama.cpp (node-llama-cpp's prebuilt CPU binary,
// https://node-llama-cpp.withcat.ai), run in a child process of its own as olmo-ts's modes are, so that its load
// is from the page cache and its peak RSS is its own. Settings are llama.cpp's defaults but for the thread
// count (2, as olmo-ts): memory-mapped weights, KV cache f16, batch size 512, flash attention as it chooses.
// Prefill is one 512-token prompt; decode runs llama.cpp's greedy sampler token by token after a 16-token
// prompt, on one sequence (batch 1) and on 8 sequences of one context decoded together (one llama_decode call of
// 8 tokens per step).
//
//   node --import tsx bench/llama-cpp.ts --child FILE.gguf PROMPT DECODE_TOKENS  → one JSON line (LlamaResult)
import { fileURLToPath } from 'node:url';
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';
import { randomIds } from './token-ids.ts';

export interface LlamaResult {
  loadSeconds: number;
  rssAfterLoad: number;
  prefillTps: number;
  decode1Tps: number;
  decode8Tps: number;
  peakRss: number;
}

const THREADS = 2;
const DECODE_PROMPT = 16;

async function prefillTps(model: LlamaModel, prompt: number, vocab: number): Promise<number> {
  const context = await model.createContext({ contextSize: prompt + 1, threads: THREADS });
  const ids = randomIds(prompt, vocab, 3) as Token[];
  const sequence = context.getSequence();
  await sequence.evaluateWithoutGeneratingNewTokens(ids); // warm-up, as llama-bench's (and bench/llm.ts's own)
  await sequence.clearHistory();
  const t0 = performance.now();
  await sequence.evaluateWithoutGeneratingNewTokens(ids);
  const tps = prompt / ((performance.now() - t0) / 1000);
  await context.dispose();
  return tps;
}

/**
 * `tokens` greedy steps on each of `batch` sequences decoded together; tokens/s over all of them. Each step asks
 * every sequence for its next token at once (controlledEvaluate, llama.cpp's greedy sampler), so node-llama-cpp
 * gathers the `batch` tokens into one llama_decode call, as llama.cpp's own parallel decoding does.
 */
async function decodeTps(model: LlamaModel, batch: number, tokens: number, vocab: number): Promise<number> {
  const context = await model.createContext({
    contextSize: DECODE_PROMPT + tokens + 1,
    sequences: batch,
    threads: THREADS,
  });
  const sequences = Array.from({ length: batch }, () => context.getSequence());
  await Promise.all(
    sequences.map((seq, b) =>
      seq.evaluateWithoutGeneratingNewTokens(randomIds(DECODE_PROMPT, vocab, 7 + b) as Token[]),
    ),
  );
  let next = randomIds(batch, vocab, 9) as Token[];
  const t0 = performance.now();
  for (let i = 0; i < tokens; i++) {
    const out = await Promise.all(
      sequences.map((seq, b) => seq.controlledEvaluate([[next[b], { generateNext: { token: true } }]])),
    );
    next = out.map((r, b) => {
      const token = r[0]?.next.token;
      if (token === undefined || token === null) throw new Error(`llama.cpp gave no token for sequence ${b}`);
      return token;
    });
  }
  const tps = (batch * tokens) / ((performance.now() - t0) / 1000);
  await context.dispose();
  return tps;
}

export async function runLlama(llama: Llama, path: string, prompt: number, tokens: number): Promise<LlamaResult> {
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const loadSeconds = (performance.now() - t0) / 1000;
  const rssAfterLoad = process.memoryUsage().rss;
  const n = vocabSize(model);
  const result: LlamaResult = {
    loadSeconds,
    rssAfterLoad,
    prefillTps: await prefillTps(model, prompt, n),
    decode1Tps: await decodeTps(model, 1, tokens, n),
    decode8Tps: await decodeTps(model, 8, Math.max(2, tokens >> 1), n),
    peakRss: process.resourceUsage().maxRSS * 1024,
  };
  await model.dispose();
  return result;
}

/** The token count of the file's tokenizer (tokenizer.ggml.tokens). */
function vocabSize(model: LlamaModel): number {
  const tokens = model.fileInfo.metadata.tokenizer?.ggml?.tokens;
  if (!tokens) throw new Error(`${model.filename ?? 'GGUF'}: no tokenizer.ggml.tokens`);
  return tokens.length;
}

if (process.argv[2] === '--child') {
  const [path, prompt, tokens] = process.argv.slice(3);
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
    maxThreads: THREADS,
  });
  const r = await runLlama(llama, path, Number(prompt), Number(tokens));
  process.stdout.write(`${JSON.stringify(r)}\n`);
  await llama.dispose();
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.error('usage: node --import tsx bench/llama-cpp.ts --child FILE.gguf PROMPT DECODE_TOKENS');
  process.exit(2);
}
