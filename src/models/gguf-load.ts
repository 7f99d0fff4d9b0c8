// Loading a model from a GGUF file (llama.cpp's format) as from a checkpoint folder: the config from the
// `{arch}.*` keys, the weights from the tensor table through gguf-names.ts (the table the exporter writes with),
// the tokenizer from the tokenizer.* keys. f32, f16 and bf16 matrices are views of the memory-mapped file, as
// safetensors ones are; q8_0 blocks (an f16 scale and 32 int8 quants each) are split into the quants and
// scales our int8 kernels read, which hold the same numbers. Other ggml types (q4_0, the k-quants, …) are refused.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { toFloat32 } from '../io/dtypes.ts';
import { GgmlType, LlamaFileType, ggmlTypeName } from '../io/gguf/constants.ts';
import { GgufError, readGguf, type GgufFile, type GgufTensorInfo, type GgufValue } from '../io/gguf/reader.ts';
import { placeholderInit } from '../nn/index.ts';
import { Tensor, q8FromBlocks } from '../tensor/index.ts';
import { lineAlignedBytes, mapFile, populatePages, releasePages } from '../tensor/mapped-file.ts';
import { ggufTokenizer } from '../tokenizers/gguf.ts';
import type { HfTokenizer } from '../tokenizers/hf.ts';
import { CheckpointError } from './checkpoint-error.ts';
import type { LoadOptions } from './checkpoint.ts';
import { inWeightMode } from './compact-weights.ts';
import { parseConfig, type ModelConfig } from './config.ts';
import type { CausalLM } from './decoder.ts';
import { createModel } from './families.ts';
import {
  GGUF_ARCHES,
  PERMUTES_QK,
  TOKEN_ID_KEYS,
  archKey,
  configKeysFor,
  hfToGguf,
  isGgufArch,
  type GgufArch,
} from './gguf-names.ts';
import { storedDType } from './memory.ts';

/** Whether a model reference names a GGUF file (by its extension; model-ref.ts checks that it exists). */
export function isGgufPath(ref: string): boolean {
  return ref.toLowerCase().endsWith('.gguf');
}

/** The types olmo-ts loads, by name, for messages. */
const LOADABLE = ['F32', 'F16', 'BF16', 'Q8_0'] as const;

// One parse kept: commands read the config, then the weights, then the tokenizer of the same file.
let lastParse: { path: string; mtimeMs: number; size: number; file: GgufFile } | null = null;

/** The parsed header of a GGUF file (the last one parsed is reused while the file is unchanged). */
export function openGguf(path: string): GgufFile {
  const st = statSync(path);
  if (lastParse?.path === path && lastParse.mtimeMs === st.mtimeMs && lastParse.size === st.size) return lastParse.file;
  const file = readGguf(path);
  lastParse = { path, mtimeMs: st.mtimeMs, size: st.size, file };
  return file;
}

/**
 * A float key as config.json would have written it: GGUF stores eps and RoPE bases as f32, so 1e-6 comes back
 * as 9.99999997e-7; the shortest decimal that rounds to the same f32 is the value the exporter was given.
 */
function shortestF32(v: number): number {
  for (let p = 1; p <= 9; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === v) return d;
  }
  return v;
}

function numberKey(file: GgufFile, key: string, required: boolean): number | undefined {
  const v = file.metadata.get(key);
  if (v === undefined) {
    if (required) throw new GgufError(`${file.path}: missing required key ${key}`);
    return undefined;
  }
  if (typeof v !== 'number') throw new GgufError(`${file.path}: key ${key} must be a number, got ${describe(v)}`);
  return v;
}

function describe(v: GgufValue): string {
  return Array.isArray(v) ? `an array of ${v.length}` : `${typeof v} ${String(v)}`;
}

/** The architecture (general.architecture), refused unless it is one of the OLMo families. */
export function ggufArch(file: GgufFile): GgufArch {
  const arch = file.metadata.get('general.architecture');
  if (arch === undefined) throw new GgufError(`${file.path}: missing required key general.architecture`);
  if (!isGgufArch(arch))
    throw new GgufError(
      `${file.path}: general.architecture is ${JSON.stringify(arch)}; olmo-ts runs ${GGUF_ARCHES.join(', ')}`,
    );
  return arch;
}

/** The dtype a config.json would declare, from general.file_type (q8_0 files: the f32 they were quantised from). */
function fileDtype(file: GgufFile): string {
  const ft = file.metadata.get('general.file_type');
  if (ft === LlamaFileType.MOSTLY_BF16) return 'bfloat16';
  if (ft === LlamaFileType.MOSTLY_F16) return 'float16';
  return 'float32';
}

/** The model config a GGUF file's keys describe, validated as a config.json would be. */
export function ggufConfig(file: GgufFile): ModelConfig {
  const arch = ggufArch(file);
  const raw: Record<string, unknown> = { model_type: arch };
  for (const k of configKeysFor(arch)) {
    const v = numberKey(file, archKey(arch, k.key), !k.optional);
    if (v === undefined) continue;
    const value = k.type === 'f32' ? shortestF32(v) : v;
    if (raw[k.hf] !== undefined && raw[k.hf] !== value)
      throw new GgufError(
        `${file.path}: ${archKey(arch, k.key)} is ${value} but another key gives ${k.hf} ${String(raw[k.hf])}; olmo-ts needs them equal`,
      );
    raw[k.hf] = value;
  }
  const embed = file.tensors.get('token_embd.weight');
  if (!embed) throw new GgufError(`${file.path}: missing tensor token_embd.weight`);
  raw.vocab_size = numberKey(file, archKey(arch, 'vocab_size'), false) ?? embed.shape[0];
  raw.tie_word_embeddings = !file.tensors.has('output.weight');
  for (const [hf, key] of Object.entries(TOKEN_ID_KEYS)) raw[hf] = numberKey(file, key, false) ?? null;
  if (arch === 'olmoe') raw.norm_topk_prob = file.metadata.get(archKey(arch, 'expert_weights_norm')) === true;
  raw.dtype = fileDtype(file);
  return parseConfig(raw, file.path);
}

/** The config of a GGUF model file. */
export function readGgufConfig(path: string): ModelConfig {
  return ggufConfig(openGguf(path));
}

/** A tensor's bytes: a view of the mapping, or (no native addon) read from the file. */
class TensorBytes {
  private readonly map: ArrayBuffer | null;
  constructor(private readonly file: GgufFile) {
    this.map = mapFile(file.path);
    if (this.map && this.map.byteLength !== file.fileSize)
      throw new GgufError(`${file.path}: the file changed size while loading (${this.map.byteLength} bytes now)`);
  }

  get(info: GgufTensorInfo, from = 0, length = info.byteLength): Uint8Array {
    if (this.map) return new Uint8Array(this.map, info.offset + from, length);
    const out = new Uint8Array(length);
    const fd = openSync(this.file.path, 'r');
    try {
      let got = 0;
      while (got < length) {
        const r = readSync(fd, out, got, length - got, info.offset + from + got);
        if (r === 0) throw new GgufError(`${this.file.path}: tensor ${info.name}: the file ends early (truncated)`);
        got += r;
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }

  /**
   * For bytes read once into a copy (q8_0 blocks into rows): maps their pages in one pass before (populate) and
   * takes them out of this process's resident memory after (release), as loading a checkpoint with --quantize
   * int8 does; nothing when the file was read rather than mapped.
   */
  populate(info: GgufTensorInfo, from: number, length: number): void {
    if (this.map) populatePages(this.map, info.offset + from, length);
  }
  release(info: GgufTensorInfo, from: number, length: number): void {
    if (this.map) releasePages(this.map, info.offset + from, length);
  }
}

/** Where one parameter comes from: a whole GGUF tensor, or one expert's slice of a stacked one. */
interface Slot {
  info: GgufTensorInfo;
  expert: number | null;
}

/**
 * Element type of a matrix held as stored: the typed array over `bytes` (copied when misaligned for its element;
 * with `lineAligned`, also when it does not start on a cache line: GGUF aligns tensors to 32 bytes by default).
 */
function storedMatrix(type: 'F32' | 'F16' | 'BF16', shape: number[], bytes: Uint8Array, lineAligned: boolean): Tensor {
  const elem = type === 'F32' ? 4 : 2;
  const lined = lineAligned ? lineAlignedBytes(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength) : bytes;
  const b = lined.byteOffset % elem === 0 ? lined : lined.slice();
  const n = b.byteLength / elem;
  if (type === 'F32') return Tensor.fromStorage(shape, 'f32', new Float32Array(b.buffer, b.byteOffset, n));
  return Tensor.fromStorage(shape, type === 'F16' ? 'f16' : 'bf16', new Uint16Array(b.buffer, b.byteOffset, n));
}

/**
 * OLMo 1's q_proj/k_proj rows back in HF order: convert_hf_to_gguf.py (LlamaModel.permute) stores each head's
 * rows [2, d/2] interleaved as [d/2, 2] for llama.cpp's adjacent-pair RoPE. `rowUnits` is the storage per row.
 */
function unpermuteRows<T extends Int8Array | Uint16Array | Float32Array>(data: T, rows: number, heads: number): T {
  const rowUnits = data.length / rows;
  const d = rows / heads;
  const out = data.slice() as T;
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < d / 2; j++) {
        const to = (h * d + i * (d / 2) + j) * rowUnits;
        const from = (h * d + 2 * j + i) * rowUnits;
        out.set(data.subarray(from, from + rowUnits), to);
      }
  return out;
}

/** The heads of OLMo 1's permuted q/k rows, or 0 for a tensor stored as HF has it. */
function permutedHeads(arch: GgufArch, cfg: ModelConfig, hfName: string): number {
  if (!PERMUTES_QK[arch]) return 0;
  if (hfName.endsWith('.self_attn.q_proj.weight')) return cfg.numHeads;
  if (hfName.endsWith('.self_attn.k_proj.weight')) return cfg.numKvHeads;
  return 0;
}

/** One matrix parameter from its slot, as stored (f32/f16/bf16 view, q8_0 copied into rows), un-permuted where needed. */
function readMatrix(bytes: TensorBytes, slot: Slot, shape: number[], heads: number, lineAligned: boolean): Tensor {
  const type = ggmlTypeName(slot.info.type);
  const per = slot.expert === null ? slot.info.byteLength : slot.info.byteLength / slot.info.shape[0];
  const from = (slot.expert ?? 0) * per;
  const raw = bytes.get(slot.info, from, per);
  if (type === 'Q8_0') {
    bytes.populate(slot.info, from, per);
    const t = q8FromBlocks(shape, raw);
    bytes.release(slot.info, from, per);
    return heads ? Tensor.fromStorage(shape, 'q8_0', unpermuteRows(t.data as Int8Array, shape[0], heads)) : t;
  }
  const t = storedMatrix(type as 'F32' | 'F16' | 'BF16', shape, raw, lineAligned);
  if (!heads) return t;
  return Tensor.fromStorage(shape, t.dtype, unpermuteRows(t.data as Uint16Array | Float32Array, shape[0], heads));
}

/** A vector parameter (a norm weight) as f32. */
function readVector(bytes: TensorBytes, slot: Slot, shape: number[]): Tensor {
  const type = ggmlTypeName(slot.info.type);
  if (type !== 'F32' && type !== 'F16' && type !== 'BF16')
    throw new GgufError(`${slot.info.name}: a vector must be F32, F16 or BF16, got ${type}`);
  const raw = bytes.get(slot.info).slice();
  return Tensor.fromStorage(shape, 'f32', toFloat32(type, raw, slot.info.name));
}

/** The GGUF slot of each parameter, its shape and type checked; every problem named at once. */
function slotsOf(file: GgufFile, arch: GgufArch, params: [string, Tensor][]): Map<string, Slot> {
  const slots = new Map<string, Slot>();
  const missing: string[] = [];
  for (const [name, placeholder] of params) {
    const target = hfToGguf(arch, name);
    if (!target) throw new GgufError(`${file.path}: ${arch} has no GGUF tensor for the parameter ${name}`);
    const info = file.tensors.get(target.name);
    if (!info) {
      if (!missing.includes(target.name)) missing.push(target.name);
      continue;
    }
    const expert = target.expert ?? null;
    const expected = expert === null ? [...placeholder.shape] : [info.shape[0], ...placeholder.shape];
    if (info.shape.join() !== expected.join() || (expert !== null && expert >= info.shape[0]))
      throw new GgufError(
        `${file.path}: tensor ${target.name} has shape [${info.shape}], the config implies [${expected}]` +
          (expert !== null ? ' (experts stacked first)' : ''),
      );
    const type = ggmlTypeName(info.type);
    if (!(LOADABLE as readonly string[]).includes(type ?? ''))
      throw new GgufError(
        `${file.path}: tensor ${target.name} has ggml type ${type ?? `id ${info.type}`}; olmo-ts loads ${LOADABLE.join(', ')}`,
      );
    if (type === 'Q8_0' && placeholder.rank !== 2)
      throw new GgufError(`${file.path}: tensor ${target.name} is Q8_0 but is a vector; vectors must be F32/F16/BF16`);
    slots.set(name, { info, expert });
  }
  if (missing.length)
    throw new GgufError(
      `${file.path}: missing ${missing.length} tensor(s) for a ${arch} model: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`,
    );
  return slots;
}

/** The weight dtype createModel plans memory for: the file's, or q8_0. */
function plannedDtype(file: GgufFile, cfg: ModelConfig, mode: NonNullable<LoadOptions['weights']>) {
  if (mode === 'int8' || file.metadata.get('general.file_type') === LlamaFileType.MOSTLY_Q8_0) return 'int8' as const;
  return mode === 'stored' ? storedDType(cfg) : ('f32' as const);
}

/**
 * Loads a GGUF model file: f32 weights by default (trainable), or compact inference weights (opts.weights
 * 'stored': the file's f32/f16/bf16/q8_0 as they are; 'int8': q8_0, float matrices quantised at load).
 */
export function loadGgufModel(path: string, opts: LoadOptions = {}): CausalLM {
  const mode = opts.weights ?? 'f32';
  if (mode !== 'f32' && opts.trainable === true)
    throw new CheckpointError(
      `${path}: weights '${mode}' are for inference and cannot be trainable; load with weights 'f32' to train`,
    );
  const file = openGguf(path);
  const cfg = ggufConfig(file);
  const arch = cfg.modelType;
  const model = createModel(cfg, placeholderInit, plannedDtype(file, cfg, mode));
  const params = [...model.namedParameters()];
  const slots = slotsOf(file, arch, params);
  const bytes = new TensorBytes(file);
  const aligned = mode === 'stored' && (opts.alignWeights ?? false); // stored float matrices onto cache lines
  for (const [name, placeholder] of params) {
    const slot = slots.get(name)!;
    const shape = [...placeholder.shape];
    let t: Tensor;
    if (shape.length === 2) {
      t = inWeightMode(readMatrix(bytes, slot, shape, permutedHeads(arch, cfg, name), aligned), mode);
      // an f32 view of the mapping is not to be trained in place: copy it
      if (mode === 'f32' && t.dtype === 'f32' && slot.info.type === GgmlType.F32)
        t = Tensor.fromStorage(shape, 'f32', t.f32('loadGgufModel').slice());
    } else t = readVector(bytes, slot, shape);
    t.kept = true;
    t.requiresGrad = mode === 'f32' && (opts.trainable ?? true);
    t.name = name;
    model.setParam(name, t);
  }
  return model;
}

/** The tokenizer a GGUF file carries, or null when it has none. */
export function loadGgufTokenizer(path: string): HfTokenizer | null {
  return ggufTokenizer(openGguf(path).metadata, path);
}

/** A GGUF file's model (as loadGgufModel) and its tokenizer (null when the file has none). */
export function loadGguf(path: string, opts: LoadOptions = {}): { model: CausalLM; tokenizer: HfTokenizer | null } {
  return { model: loadGgufModel(path, opts), tokenizer: loadGgufTokenizer(path) };
}
