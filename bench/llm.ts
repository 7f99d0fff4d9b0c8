// Real-size LLM benchmark: load time, prefill and decode tokens/s (decoding at batch 1 also after a 1024-token
// prompt, where attention reads the KV cache) and peak resident memory of an
// OLMo-2-0425-1B-shaped model (or OLMoE-1B-7B-shaped with --shape olmoe, a 190M-parameter OLMo 2 for quick
// iteration with --shape small, or a real checkpoint with --model DIR) with f32, bf16 (kept as stored,
// memory-mapped) and int8 (q8_0) weights, beside llama.cpp on the same weights: each checkpoint is exported to
// GGUF once (f32, bf16, q8_0) and run by llama.cpp (bench/llama-cpp.ts) right after the olmo-ts mode it is
// compared with, in the same invocation. Also in the same run: a STREAM-like copy that measures the memory
// bandwidth, once at the start and again beside each block of batch-1 decoding (the host's bandwidth drifts within
// minutes), so that decode at batch 1 reads as a share of its limit (weight bytes read per token ÷ the bandwidth
// measured beside it), and `bench gemm`'s square-SGEMM rate, against which prefill's matmul rate is set (over the
// whole prefill), and the weight products' own rate at prefill's shapes (layer 0's matrices alone). With both bf16
// and int8 among the modes, a last child loads both and decodes at batch 1 in alternating blocks (runPair): int8 ÷
// bf16 measured under the same host conditions, which two children minutes apart are not.
// Modes: f32 is an f32 checkpoint loaded as stored (inference weights: the wgemm kernels); bf16-fast is bf16 in
// the fast mode (activations rounded to bf16, AVX512_BF16 dot products: what llama.cpp's bf16 does, so the like-
// for-like row beside it; the exact bf16 mode widens the weights instead); int8 quantises the
// bf16 checkpoint at load; int8-fast is int8 in the int8 fast mode (activations quantised to q8_0 too, integer
// block sums: what llama.cpp's q8_0 does, so the like-for-like row beside it); int8-gguf loads the very q8_0 GGUF
// file llama.cpp runs (so its load time compares like for like); f32-gemm is the bf16 checkpoint widened to f32
// master weights (loadModel's default, the training GEMM), for comparison (no llama.cpp row).
//
// Random bf16 weights are written once into .bench-cache/ (gitignored), and an f32 copy of them when the f32
// mode first runs. Each weight mode, and each llama.cpp run, is a child process of its own, so the load is from
// the page cache (each side's files are read through once just before it runs), not from memory the previous mode
// left behind, and peak RSS is that run's own. Prefill is timed on a second run of the prompt, after one untimed
// warm-up run, on both sides (as llama-bench does by default): the first pass over freshly mapped weights also
// pays the page-table work of first touches, which is load cost, not prefill speed.
//
//   npm run bench -- llm [--shape 1b|olmoe|small] [--model DIR]
//                        [--modes f32,bf16,bf16-fast,int8,int8-fast,int8-gguf,f32-gemm]
//                        [--decode-tokens N (128)] [--rounds N (1: ours then llama.cpp, per mode)]
//                        [--baseline llama.cpp|none] [--align-weights]
// --align-weights loads as `olmo generate --align-weights` does (LoadOptions.alignWeights: stored float matrices
// that do not start on a 64-byte line copied onto one at load; the benchmark's checkpoints are Hugging Face-style,
// their data 16 bytes past a line).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import {
  cpuPaths,
  linear,
  noGrad,
  numThreads,
  setBf16Fast,
  setInt8Fast,
  tensor,
  tidy,
  type Tensor,
} from '../src/tensor/index.ts';
import { loadNativeAddon, nativeLoadError } from '../src/tensor/native-addon.ts';
import { mapFile, releasePages } from '../src/tensor/mapped-file.ts';
import { createNativeKernels } from '../src/tensor/kernels/native.ts';
import {
  loadModel,
  parseConfig,
  readConfig,
  saveModel,
  toHfConfig,
  type CausalLM,
  type LoadOptions,
  type ModelConfig,
} from '../src/models/index.ts';
import { exportGguf, type GgufDType } from '../src/models/gguf-export.ts';
import { saveTrainedTokenizer, trainByteLevelBpeSync } from '../src/tokenizers/train-bpe.ts';
import { saveShardedSafetensors, type TensorToWrite } from '../src/io/safetensors.ts';
import { writeFileSync } from 'node:fs';
import { createModel } from '../src/models/families.ts';
import { placeholderInit, type KVCache } from '../src/nn/index.ts';
import type { BenchOptions, Measurement } from './run.ts';
import { cpuModel, randomArray, square, timeOurs } from './gemm.ts';
import type { LlamaResult } from './llama-cpp.ts';
import { randomIds as randomIdList } from './token-ids.ts';

const SHAPES: Record<string, Record<string, unknown>> = {
  // allenai/OLMo-2-0425-1B's config.json: 1.48B parameters, untied embeddings.
  '1b': {
    model_type: 'olmo2',
    hidden_size: 2048,
    intermediate_size: 8192,
    num_hidden_layers: 16,
    num_attention_heads: 16,
    num_key_value_heads: 16,
    vocab_size: 100352,
    max_position_embeddings: 4096,
    rope_theta: 500000,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: false,
  },
  // OLMo 2 layers at GPT-2-small width: 190M parameters (85M of them in the untied embeddings and head).
  small: {
    model_type: 'olmo2',
    hidden_size: 768,
    intermediate_size: 3072,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    num_key_value_heads: 12,
    vocab_size: 50304,
    max_position_embeddings: 4096,
    rope_theta: 500000,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: false,
  },
  // allenai/OLMoE-1B-7B-0924's config.json: 6.9B parameters, 64 experts, 8 per token.
  olmoe: {
    model_type: 'olmoe',
    hidden_size: 2048,
    intermediate_size: 1024,
    num_hidden_layers: 16,
    num_attention_heads: 16,
    num_key_value_heads: 16,
    num_experts: 64,
    num_experts_per_tok: 8,
    vocab_size: 50304,
    max_position_embeddings: 4096,
    rope_theta: 10000,
    rms_norm_eps: 1e-5,
    clip_qkv: null,
    tie_word_embeddings: false,
  },
};

const PROMPT = 512;
/** Blocks of decoding at batch 1, each between two copy-bandwidth measurements (decodeBesideCopies). */
const DECODE_BLOCKS = 3;
/** Pairs of batch-1 decoding blocks, int8 then bf16 or the other way round, in the int8 ÷ bf16 child (runPair). */
const PAIR_BLOCKS = 6;
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');

/** Random bf16 weights of the shape (≈ N(0, 0.02²) from a xorshift stream; norms 1), written once. */
function ensureCheckpoint(shape: string, log: (m: string) => void): string {
  const dir = join(ROOT, '.bench-cache', `llm-${shape}-bf16`);
  if (existsSync(join(dir, 'config.json'))) return dir;
  log(`writing random ${shape} weights (bf16) into ${dir} (once)`);
  const cfg = parseConfig(SHAPES[shape]);
  // placeholders sized as the bf16 file will be, so the memory check does not refuse OLMoE at its f32 size
  const model = createModel(cfg, placeholderInit, 'bf16');
  let s = 0x9e3779b9;
  const tensors: [string, TensorToWrite][] = [];
  const u32 = new Uint32Array(1);
  const f32 = new Float32Array(u32.buffer);
  for (const [name, t] of model.namedParameters()) {
    const data = new Uint16Array(t.size);
    if (t.rank === 1) data.fill(0x3f80);
    else
      for (let i = 0; i < data.length; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        // Sum of two uniforms: a cheap bell shape with standard deviation ≈ 0.02.
        f32[0] = ((s >>> 0) / 2 ** 32 + ((s * 2654435761) >>> 0) / 2 ** 32 - 1) * 0.049;
        data[i] = u32[0] >>> 16;
      }
    tensors.push([name, { dtype: 'BF16', shape: t.shape, data }]);
  }
  mkdirSync(dir, { recursive: true });
  saveShardedSafetensors(dir, tensors, { maxShardSize: '5GB', metadata: { format: 'pt' } });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfConfig(cfg, 'bfloat16'), null, 2));
  return dir;
}

/** An f32 copy of a bf16 checkpoint folder (the same values, widened exactly), written once beside it. */
function ensureF32Checkpoint(bf16Dir: string, log: (m: string) => void): string {
  const dir = bf16Dir.replace(/-bf16$/, '-f32');
  if (existsSync(join(dir, 'config.json'))) return dir;
  log(`writing an f32 copy of ${bf16Dir} into ${dir} (once)`);
  saveModel(loadModel(bf16Dir, { trainable: false, verify: 'size' }), dir, { dtype: 'float32', maxShardSize: '5GB' });
  return dir;
}

/** The weight files of a checkpoint folder (its .safetensors), or the file itself (a GGUF). */
function weightFiles(dir: string): string[] {
  if (statSync(dir).isFile()) return [dir];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors'))
    .map((f) => join(dir, f));
}

/** Bytes of a checkpoint's weight files (a folder's safetensors, or one .gguf file). */
function weightFileBytes(dir: string): number {
  return weightFiles(dir).reduce((n, f) => n + statSync(f).size, 0);
}

/**
 * Reads the weight files once, so that the run after it finds them in the page cache as far as memory allows:
 * both sides start warm, rather than one reading from disk what the previous run (or an export) evicted. They are
 * read as olmo-ts's loader reads a file it maps (mapFile: MADV_HUGEPAGE, then MADV_POPULATE_READ), so pages the host
 * reclaimed since the last run come back in the large folios a first load gives them; read() brings them back in
 * small ones, which a mapping cannot map with 2 MiB pages (each run reports the share it could: `huge-page mapped`).
 */
function warmPageCache(dir: string): void {
  let buf: Buffer | undefined; // for read(), without the native addon
  for (const f of weightFiles(dir)) {
    const mapped = mapFile(f, true);
    if (mapped) {
      releasePages(mapped, 0, mapped.byteLength); // the pages stay cached; this process need not map them
      continue;
    }
    buf ??= Buffer.allocUnsafe(1 << 24);
    const fd = openSync(f, 'r');
    try {
      while (readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

/** Bytes of this process's file mappings mapped with 2 MiB pages (FilePmdMapped), or null where Linux does not say. */
function filePmdMappedBytes(): number | null {
  try {
    const m = /^FilePmdMapped:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Bytes of weights one decoded token reads: every matrix (of an MoE layer, its top-k experts) but the embedding table, of which one row. */
function bytesPerToken(model: CausalLM): number {
  const cfg = model.config;
  // An MoE token reads its top-k experts of each layer, not all of them (expert tensors: mlp.experts.*).
  const expertShare = cfg.modelType === 'olmoe' ? cfg.numExpertsPerTok / cfg.numExperts : 1;
  let n = 0;
  for (const [name, t] of model.namedParameters()) {
    const bytes = t.data.byteLength; // q8_0: each row's quants and its block scales
    if (name.endsWith('embed_tokens.weight')) n += bytes / t.shape[0];
    else n += name.includes('.experts.') ? bytes * expertShare : bytes;
  }
  return n;
}

/** An olmo-ts mode's figures: llama.cpp's, and what only olmo-ts reports. */
interface ChildResult extends LlamaResult {
  bytesPerToken: number;
  /** The largest KV cache the run held (prefill's, or batch-8 decoding's). */
  kvBytes: number;
  /** Decoding at batch 1 after LONG_CONTEXT tokens (decodeTps with a context), tokens/s. */
  decodeLongTps: number;
  /** Decoding at batch 1 as a share of its bandwidth limit, against copies measured beside it (decodeBesideCopies). */
  decode1Share: number;
  /** The copy bandwidth measured beside decoding at batch 1 (the median of its measurements), bytes/s. */
  bandwidthBeside: number;
  /** Share of the weight files mapped with 2 MiB pages after the first forward pass, or null (not Linux, or not mapped). */
  hugeMapped: number | null;
  /** GFLOP/s of the weight products alone at prefill's shapes (prefillGemmRate). */
  prefillGemmGflops: number;
}

/**
 * The weight products' own rate at prefill's shapes, without the rest of the forward pass (attention, norms,
 * RoPE, the step's allocations): every matrix of layer 0 through the op generation uses (`linear`, so the weight
 * mode's kernel and the bf16 fast mode as set), on `tokens` random rows; for OLMoE's experts, expert 0 on the rows
 * an expert gets on average (tokens · top-k / experts). Best of three passes, GFLOP/s.
 */
function prefillGemmRate(model: CausalLM, tokens: number): number {
  const cfg = model.config;
  const expertRows = Math.max(1, Math.round((tokens * cfg.numExpertsPerTok) / Math.max(1, cfg.numExperts)));
  const products: { x: Tensor; w: Tensor }[] = [];
  let flops = 0;
  for (const [name, w] of model.namedParameters()) {
    if (!/(^|\.)layers\.0\./.test(name) || w.rank !== 2) continue;
    if (name.includes('.experts.') && !name.includes('.experts.0.')) continue;
    const [n, k] = w.shape;
    const m = name.includes('.experts.') ? expertRows : tokens;
    products.push({ x: tensor(randomArray(m * k, 1), [m, k]), w });
    flops += 2 * m * n * k;
  }
  if (products.length === 0) throw new Error('bench llm: found no matrices of layer 0 to time');
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const t0 = performance.now();
    noGrad(() => tidy(() => products.forEach(({ x, w }) => void linear(x, w))));
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return flops / best / 1e9;
}

const randomIds = (n: number, vocab: number, seed: number) => Int32Array.from(randomIdList(n, vocab, seed));

const cacheBytes = (cache: KVCache) => cache.layers.reduce((n, l) => n + l.k.data.byteLength + l.v.data.byteLength, 0);

/**
 * Decoding `tokens` tokens at a batch of `batch` after a prompt of `context` tokens (prefilled in chunks of PROMPT,
 * the last position's logits only), tokens/s. A long context makes each token also read the whole KV cache (f32:
 * 16 KiB per position and layer at the 1B shape), which the 16-token prompt of the other figures hardly touches.
 */
function decodeTps(model: CausalLM, batch: number, tokens: number, context = 16): { tps: number; kvBytes: number } {
  const vocab = model.config.vocabSize;
  const cache = model.createCache(batch, context + tokens);
  for (let p = 0; p < context; p += PROMPT) {
    const n = Math.min(PROMPT, context - p);
    const prompt = randomIds(batch * n, vocab, 7 + p);
    const logitsAt = new Array<number>(batch).fill(n - 1);
    noGrad(() => tidy(() => void model.forward(tensor(prompt, [batch, n], 'i32'), { cache, logitsAt })));
  }
  const ids = randomIds(batch, vocab, 9);
  const t0 = performance.now();
  for (let i = 0; i < tokens; i++)
    noGrad(() => tidy(() => void model.forward(tensor(ids, [batch, 1], 'i32'), { cache })));
  return { tps: (batch * tokens) / ((performance.now() - t0) / 1000), kvBytes: cacheBytes(cache) };
}

/** Tokens in the cache before the long-context decoding figure (decodeTps with a context). */
const LONG_CONTEXT = 1024;

/**
 * Decoding at batch 1 in `blocks` blocks of `tokens` tokens, with the copy bandwidth measured before each block and
 * after the last. The host's bandwidth moves by 10–30% within minutes, so a block is set against the mean of the
 * two copies beside it, not against one measured minutes earlier: its share of the limit is tok/s ÷ (bandwidth ÷
 * weight bytes per token). Returns the median block's rate and the median share.
 */
async function decodeBesideCopies(
  model: CausalLM,
  bytesPerToken: number,
  tokens: number,
  blocks: number,
): Promise<{ tps: number; share: number; bandwidth: number }> {
  const copies = [await copyBandwidth(numThreads())];
  const rates: number[] = [];
  for (let b = 0; b < blocks; b++) {
    rates.push(decodeTps(model, 1, tokens).tps);
    copies.push(await copyBandwidth(numThreads()));
  }
  const shares = rates.map((tps, b) => (tps * bytesPerToken) / ((copies[b] + copies[b + 1]) / 2));
  return { tps: median(rates), share: median(shares), bandwidth: median(copies) };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

type Mode = 'f32' | 'bf16' | 'bf16-fast' | 'int8' | 'int8-fast' | 'int8-gguf' | 'f32-gemm';
const MODES: readonly Mode[] = ['f32', 'bf16', 'bf16-fast', 'int8', 'int8-fast', 'int8-gguf', 'f32-gemm'];
const LOAD: Record<Mode, LoadOptions['weights']> = {
  f32: 'stored',
  bf16: 'stored',
  'bf16-fast': 'stored',
  int8: 'int8',
  'int8-fast': 'int8',
  'int8-gguf': 'int8',
  'f32-gemm': 'f32',
};

/** One weight mode, in this (child) process. */
async function runMode(dir: string, mode: Mode, decodeTokens: number, alignWeights: boolean): Promise<ChildResult> {
  if (mode === 'bf16-fast') {
    if (cpuPaths()?.fastModes.bf16 !== 'avx512-bf16')
      throw new Error('bench llm: bf16-fast needs AVX512_BF16 and the AVX-512 path; this CPU or path has neither');
    setBf16Fast(true);
  }
  if (mode === 'int8-fast') setInt8Fast(true);
  const t0 = performance.now();
  const model = loadModel(dir, { trainable: false, weights: LOAD[mode], verify: 'size', alignWeights });
  const loadSeconds = (performance.now() - t0) / 1000;
  const rssAfterLoad = process.memoryUsage().rss;
  const ids = randomIds(PROMPT, model.config.vocabSize, 3);
  // The last position's logits only, as generation asks for them (and as llama.cpp computes them).
  let prefillKvBytes = 0;
  const prefill = () =>
    noGrad(() =>
      tidy(() => {
        const cache = model.createCache(1, PROMPT);
        model.forward(tensor(ids, [1, PROMPT], 'i32'), { cache, logitsAt: [PROMPT - 1] });
        prefillKvBytes = cacheBytes(cache);
      }),
    );
  prefill(); // the warm-up run llama-bench makes too: first touches of weights and buffers are not prefill speed
  const pmd = filePmdMappedBytes();
  const hugeMapped = pmd === null || LOAD[mode] !== 'stored' ? null : pmd / weightFileBytes(dir);
  const p0 = performance.now();
  prefill();
  const prefillTps = PROMPT / ((performance.now() - p0) / 1000);
  const d8 = decodeTps(model, 8, Math.max(2, decodeTokens >> 1));
  // Before the copies beside batch-1 decoding, whose buffers are the benchmark's, not the model's.
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const bytes = bytesPerToken(model);
  const d1 = await decodeBesideCopies(model, bytes, decodeTokens, DECODE_BLOCKS);
  const decodeLongTps = decodeTps(model, 1, Math.max(2, decodeTokens >> 1), LONG_CONTEXT).tps;
  return {
    loadSeconds,
    rssAfterLoad,
    prefillTps,
    decode1Tps: d1.tps,
    decodeLongTps,
    decode1Share: d1.share,
    bandwidthBeside: d1.bandwidth,
    hugeMapped,
    decode8Tps: d8.tps,
    peakRss,
    bytesPerToken: bytes,
    kvBytes: Math.max(prefillKvBytes, d8.kvBytes),
    prefillGemmGflops: prefillGemmRate(model, PROMPT),
  };
}

/** The int8 ÷ bf16 child's figures: each block's batch-1 decoding rate, tokens/s, in the order run. */
interface PairResult {
  bf16: number[];
  int8: number[];
}

/**
 * int8 against exact bf16 at batch 1, both models loaded in one process and decoding in alternating blocks (the
 * first of each pair alternates too), so that both see the same host: the host's memory bandwidth moves by 10–30%
 * within minutes, which, between two modes measured in children minutes apart, moves their ratio as much. One
 * untimed block each first.
 */
function runPair(dir: string, decodeTokens: number, alignWeights: boolean): PairResult {
  const load = (weights: LoadOptions['weights']) =>
    loadModel(dir, { trainable: false, weights, verify: 'size', alignWeights });
  const models = { bf16: load('stored'), int8: load('int8') };
  const out: PairResult = { bf16: [], int8: [] };
  for (const m of ['bf16', 'int8'] as const) decodeTps(models[m], 1, decodeTokens);
  for (let b = 0; b < PAIR_BLOCKS; b++)
    for (const m of b % 2 === 0 ? (['int8', 'bf16'] as const) : (['bf16', 'int8'] as const))
      out[m].push(decodeTps(models[m], 1, decodeTokens).tps);
  return out;
}

/** Whether a bf16 checkpoint of `fileBytes` and its int8 copy fit in this machine's memory together (runPair). */
function pairFits(fileBytes: number): boolean {
  return fileBytes * (1 + 1.0625 / 2) < 0.6 * totalmem();
}

/** STREAM-like copy on every kernel thread at once: bytes read + written per second, best of 5. */
async function copyBandwidth(threads: number): Promise<number> {
  const code = `const { parentPort } = require('node:worker_threads');
    const a = new Float64Array(1 << 25), b = new Float64Array(1 << 25); a.fill(1);
    parentPort.on('message', () => { b.set(a); a.set(b); parentPort.postMessage(0); });`;
  const workers = Array.from({ length: threads }, () => new Worker(code, { eval: true }));
  const round = () => Promise.all(workers.map((w) => new Promise((r) => (w.once('message', r), w.postMessage(0)))));
  await round(); // warm-up: pages touched
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await round();
    const seconds = (performance.now() - t0) / 1000;
    best = Math.max(best, (threads * 2 * 2 * (1 << 25) * 8) / seconds);
  }
  await Promise.all(workers.map((w) => w.terminate()));
  return best;
}

/** The GGUF type llama.cpp runs beside each of our modes (none for f32-gemm, the training GEMM). */
const GGUF_DTYPE: Record<Mode, GgufDType | null> = {
  f32: 'f32',
  bf16: 'bf16',
  'bf16-fast': 'bf16',
  int8: 'q8_0',
  'int8-fast': 'q8_0',
  'int8-gguf': 'q8_0',
  'f32-gemm': null,
};

/**
 * A byte-level BPE of 300 tokens for GGUF files of checkpoints without a tokenizer (the random ones): llama.cpp
 * cannot load a GGUF without one (node-llama-cpp aborts in llama_vocab), and the exporter pads the token list to
 * the embedding rows. Which tokens they are does not change the speed of a forward pass.
 */
function ensureTokenizer(): string {
  const dir = join(ROOT, '.bench-cache', 'llm-tokenizer');
  if (!existsSync(join(dir, 'tokenizer.json')))
    saveTrainedTokenizer(trainByteLevelBpeSync({ texts: ['the cat sat on the mat. '.repeat(8)], vocabSize: 300 }), dir);
  return dir;
}

/** The checkpoint exported to GGUF once into .bench-cache/, beside the checkpoint's own cache folder. */
async function ensureGguf(dir: string, dtype: GgufDType, log: (m: string) => void): Promise<string> {
  const path = join(ROOT, '.bench-cache', `${basename(dir).replace(/-(bf16|f32)$/, '')}-${dtype}.gguf`);
  if (existsSync(path)) return path;
  log(`exporting ${dir} to ${path} (once)`);
  const tokenizer = existsSync(join(dir, 'tokenizer.json')) ? dir : ensureTokenizer();
  await exportGguf({ model: dir, out: path, dtype, tokenizer });
  return path;
}

/** Runs a child (ours: this file; llama.cpp: bench/llama-cpp.ts) and parses its last stdout line. */
function child<T>(script: string, args: string[]): T | string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, script), '--child', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) return (r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' | ');
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

/** The best of each quantity over the rounds: highest rates, lowest load time and memory (null: the first round's). */
function best<T extends object>(runs: T[], lowerIsBetter: readonly (keyof T)[]): T {
  const out = { ...runs[0] };
  for (const r of runs.slice(1))
    for (const k of Object.keys(r) as (keyof T)[]) {
      const [a, b] = [out[k] as number, r[k] as number];
      if (typeof a !== 'number' || typeof b !== 'number') continue; // null: not measured
      out[k] = (lowerIsBetter.includes(k) ? Math.min(a, b) : Math.max(a, b)) as T[keyof T];
    }
  return out;
}

const LOWER_IS_BETTER = ['loadSeconds', 'rssAfterLoad', 'peakRss'] as const;

/** A row with llama.cpp's figure as baseline; `ratio` > 1 means olmo-ts is better (rates ours÷theirs, else theirs÷ours). */
function versus(name: string, unit: string, ours: number, theirs: number | undefined, lower = false): Measurement {
  const m: Measurement = { name, value: ours, unit };
  if (theirs === undefined) return m;
  return { ...m, baseline: theirs, ratio: lower ? theirs / ours : ours / theirs };
}

/**
 * FLOPs of a prefill of `tokens` tokens, last position's logits only (as generation runs it): every matrix a token
 * passes through (for OLMoE the router and its top-k experts), times 2, plus causal attention's two products.
 */
function prefillFlops(cfg: ModelConfig, tokens: number): number {
  const d = cfg.hiddenSize;
  const qkvo = d * cfg.numHeads * cfg.headDim * 2 + d * cfg.numKvHeads * cfg.headDim * 2;
  const mlp =
    cfg.modelType === 'olmoe'
      ? d * cfg.numExperts + 3 * d * cfg.intermediateSize * cfg.numExpertsPerTok
      : 3 * d * cfg.intermediateSize;
  const attention = 2 * 2 * cfg.numHeads * cfg.headDim * ((tokens + 1) / 2);
  return tokens * (2 * cfg.numLayers * (qkvo + mlp) + cfg.numLayers * attention) + 2 * d * cfg.vocabSize;
}

/** The square-GEMM rate `npm run bench -- gemm` reports (its own measurement code), best over 1024³ and 2048³. */
function squareGemmRate(): number {
  const addon = loadNativeAddon();
  if (!addon) throw new Error(`bench llm: the native addon does not load: ${nativeLoadError()}`);
  const { gemm } = createNativeKernels(addon);
  return Math.max(...[1024, 2048].flatMap((s) => [1, 2, 3].map(() => timeOurs(gemm, square(s)).best)));
}

interface RunArgs {
  shape: string;
  modes: Mode[];
  decodeTokens: number;
  rounds: number;
  model: string | undefined;
  baseline: boolean;
  alignWeights: boolean;
}

function parseArgs(args: string[]): RunArgs {
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const shape = arg('--shape') ?? '1b';
  if (!SHAPES[shape])
    throw new Error(`bench llm: --shape must be one of ${Object.keys(SHAPES).join(', ')}, got ${shape}`);
  // OLMoE's f32 copy would be 27 GB, more than the machines this runs on hold: bf16 and int8 only by default.
  const modes = (
    arg('--modes') ??
    (shape === 'olmoe' ? 'bf16,int8,int8-fast,int8-gguf' : 'f32,bf16,bf16-fast,int8,int8-fast,int8-gguf')
  ).split(',') as Mode[];
  const unknown = modes.filter((m) => !MODES.includes(m));
  if (unknown.length > 0) throw new Error(`bench llm: --modes takes ${MODES.join(', ')}; got ${unknown.join(', ')}`);
  const count = (name: string, fallback: number) => {
    const v = Number(arg(name) ?? fallback);
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`bench llm: ${name} must be a positive integer, got ${arg(name)}`);
    return v;
  };
  const baseline = arg('--baseline') ?? 'llama.cpp';
  if (baseline !== 'llama.cpp' && baseline !== 'none')
    throw new Error(`bench llm: --baseline must be llama.cpp or none, got ${baseline}`);
  return {
    shape,
    modes,
    decodeTokens: count('--decode-tokens', 128),
    rounds: count('--rounds', 1),
    model: arg('--model'),
    baseline: baseline === 'llama.cpp',
    alignWeights: args.includes('--align-weights'),
  };
}

export async function run(opts: BenchOptions): Promise<Measurement[]> {
  const a = parseArgs(opts.args);
  const dir = a.model ?? ensureCheckpoint(a.shape, opts.log);
  const cfg = readConfig(dir);
  const fileBytes = weightFileBytes(dir);
  const bandwidth = await copyBandwidth(numThreads());
  const paths = cpuPaths();
  opts.log(
    `cpu: ${cpuModel()}; kernel paths ${paths ? `${paths.active} (detected ${paths.detected}; gemm ${paths.gemm}, other ${paths.other}; bf16-fast ${paths.fastModes.bf16}, int8-fast ${paths.fastModes.int8})` : 'js backend'}; ${numThreads()} threads`,
  );
  if (a.alignWeights) opts.log('--align-weights: float matrices off a 64-byte line are copied onto one at load');
  opts.log(
    `${dir}: ${(fileBytes / 2 ** 30).toFixed(2)} GiB of weights; copy bandwidth ${(bandwidth / 1e9).toFixed(1)} GB/s`,
  );
  const sgemm = squareGemmRate();
  opts.log(`square SGEMM (bench gemm's measurement, best of 1024³ and 2048³): ${sgemm.toFixed(1)} GFLOP/s`);
  if (a.baseline)
    opts.log(
      'llama.cpp baseline (node-llama-cpp, 2 threads, defaults, KV f16): f32 vs its f32, bf16 and bf16-fast vs bf16, int8, int8-fast and int8-gguf vs q8_0; load and RSS ratios are llama.cpp ÷ ours, rates ours ÷ llama.cpp',
    );
  const out: Measurement[] = [
    { name: 'memory bandwidth (copy, read+write)', value: bandwidth / 1e9, unit: 'GB/s' },
    { name: 'square SGEMM (bench gemm)', value: sgemm, unit: 'GFLOP/s' },
  ];
  let llamaOk = a.baseline;
  for (const mode of a.modes) {
    const ggufType = GGUF_DTYPE[mode];
    const gguf = ggufType && (llamaOk || mode === 'int8-gguf') ? await ensureGguf(dir, ggufType, opts.log) : null;
    const modeDir =
      mode === 'int8-gguf' ? gguf! : mode === 'f32' && !a.model ? ensureF32Checkpoint(dir, opts.log) : dir;
    const ours: ChildResult[] = [];
    const theirs: LlamaResult[] = [];
    for (let r = 0; r < a.rounds; r++) {
      warmPageCache(modeDir);
      const o = child<ChildResult>('llm.ts', [modeDir, mode, String(a.decodeTokens), String(a.alignWeights)]);
      if (typeof o === 'string') opts.log(`${mode}: olmo-ts failed (${o})`);
      else ours.push(o);
      if (!gguf || !llamaOk) continue;
      warmPageCache(gguf);
      const t = child<LlamaResult>('llama-cpp.ts', [gguf, String(PROMPT), String(a.decodeTokens)]);
      if (typeof t !== 'string') theirs.push(t);
      else {
        opts.log(`${mode}: llama.cpp failed on ${gguf} (${t})`);
        // A binary that does not load will not load for the next mode either.
        if (/NoBinaryFoundError/.test(t)) llamaOk = false;
      }
    }
    if (ours.length === 0) continue;
    const o = best(ours, LOWER_IS_BETTER);
    const t = theirs.length > 0 ? best(theirs, LOWER_IS_BETTER) : undefined;
    const rate = prefillFlops(cfg, PROMPT) / (PROMPT / o.prefillTps) / 1e9;
    out.push(
      versus(`${mode} load`, 's', o.loadSeconds, t?.loadSeconds, true),
      versus(`${mode} RSS after load`, 'GiB', o.rssAfterLoad / 2 ** 30, t && t.rssAfterLoad / 2 ** 30, true),
      versus(`${mode} prefill ${PROMPT} tokens`, 'tok/s', o.prefillTps, t?.prefillTps),
      {
        name: `${mode} prefill matmul rate vs square SGEMM`,
        value: rate,
        unit: 'GFLOP/s',
        baseline: sgemm,
        ratio: rate / sgemm,
      },
      {
        name: `${mode} prefill weight products alone vs square SGEMM`,
        value: o.prefillGemmGflops,
        unit: 'GFLOP/s',
        baseline: sgemm,
        ratio: o.prefillGemmGflops / sgemm,
      },
      versus(`${mode} decode batch 1`, 'tok/s', o.decode1Tps, t?.decode1Tps),
      versus(`${mode} decode batch 8`, 'tok/s', o.decode8Tps, t?.decode8Tps),
      { name: `${mode} decode batch 1 after ${LONG_CONTEXT} tokens`, value: o.decodeLongTps, unit: 'tok/s' },
      { name: `${mode} weight bytes per token`, value: o.bytesPerToken / 2 ** 30, unit: 'GiB' },
      { name: `${mode} copy bandwidth beside decode batch 1`, value: o.bandwidthBeside / 1e9, unit: 'GB/s' },
      { name: `${mode} decode batch 1 / bandwidth limit`, value: 100 * o.decode1Share, unit: '%' },
      ...(o.hugeMapped === null
        ? []
        : [{ name: `${mode} weights huge-page mapped`, value: 100 * o.hugeMapped, unit: '%' }]),
      versus(`${mode} peak RSS`, 'GiB', o.peakRss / 2 ** 30, t && t.peakRss / 2 ** 30, true),
      {
        name: `${mode} peak RSS / (file + KV cache)`,
        value: o.peakRss / (weightFileBytes(modeDir) + o.kvBytes),
        unit: '×',
      },
    );
  }
  if (a.modes.includes('bf16') && a.modes.includes('int8')) out.push(...pairRows(dir, a, fileBytes, opts.log));
  return out;
}

/** The child mode that runs runPair. */
const PAIR = 'int8/bf16';

/** int8 ÷ exact bf16 at batch 1 from runPair's alternating blocks, when both fit in memory at once. */
function pairRows(dir: string, a: RunArgs, fileBytes: number, log: (m: string) => void): Measurement[] {
  if (!pairFits(fileBytes)) {
    log(
      `int8 ÷ bf16 alternating blocks: skipped (${(fileBytes / 2 ** 30).toFixed(1)} GiB of bf16 weights and their int8 copy do not fit in this machine's memory together)`,
    );
    return [];
  }
  warmPageCache(dir);
  const r = child<PairResult>('llm.ts', [dir, PAIR, String(a.decodeTokens), String(a.alignWeights)]);
  if (typeof r === 'string') {
    log(`int8 ÷ bf16 alternating blocks: failed (${r})`);
    return [];
  }
  const ratios = r.int8.map((t, b) => t / r.bf16[b]);
  return [
    {
      name: `bf16 decode batch 1, alternating with int8 (median of ${PAIR_BLOCKS} blocks)`,
      value: median(r.bf16),
      unit: 'tok/s',
    },
    {
      name: `int8 decode batch 1, alternating with bf16 (median of ${PAIR_BLOCKS} blocks)`,
      value: median(r.int8),
      unit: 'tok/s',
    },
    { name: 'int8 ÷ bf16 decode batch 1, alternating blocks (median of pairs)', value: median(ratios), unit: '×' },
    { name: 'int8 ÷ bf16 decode batch 1, alternating blocks (lowest pair)', value: Math.min(...ratios), unit: '×' },
  ];
}

if (process.argv[2] === '--child') {
  const [dir, mode, tokens, align] = process.argv.slice(3);
  const result =
    mode === PAIR
      ? runPair(dir, Number(tokens), align === 'true')
      : await runMode(dir, mode as Mode, Number(tokens), align === 'true');
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
