// Real-size LLM benchmark: load time, prefill and decode tokens/s and peak resident memory of an
// OLMo-2-0425-1B-shaped model (or OLMoE-1B-7B-shaped with --shape olmoe, a 190M-parameter OLMo 2 for quick
// iteration with --shape small, or a real checkpoint with --model DIR) with f32, bf16 (kept as stored,
// memory-mapped) and int8 (q8_0) weights, beside a STREAM-like copy that measures the memory bandwidth in the
// same run, so that decode at batch 1 reads as a share of its limit (weight bytes read per token ÷ bandwidth).
// Modes: f32 is an f32 checkpoint loaded as stored (inference weights: the wgemm kernels); f32-gemm is the bf16
// checkpoint widened to f32 master weights (loadModel's default, the training GEMM), for comparison.
//
// Random bf16 weights are written once into .bench-cache/ (gitignored), and an f32 copy of them when the f32
// mode first runs. Each weight mode runs in its own child process, so the load is from the page cache, not
// from memory the previous mode left behind, and peak RSS is that mode's own.
//
//   npm run bench -- llm [--shape 1b|olmoe|small] [--model DIR] [--modes f32,bf16,int8,f32-gemm] [--decode-tokens N]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { noGrad, numThreads, tensor, tidy } from '../src/tensor/index.ts';
import { loadModel, parseConfig, saveModel, toHfConfig, type CausalLM, type LoadOptions } from '../src/models/index.ts';
import { saveShardedSafetensors, type TensorToWrite } from '../src/io/safetensors.ts';
import { writeFileSync } from 'node:fs';
import { createModel } from '../src/models/families.ts';
import { placeholderInit } from '../src/nn/index.ts';
import type { BenchOptions, Measurement } from './run.ts';

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
const ROOT = join(fileURLToPath(import.meta.url), '..', '..');

/** Random bf16 weights of the shape (≈ N(0, 0.02²) from a xorshift stream; norms 1), written once. */
function ensureCheckpoint(shape: string, log: (m: string) => void): string {
  const dir = join(ROOT, '.bench-cache', `llm-${shape}-bf16`);
  if (existsSync(join(dir, 'config.json'))) return dir;
  log(`writing random ${shape} weights (bf16) into ${dir} (once)`);
  const cfg = parseConfig(SHAPES[shape]);
  const model = createModel(cfg, placeholderInit);
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

function weightFileBytes(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors'))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/** Bytes of weights one decoded token reads: every matrix but the embedding table, of which one row. */
function bytesPerToken(model: CausalLM): number {
  let n = 0;
  for (const [name, t] of model.namedParameters()) {
    const bytes = t.data.byteLength * (t.dtype === 'i8' ? 1 + 2 / 32 : 1);
    n += name.endsWith('embed_tokens.weight') ? bytes / t.shape[0] : bytes;
  }
  return n;
}

interface ChildResult {
  loadSeconds: number;
  rssAfterLoad: number;
  prefillTps: number;
  decode1Tps: number;
  decode8Tps: number;
  peakRss: number;
  bytesPerToken: number;
  kvBytes: number;
}

function randomIds(n: number, vocab: number, seed: number): Int32Array {
  let s = seed;
  return Int32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0), s % vocab));
}

function decodeTps(model: CausalLM, batch: number, tokens: number): { tps: number; kvBytes: number } {
  const vocab = model.config.vocabSize;
  const cache = model.createCache(batch, 16 + tokens);
  let ids = randomIds(batch * 16, vocab, 7);
  noGrad(() => tidy(() => void model.forward(tensor(ids, [batch, 16], 'i32'), { cache })));
  ids = randomIds(batch, vocab, 9);
  const t0 = performance.now();
  for (let i = 0; i < tokens; i++)
    noGrad(() => tidy(() => void model.forward(tensor(ids, [batch, 1], 'i32'), { cache })));
  const kvBytes = cache.layers.reduce((n, l) => n + l.k.data.byteLength + l.v.data.byteLength, 0);
  return { tps: (batch * tokens) / ((performance.now() - t0) / 1000), kvBytes };
}

type Mode = 'f32' | 'bf16' | 'int8' | 'f32-gemm';
const MODES: readonly Mode[] = ['f32', 'bf16', 'int8', 'f32-gemm'];
const LOAD: Record<Mode, LoadOptions['weights']> = { f32: 'stored', bf16: 'stored', int8: 'int8', 'f32-gemm': 'f32' };

/** One weight mode, in this (child) process. */
function runMode(dir: string, mode: Mode, decodeTokens: number): ChildResult {
  const t0 = performance.now();
  const model = loadModel(dir, { trainable: false, weights: LOAD[mode], verify: 'size' });
  const loadSeconds = (performance.now() - t0) / 1000;
  const rssAfterLoad = process.memoryUsage().rss;
  const ids = randomIds(PROMPT, model.config.vocabSize, 3);
  const cache = model.createCache(1, PROMPT);
  const p0 = performance.now();
  noGrad(() => tidy(() => void model.forward(tensor(ids, [1, PROMPT], 'i32'), { cache })));
  const prefillTps = PROMPT / ((performance.now() - p0) / 1000);
  const d1 = decodeTps(model, 1, decodeTokens);
  const d8 = decodeTps(model, 8, Math.max(2, decodeTokens >> 1));
  return {
    loadSeconds,
    rssAfterLoad,
    prefillTps,
    decode1Tps: d1.tps,
    decode8Tps: d8.tps,
    peakRss: process.resourceUsage().maxRSS * 1024,
    bytesPerToken: bytesPerToken(model),
    kvBytes: d1.kvBytes,
  };
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

export async function run(opts: BenchOptions): Promise<Measurement[]> {
  const arg = (name: string) => {
    const i = opts.args.indexOf(name);
    return i >= 0 ? opts.args[i + 1] : undefined;
  };
  const shape = arg('--shape') ?? '1b';
  if (!SHAPES[shape])
    throw new Error(`bench llm: --shape must be one of ${Object.keys(SHAPES).join(', ')}, got ${shape}`);
  const modes = (arg('--modes') ?? 'f32,bf16,int8').split(',') as Mode[];
  const unknown = modes.filter((m) => !MODES.includes(m));
  if (unknown.length > 0) throw new Error(`bench llm: --modes takes ${MODES.join(', ')}; got ${unknown.join(', ')}`);
  const decodeTokens = Number(arg('--decode-tokens') ?? 16);
  const dir = arg('--model') ?? ensureCheckpoint(shape, opts.log);
  const fileBytes = weightFileBytes(dir);
  const bandwidth = await copyBandwidth(numThreads());
  opts.log(
    `${dir}: ${(fileBytes / 2 ** 30).toFixed(2)} GiB of weights; ${numThreads()} threads; copy bandwidth ${(bandwidth / 1e9).toFixed(1)} GB/s`,
  );
  const out: Measurement[] = [{ name: 'memory bandwidth (copy, read+write)', value: bandwidth / 1e9, unit: 'GB/s' }];
  for (const mode of modes) {
    const modeDir = mode === 'f32' && !arg('--model') ? ensureF32Checkpoint(dir, opts.log) : dir;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', modeDir, mode, String(decodeTokens)],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    if (child.status !== 0) {
      opts.log(`${mode}: failed (${child.stderr.trim().split('\n').slice(-3).join(' | ')})`);
      continue;
    }
    const r = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ChildResult;
    const limit = bandwidth / r.bytesPerToken;
    out.push(
      { name: `${mode} load`, value: r.loadSeconds, unit: 's' },
      { name: `${mode} RSS after load`, value: r.rssAfterLoad / 2 ** 30, unit: 'GiB' },
      { name: `${mode} prefill ${PROMPT} tokens`, value: r.prefillTps, unit: 'tok/s' },
      { name: `${mode} decode batch 1`, value: r.decode1Tps, unit: 'tok/s' },
      { name: `${mode} decode batch 8`, value: r.decode8Tps, unit: 'tok/s' },
      { name: `${mode} weight bytes per token`, value: r.bytesPerToken / 2 ** 30, unit: 'GiB' },
      { name: `${mode} decode batch 1 / bandwidth limit`, value: (100 * r.decode1Tps) / limit, unit: '%' },
      { name: `${mode} peak RSS`, value: r.peakRss / 2 ** 30, unit: 'GiB' },
      {
        name: `${mode} peak RSS / (file + KV cache)`,
        value: r.peakRss / (weightFileBytes(modeDir) + r.kvBytes),
        unit: '×',
      },
    );
  }
  return out;
}

if (process.argv[2] === '--child') {
  const [dir, mode, tokens] = process.argv.slice(3);
  process.stdout.write(`${JSON.stringify(runMode(dir, mode as Mode, Number(tokens)))}\n`);
}
