// Loading and saving Hugging Face checkpoint folders: config.json plus model.safetensors (or shards with
// model.safetensors.index.json), weights in f32 or bf16 (or olmo-ts's q8_0). Saving writes a folder transformers
// loads (q8_0 folders excepted), into a temporary folder renamed into place. Loading gives f32 master weights
// by default; inference asks for compact ones (compact-weights.ts: memory-mapped in the stored dtype, or q8_0).
import { existsSync, readFileSync, writeFileSync, readdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomically } from '../io/atomic.ts';
import {
  ChecksumError,
  readChecksums,
  saveChecksums,
  startVerification,
  type PendingVerification,
  type VerifyLevel,
} from '../io/checksums.ts';
import {
  openCheckpointTensors,
  saveShardedSafetensors,
  fromFloat32,
  type TensorSource,
  type TensorToWrite,
} from '../io/safetensors.ts';
import { Tensor } from '../tensor/index.ts';
import { placeholderInit, type Init } from '../nn/index.ts';
import { ConfigError, parseConfig, toHfConfig, type ModelConfig } from './config.ts';
import type { CausalLM } from './decoder.ts';
import { createModel } from './families.ts';
import { storedDType } from './memory.ts';
import { CheckpointError } from './checkpoint-error.ts';
import {
  compactParam,
  MappedTensors,
  Q8_QUANTIZATION_CONFIG,
  readQuantization,
  tensorsToWrite,
  type WeightMode,
} from './compact-weights.ts';
import { isGgufPath, loadGgufModel, readGgufConfig } from './gguf-load.ts';

/** Files of a checkpoint folder that belong to the tokenizer and are carried over on save. */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
  'vocab.json',
  'merges.txt',
];

export { CheckpointError } from './checkpoint-error.ts';

export function readConfig(dir: string): ModelConfig {
  if (isGgufPath(dir)) return readGgufConfig(dir);
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new CheckpointError(`${dir}: not a checkpoint folder (config.json is missing)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseConfig(raw, path);
}

/** v5 transformers may save OLMoE experts fused: experts.gate_up_proj [E, 2I, H] and experts.down_proj [E, H, I]. */
const FUSED_EXPERT = /^(model\.layers\.\d+\.mlp\.experts)\.(\d+)\.(gate_proj|up_proj|down_proj)\.weight$/;

function readParam(src: TensorSource, name: string, shape: readonly number[], file: string): Float32Array {
  if (src.has(name)) {
    const info = src.info(name);
    if (info.shape.join() !== shape.join()) {
      throw new CheckpointError(`${file}: tensor ${name} has shape [${info.shape}], the config implies [${shape}]`);
    }
    return src.readFloat32(name);
  }
  const fused = FUSED_EXPERT.exec(name);
  if (fused) {
    const [, prefix, e, proj] = fused;
    const expert = Number(e);
    const key = proj === 'down_proj' ? `${prefix}.down_proj` : `${prefix}.gate_up_proj`;
    if (src.has(key)) {
      const all = src.readFloat32(key);
      const info = src.info(key);
      const per = info.shape.slice(1).reduce((a, b) => a * b, 1);
      const block = all.subarray(expert * per, (expert + 1) * per);
      if (proj === 'down_proj') return block.slice();
      const half = per / 2; // gate rows first, then up rows
      return proj === 'gate_proj' ? block.slice(0, half) : block.slice(half);
    }
  }
  throw new CheckpointError(`${file}: missing tensor ${name}`);
}

export interface LoadOptions {
  /** Parameters become trainable (requiresGrad); default true. */
  trainable?: boolean;
  /**
   * How much of checksums.json to check (folders without one, such as Hugging Face downloads, load unchecked):
   * 'full' (default) sizes and SHA-256 of every listed file, 'size' sizes only, 'none' nothing. The default is
   * 'full' because a flipped bit in a weight file otherwise loads silently and is trained or evaluated on; the
   * hash runs on a worker thread while the tensors are read and converted, so it adds little wall time where a
   * second core is free. 'size' still catches truncated and replaced files, for callers that load one
   * checkpoint many times.
   */
  verify?: VerifyLevel;
  /**
   * How matrices are held: 'f32' (default: widened f32 copies, trainable), 'stored' (inference: the
   * checkpoint's own bf16/f16/f32, memory-mapped, nothing widened or copied) or 'int8' (inference: quantised
   * to q8_0 at load; a q8_0 checkpoint loads as it is). Compact weights cannot be trainable.
   */
  weights?: WeightMode;
  /**
   * With weights 'stored': copy each float matrix whose data does not start on a 64-byte boundary into aligned
   * memory (default false). Hugging Face's writer aligns tensors to 8 bytes only and GGUF to 32, and the weight
   * kernels' 64-byte loads then straddle cache lines, which slows decoding markedly. The copy costs a pass over
   * those weights and fresh memory to write them to (no more resident memory: the mapping's pages are released),
   * which on some virtual machines takes seconds per GiB; so by default every matrix stays a view of the mapped
   * file (nothing copied, pages shared with other processes). Checkpoints olmo-ts saves are aligned already.
   */
  alignWeights?: boolean;
}

/** Starts checking DIR against its checksums.json (sizes now, hashes in the background for 'full'). */
function startChecks(dir: string, level: VerifyLevel): PendingVerification | null {
  try {
    const manifest = level === 'none' ? null : readChecksums(dir);
    return manifest ? startVerification(dir, manifest, level) : null;
  } catch (err) {
    throw err instanceof ChecksumError ? new CheckpointError(`${dir}: refusing to load: ${err.message}`) : err;
  }
}

/**
 * Loads an HF checkpoint folder (or a GGUF file, gguf-load.ts): f32 weights by default (bf16 widened exactly), or
 * compact inference weights (opts.weights).
 */
export function loadModel(dir: string, opts: LoadOptions = {}): CausalLM {
  if (isGgufPath(dir)) return loadGgufModel(dir, opts);
  const cfg = readConfig(dir);
  const mode = opts.weights ?? 'f32';
  if (mode !== 'f32' && opts.trainable === true)
    throw new CheckpointError(
      `${dir}: weights '${mode}' are for inference and cannot be trainable; load with weights 'f32' to train`,
    );
  const quantized = readQuantization(dir) === 'q8_0';
  const model = createModel(
    cfg,
    placeholderInit,
    mode === 'int8' ? 'int8' : mode === 'stored' ? storedDType(cfg) : 'f32',
  );
  const checks = startChecks(dir, opts.verify ?? 'full');
  let src: TensorSource;
  try {
    src = openCheckpointTensors(dir);
  } catch (err) {
    checks?.cancel();
    throw new CheckpointError(`${dir}: cannot open the weights: ${(err as Error).message}`);
  }
  let loaded = false;
  try {
    const missing: string[] = [];
    const mapped = new MappedTensors(src);
    for (const [name, placeholder] of model.namedParameters()) {
      let t: Tensor | null =
        mode === 'f32' && !quantized
          ? null
          : compactParam(mapped, name, placeholder.shape, mode, quantized, opts.alignWeights ?? false);
      if (!t) {
        try {
          t = Tensor.fromStorage(placeholder.shape, 'f32', readParam(src, name, placeholder.shape, dir));
        } catch (err) {
          if (err instanceof CheckpointError && err.message.includes('missing tensor')) {
            missing.push(name);
            continue;
          }
          throw err;
        }
      }
      t.kept = true;
      t.requiresGrad = mode === 'f32' && (opts.trainable ?? true);
      t.name = name;
      model.setParam(name, t);
    }
    if (missing.length > 0) {
      const shown = missing.slice(0, 10).join(', ');
      throw new CheckpointError(
        `${dir}: missing ${missing.length} tensor(s) for a ${cfg.modelType} model: ${shown}${missing.length > 10 ? ', …' : ''}`,
      );
    }
    loaded = true;
  } finally {
    src.close();
    if (!loaded) checks?.cancel();
  }
  try {
    checks?.wait();
  } catch (err) {
    throw err instanceof ChecksumError ? new CheckpointError(`${dir}: refusing to load: ${err.message}`) : err;
  }
  return model;
}

/** A freshly initialised model (for pretraining from scratch). */
export function initModel(cfg: ModelConfig, init: Init): CausalLM {
  const model = createModel(cfg, init);
  for (const [name, t] of model.namedParameters()) t.name = name;
  return model;
}

export interface SaveModelOptions {
  dtype?: 'float32' | 'bfloat16';
  /** Copy tokenizer files from this folder. */
  tokenizerFrom?: string;
  maxShardSize?: number | string;
}

/**
 * Writes an HF checkpoint folder atomically: it is built next to DIR and swapped into place. checksums.json
 * records the size and SHA-256 of every file written (weights, index, config, tokenizer files), so loadModel
 * can refuse a corrupt file and evaluation can key its cache by the weights' content.
 */
export function saveModel(model: CausalLM, dir: string, opts: SaveModelOptions = {}): void {
  const dtype = opts.dtype ?? 'float32';
  writeDirAtomically(dir, (tmp) => {
    const tensors: [string, TensorToWrite][] = [];
    let quantized = false;
    for (const [name, t] of model.namedParameters()) {
      quantized ||= t.dtype === 'q8_0';
      tensors.push(...tensorsToWrite(name, t, dtype, (f) => fromFloat32(f, 'BF16') as Uint16Array));
    }
    // data on 64-byte boundaries: a mapped checkpoint's tensors then start on cache lines (see dataAlignment)
    saveShardedSafetensors(tmp, tensors, {
      maxShardSize: opts.maxShardSize ?? '5GB',
      metadata: { format: 'pt' },
      dataAlignment: 64,
    });
    const hfConfig = toHfConfig(model.config, dtype);
    delete hfConfig.quantization_config; // carried over from a loaded config: true only when this save is q8_0
    if (quantized) hfConfig.quantization_config = { ...Q8_QUANTIZATION_CONFIG };
    writeFileSync(join(tmp, 'config.json'), `${JSON.stringify(hfConfig, null, 2)}\n`);
    if (opts.tokenizerFrom) {
      for (const f of TOKENIZER_FILES) {
        const from = join(opts.tokenizerFrom, f);
        if (existsSync(from)) copyFileSync(from, join(tmp, f));
      }
    }
    saveChecksums(tmp, readdirSync(tmp));
  });
}

/** Lists the checkpoint's weight files (for messages and tests). */
export function weightFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
}
