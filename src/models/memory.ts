// Memory a model needs, computed from its config alone, and the check that refuses before anything is
// allocated: weights (by dtype), the KV cache for a context × batch, activations of a forward pass, and the
// training state. A config with `hidden_size: 1e9` or a `--max-new-tokens 1e12` then fails at once with the sizes
// involved, instead of after minutes of allocation or with V8's "Invalid typed array length".
import { existsSync, readFileSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { parseSize } from '../io/safetensors-sharded.ts';
import { MAX_TENSOR_ELEMENTS } from '../nn/kv-cache.ts';
import type { ModelConfig } from './config.ts';

/** Weight storage: f32/bf16/f16 as stored, int8 = q8_0-style blocks of 32 int8 weights with one f16 scale. */
export type WeightDType = 'f32' | 'bf16' | 'f16' | 'int8';

const MATRIX_BYTES: Record<WeightDType, number> = { f32: 4, bf16: 2, f16: 2, int8: 1 + 2 / 32 };
/** Activations, the KV cache, gradients and optimizer state are f32. */
const F32 = 4;

/** The dtype a config.json declares for its weights (torch_dtype / dtype), as a WeightDType. */
export function storedDType(cfg: ModelConfig): WeightDType {
  const d = cfg.dtype.replace(/^torch\./, '');
  if (d === 'bfloat16') return 'bf16';
  if (d === 'float16' || d === 'half') return 'f16';
  return 'f32';
}

export interface ParameterCount {
  /** Every parameter. */
  total: number;
  /** Of which in 2-D weight matrices (embedding, projections, experts, router, LM head); the rest are norm vectors. */
  matrices: number;
  /** Elements of the largest single weight tensor. */
  largestTensor: number;
}

/** Parameter counts of an olmo / olmo2 / olmoe model, exactly as the families build them. */
export function parameterCount(cfg: ModelConfig): ParameterCount {
  const h = cfg.hiddenSize;
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const embedding = cfg.vocabSize * h;
  const attention = h * (2 * q + 2 * kv); // q, k, v, o projections
  const mlp =
    cfg.modelType === 'olmoe'
      ? cfg.numExperts * 3 * h * cfg.intermediateSize + cfg.numExperts * h
      : 3 * h * cfg.intermediateSize;
  // OLMo 1's LayerNorms have no weights; olmo2 and olmoe have two norms per block, QK-norm and a final norm.
  const norms = cfg.modelType === 'olmo' ? 0 : 2 * h + q + kv;
  const layerMatrices = attention + mlp;
  const matrices = embedding * (cfg.tieWordEmbeddings ? 1 : 2) + cfg.numLayers * layerMatrices;
  const vectors = cfg.numLayers * norms + (cfg.modelType === 'olmo' ? 0 : h);
  const largestTensor = Math.max(embedding, h * q, h * kv, h * cfg.intermediateSize, cfg.numExperts * h, q + kv);
  return { total: matrices + vectors, matrices, largestTensor };
}

/** Bytes of the weights held in `dtype` (norm vectors stay f32 under int8, as q8_0 leaves them). */
export function weightBytes(cfg: ModelConfig, dtype: WeightDType): number {
  const p = parameterCount(cfg);
  return p.matrices * MATRIX_BYTES[dtype] + (p.total - p.matrices) * (dtype === 'int8' ? F32 : MATRIX_BYTES[dtype]);
}

/** Bytes of a KV cache for `batch` sequences of `capacity` tokens (keys and values, every layer, f32). */
export function kvCacheBytes(cfg: ModelConfig, batch: number, capacity: number): number {
  return cfg.numLayers * 2 * batch * capacity * cfg.numKvHeads * cfg.headDim * F32;
}

/** Elements of one layer's K (or V) tensor in that cache: each is one typed array. */
export function kvCacheTensorElements(cfg: ModelConfig, batch: number, capacity: number): number {
  return batch * capacity * cfg.numKvHeads * cfg.headDim;
}

/**
 * Bytes of the activations of a forward pass over `batch` × `tokens` tokens: for inference the tensors of one
 * block alive at once (a forward without a tape releases each block's buffers before the next block runs) plus
 * the logits ([batch, tokens, vocab], usually the largest, or [batch, logitsPerSequence, vocab] when only some
 * positions' logits are computed, as generation's prefill does); for training every block's saved tensors plus
 * the logits and their gradient. Attention never holds [tokens × tokens] scores (the kernel keeps one
 * log-sum-exp per query). An estimate of the largest tensors, not of the allocator's slack.
 */
export function activationBytes(
  cfg: ModelConfig,
  batch: number,
  tokens: number,
  opts: { training?: boolean; hiddenStates?: boolean; logitsPerSequence?: number } = {},
): number {
  const h = cfg.hiddenSize;
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const width =
    cfg.modelType === 'olmoe' ? cfg.numExpertsPerTok * cfg.intermediateSize + 2 * cfg.numExperts : cfg.intermediateSize;
  const n = batch * tokens;
  if (opts.training) {
    const saved = 8 * h + 2 * q + 4 * kv + 4 * width + cfg.numHeads;
    return F32 * n * (cfg.numLayers * saved + 3 * cfg.vocabSize);
  }
  const live = 4 * h + 2 * q + 3 * kv + 3 * width + cfg.numHeads;
  const hidden = opts.hiddenStates ? (cfg.numLayers + 1) * h : 0;
  const logitRows = batch * Math.min(tokens, opts.logitsPerSequence ?? tokens);
  return F32 * (n * (live + hidden) + logitRows * cfg.vocabSize);
}

export interface MemoryPlan {
  /** Weights in this dtype (default f32, which is how models are held today). */
  weightDtype?: WeightDType;
  /** A KV cache for this many sequences of `context` tokens (generation). */
  batch?: number;
  context?: number;
  /** A forward pass over batch × tokens (default: the context for generation's prefill, else none). */
  tokens?: number;
  /** Training: activations kept for backward, gradients and AdamW's two moments. */
  training?: boolean;
  /** The forward also returns every block's hidden states (`olmo forward`). */
  hiddenStates?: boolean;
  /** Logits are computed at this many positions per sequence only (generation's prefill: 1); default all. */
  logitsPerSequence?: number;
  /** The weights are already in memory: count only what is still to be allocated. */
  weightsLoaded?: boolean;
}

export interface MemoryEstimate {
  parameters: number;
  weightDtype: WeightDType;
  weightBytes: number;
  kvCacheBytes: number;
  activationBytes: number;
  /** Gradients and AdamW state (0 for inference). */
  trainingStateBytes: number;
  totalBytes: number;
  /** Elements of the largest single tensor (a weight, one layer's K or V cache, or the logits). */
  largestTensor: number;
}

/** What a model of this config needs in memory for the given use. */
export function estimateMemory(cfg: ModelConfig, plan: MemoryPlan = {}): MemoryEstimate {
  const dtype = plan.weightDtype ?? 'f32';
  const batch = plan.batch ?? 1;
  const context = plan.context ?? 0;
  const tokens = plan.tokens ?? context;
  const params = parameterCount(cfg);
  const kv = context > 0 ? kvCacheBytes(cfg, batch, context) : 0;
  const act = tokens > 0 ? activationBytes(cfg, batch, tokens, plan) : 0;
  const state = plan.training ? params.total * 3 * F32 : 0;
  const weights = plan.weightsLoaded ? 0 : weightBytes(cfg, dtype);
  const largestTensor = Math.max(
    params.largestTensor,
    kvCacheTensorElements(cfg, batch, context),
    batch * Math.min(tokens, plan.logitsPerSequence ?? tokens) * cfg.vocabSize,
  );
  return {
    parameters: params.total,
    weightDtype: dtype,
    weightBytes: weights,
    kvCacheBytes: kv,
    activationBytes: act,
    trainingStateBytes: state,
    totalBytes: weights + kv + act + state,
    largestTensor,
  };
}

export interface MachineMemory {
  /** Bytes this process can still allocate: free memory, within the cgroup's limit where there is one. */
  availableBytes: number;
  /** The machine's memory, or the cgroup's limit when lower. */
  totalBytes: number;
  /** Where the figures come from, for messages. */
  source: string;
}

function readNumber(path: string): number | null {
  try {
    if (!existsSync(path)) return null;
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : null; // cgroup v2 writes "max" for no limit
  } catch {
    return null;
  }
}

/** The memory limit and usage of this process's cgroup (v2 `memory.max`, or v1 `memory.limit_in_bytes`), if limited. */
function cgroupMemory(): { limit: number; used: number; path: string } | null {
  let own = '';
  try {
    own = /^0::(\/.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux, or /proc unavailable: only the root paths below
  }
  const candidates = [...new Set([`/sys/fs/cgroup${own === '/' ? '' : own}`, '/sys/fs/cgroup'])];
  for (const dir of candidates) {
    const limit = readNumber(`${dir}/memory.max`);
    if (limit !== null) return { limit, used: readNumber(`${dir}/memory.current`) ?? 0, path: `${dir}/memory.max` };
  }
  const v1 = readNumber('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  // v1 reports "no limit" as a huge page-rounded number.
  if (v1 !== null && v1 < 2 ** 60) {
    return {
      limit: v1,
      used: readNumber('/sys/fs/cgroup/memory/memory.usage_in_bytes') ?? 0,
      path: '/sys/fs/cgroup/memory/memory.limit_in_bytes',
    };
  }
  return null;
}

/**
 * This machine's memory: os.freemem()/totalmem() (MemAvailable/MemTotal on Linux), capped by the cgroup limit
 * where there is one. OLMO_MEMORY_LIMIT (bytes, or "16GiB", "500MB") replaces both figures, to allow more on a
 * machine with swap or to rehearse a smaller one.
 */
export function machineMemory(env: NodeJS.ProcessEnv = process.env): MachineMemory {
  const override = env.OLMO_MEMORY_LIMIT;
  if (override !== undefined && override !== '') {
    let bytes: number;
    try {
      bytes = parseSize(/^\d+$/.test(override) ? Number(override) : override);
    } catch {
      throw new Error(
        `OLMO_MEMORY_LIMIT must be a number of bytes or a size such as 16GiB or 500MB, got ${JSON.stringify(override)}`,
      );
    }
    return { availableBytes: bytes, totalBytes: bytes, source: 'OLMO_MEMORY_LIMIT' };
  }
  let available = freemem();
  let total = totalmem();
  let source = 'free memory reported by the OS';
  const cg = cgroupMemory();
  if (cg !== null && cg.limit < total) {
    total = cg.limit;
    available = Math.min(available, Math.max(0, cg.limit - cg.used));
    source = `cgroup limit ${cg.path}`;
  }
  return { availableBytes: available, totalBytes: total, source };
}

export class MemoryError extends Error {
  override name = 'MemoryError';
}

/** Bytes for people: 1.5 GiB, 320 MiB, 12 KiB, 100 B. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** A config's shape in a few fields, for messages: "an olmo2 model with hidden_size 64, …". */
export function describeShape(cfg: ModelConfig): string {
  return (
    `an ${cfg.modelType} model with hidden_size ${cfg.hiddenSize}, num_hidden_layers ${cfg.numLayers}, intermediate_size ` +
    `${cfg.intermediateSize}, vocab_size ${cfg.vocabSize}${cfg.modelType === 'olmoe' ? `, num_experts ${cfg.numExperts}` : ''}`
  );
}

/**
 * Throws MemoryError unless `estimate` fits: no tensor beyond what a typed array can hold, and the total within
 * the machine's available memory. `what` says what was about to be allocated ("the weights of …", "a KV cache
 * of …"); the message lists each part so the user sees which setting to lower.
 */
export function assertFits(what: string, estimate: MemoryEstimate, machine: MachineMemory = machineMemory()): void {
  if (estimate.totalBytes > machine.availableBytes) {
    const parts = [
      estimate.weightBytes > 0
        ? `weights ${formatBytes(estimate.weightBytes)} (${estimate.parameters.toExponential(3)} parameters in ${estimate.weightDtype})`
        : '',
      estimate.kvCacheBytes > 0 ? `KV cache ${formatBytes(estimate.kvCacheBytes)}` : '',
      estimate.activationBytes > 0 ? `activations ${formatBytes(estimate.activationBytes)}` : '',
      estimate.trainingStateBytes > 0 ? `gradients and AdamW state ${formatBytes(estimate.trainingStateBytes)}` : '',
    ].filter((p) => p !== '');
    throw new MemoryError(
      `${what}: needs ${formatBytes(estimate.totalBytes)} (${parts.join(', ')}), more than the ` +
        `${formatBytes(machine.availableBytes)} available (${machine.source}; total ${formatBytes(machine.totalBytes)}). ` +
        'Set OLMO_MEMORY_LIMIT to override this check.',
    );
  }
  if (estimate.largestTensor > MAX_TENSOR_ELEMENTS) {
    throw new MemoryError(
      `${what}: needs a tensor of ${estimate.largestTensor.toExponential(3)} elements, more than the ${MAX_TENSOR_ELEMENTS} ` +
        `one typed array can hold in Node.js ${process.version}`,
    );
  }
}
