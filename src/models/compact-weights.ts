// Inference weights in compact form (LoadOptions.weights): 'stored' keeps every matrix in the checkpoint's own
// dtype (bf16, f16 or f32) as a view of the memory-mapped file, so loading copies nothing and nothing is
// widened; 'int8' quantises each matrix to q8_0 at load (ops/weight-linear.ts). Either way the f32 matrices
// that remain are marked as inference weights, so they too go through the weight-row-streaming wgemm kernels. Vectors (norm weights) are
// small and read as f32 either way. A checkpoint saved quantised carries, for each q8_0 matrix NAME, an I8
// tensor NAME and its f16 block scales NAME_scale, and says so in config.json (quantization_config).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SafetensorsDtype, TensorSource, TensorToWrite } from '../io/safetensors.ts';
import {
  inferenceWeight,
  isCompactWeight,
  q8Parts,
  q8Weight,
  quantizeWeight,
  Q8_BLOCK,
  Tensor,
  widenRows,
} from '../tensor/index.ts';
import { lineAlignedBytes, mapFile, populatePages, releasePages } from '../tensor/mapped-file.ts';
import { CheckpointError } from './checkpoint-error.ts';

export type WeightMode = 'f32' | 'stored' | 'int8';

/** config.json's quantization_config for a q8_0 checkpoint saved by olmo-ts. */
export const Q8_QUANTIZATION_CONFIG = {
  quant_method: 'olmo-ts',
  scheme: 'q8_0',
  block_size: Q8_BLOCK,
  scale_dtype: 'float16',
} as const;

/** The suffix of a q8_0 matrix's block scales beside its quants. */
export const SCALE_SUFFIX = '_scale';

/**
 * The quantisation a checkpoint folder declares: null (plain weights) or 'q8_0'. Anything else is refused by
 * name (GPTQ, AWQ, bitsandbytes, … are not loadable here).
 */
export function readQuantization(dir: string): 'q8_0' | null {
  const path = join(dir, 'config.json');
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { quantization_config?: Record<string, unknown> };
  const q = raw.quantization_config;
  if (q === undefined || q === null) return null;
  if (
    q.quant_method === Q8_QUANTIZATION_CONFIG.quant_method &&
    q.scheme === 'q8_0' &&
    (q.block_size ?? Q8_BLOCK) === Q8_BLOCK
  )
    return 'q8_0';
  throw new CheckpointError(
    `${path}: unknown quantization_config ${JSON.stringify(q)}; olmo-ts loads only plain f32/bf16/f16 weights and ` +
      `its own q8_0 (${JSON.stringify(Q8_QUANTIZATION_CONFIG)})`,
  );
}

const ELEMENT: Partial<Record<SafetensorsDtype, { dtype: 'bf16' | 'f16' | 'f32' | 'i8'; bytes: number }>> = {
  BF16: { dtype: 'bf16', bytes: 2 },
  F16: { dtype: 'f16', bytes: 2 },
  F32: { dtype: 'f32', bytes: 4 },
  I8: { dtype: 'i8', bytes: 1 },
};

type View = Uint16Array | Float32Array | Int8Array;

function viewOf(dtype: 'bf16' | 'f16' | 'f32' | 'i8', buf: ArrayBuffer, offset: number, n: number): View {
  if (dtype === 'f32') return new Float32Array(buf, offset, n);
  if (dtype === 'i8') return new Int8Array(buf, offset, n);
  return new Uint16Array(buf, offset, n);
}

/** Views of a checkpoint's tensors over its memory-mapped files (each file mapped once). */
export class MappedTensors {
  private readonly maps = new Map<string, ArrayBuffer | null>();
  constructor(private readonly src: TensorSource) {}

  /**
   * Takes `name`'s pages of the mapping out of this process's resident memory once it has been copied (quantised):
   * the mapped bf16 matrix and its q8_0 copy would otherwise both count.
   */
  release(name: string): void {
    this.advise(name, releasePages);
  }

  /** Maps `name`'s pages now, in one pass, before it is read whole (quantised): see populatePages. */
  populate(name: string): void {
    this.advise(name, populatePages);
  }

  /** Gives `name`'s bytes of its file's mapping to a page advice (nothing when the file is not mapped). */
  private advise(name: string, advice: (buffer: ArrayBuffer, offset: number, length: number) => number): void {
    const loc = this.src.locate(name);
    const buf = this.maps.get(loc.file);
    if (buf) advice(buf, loc.offset, loc.byteLength);
  }

  /** Whether `name` can be taken as it is stored (a dtype with a compact or f32 typed array). */
  storable(name: string): boolean {
    return this.src.has(name) && ELEMENT[this.src.info(name).dtype] !== undefined;
  }

  /** Refuses a tensor whose stored shape is not the one the config implies, naming its file. */
  checkShape(name: string, shape: readonly number[]): void {
    const stored = this.src.info(name).shape;
    if (stored.join() !== shape.join())
      throw new CheckpointError(
        `${this.src.locate(name).file}: tensor ${name} has shape [${stored}], the config implies [${shape}]`,
      );
  }

  /**
   * The tensor's data in its stored dtype: a view of the mapping when its offset is aligned to its element
   * size (safetensors does not promise that), else a copy; read from disk when there is no addon to map with.
   * `lineAligned`: float data (not q8_0 quants) is also copied when it does not start on a 64-byte boundary
   * (lineAlignedBytes).
   */
  view(name: string, lineAligned = false): { dtype: 'bf16' | 'f16' | 'f32' | 'i8'; data: View } {
    const info = this.src.info(name);
    const el = ELEMENT[info.dtype];
    if (!el) throw new CheckpointError(`tensor ${name}: dtype ${info.dtype} cannot be kept as stored`);
    const n = info.byteLength / el.bytes;
    const loc = this.src.locate(name);
    if (!this.maps.has(loc.file)) this.maps.set(loc.file, mapFile(loc.file));
    const buf = this.maps.get(loc.file)!;
    if (!buf) return { dtype: el.dtype, data: viewOf(el.dtype, this.src.readBytes(name).buffer as ArrayBuffer, 0, n) };
    if (loc.offset + loc.byteLength > buf.byteLength)
      throw new CheckpointError(
        `${loc.file}: tensor ${name} ends at byte ${loc.offset + loc.byteLength}, past the end of the file (${buf.byteLength} bytes): truncated`,
      );
    const lined =
      lineAligned && el.dtype !== 'i8'
        ? lineAlignedBytes(buf, loc.offset, loc.byteLength)
        : new Uint8Array(buf, loc.offset, loc.byteLength);
    const bytes = lined.byteOffset % el.bytes === 0 ? lined : lined.slice();
    return { dtype: el.dtype, data: viewOf(el.dtype, bytes.buffer as ArrayBuffer, bytes.byteOffset, n) };
  }
}

/**
 * One parameter in compact form, or null when it should be read as f32 (vectors, other dtypes, tensors the
 * checkpoint lacks under this name). `quantized` says the checkpoint holds q8_0 matrices (NAME + NAME_scale).
 */
export function compactParam(
  mapped: MappedTensors,
  name: string,
  shape: readonly number[],
  mode: WeightMode,
  quantized: boolean,
  alignWeights = false,
): Tensor | null {
  if (shape.length !== 2 || !mapped.storable(name)) return null;
  mapped.checkShape(name, shape);
  // Float matrices kept as stored are streamed by the weight kernels: on cache lines (LoadOptions.alignWeights).
  const { dtype, data } = mapped.view(name, mode === 'stored' && alignWeights);
  let t: Tensor;
  if (dtype === 'i8') {
    if (!quantized) throw new CheckpointError(`tensor ${name} is I8 but config.json declares no quantization_config`);
    const scaleName = name + SCALE_SUFFIX;
    if (!mapped.storable(scaleName)) throw new CheckpointError(`q8_0 tensor ${name} has no block scales ${scaleName}`);
    const scales = mapped.view(scaleName);
    if (scales.dtype !== 'f16') throw new CheckpointError(`${scaleName} must be F16, got ${scales.dtype}`);
    t = q8Weight(shape, data as Int8Array, scales.data as Uint16Array);
  } else {
    t = Tensor.fromStorage(shape, dtype, data);
  }
  t.name = name;
  if (!quantizedAtLoad(t, mode)) return inWeightMode(t, mode);
  // Read whole once: mapped in one pass first; then the quantised copy replaces it, so its pages need not stay
  // resident beside it.
  mapped.populate(name);
  const held = quantizeWeight(t);
  mapped.release(name);
  return held;
}

/** Whether `mode` holds the matrix `t` as a q8_0 copy made at load (int8 mode, a float matrix of whole blocks). */
function quantizedAtLoad(t: Tensor, mode: WeightMode): boolean {
  return mode === 'int8' && t.dtype !== 'q8_0' && t.shape[1] % Q8_BLOCK === 0;
}

/** A matrix as `mode` holds it: widened to f32, kept as it is (f32 marked for inference), or quantised to q8_0. */
export function inWeightMode(t: Tensor, mode: WeightMode): Tensor {
  const shape = t.shape;
  if (mode === 'f32') return t.dtype === 'f32' ? t : Tensor.fromStorage(shape, 'f32', widenRows(t, 0, shape[0]));
  if (quantizedAtLoad(t, mode)) return quantizeWeight(t);
  return t.dtype === 'f32' ? inferenceWeight(t) : t;
}

/** The safetensors entries that save one parameter (a q8_0 matrix becomes its quants and its scales). */
export function tensorsToWrite(
  name: string,
  t: Tensor,
  dtype: 'float32' | 'bfloat16',
  toBf16: (x: Float32Array) => Uint16Array,
): [string, TensorToWrite][] {
  if (t.dtype === 'q8_0') {
    const { quants, scales } = q8Parts(t);
    return [
      [name, { dtype: 'I8', shape: t.shape, data: quants }],
      [name + SCALE_SUFFIX, { dtype: 'F16', shape: [t.shape[0], t.shape[1] / Q8_BLOCK], data: scales }],
    ];
  }
  if (t.dtype === 'bf16' && dtype === 'bfloat16')
    return [[name, { dtype: 'BF16', shape: t.shape, data: t.data as Uint16Array }]];
  const f = isCompactWeight(t) ? widenRows(t, 0, t.shape[0]) : t.f32('saveModel');
  return [
    [
      name,
      dtype === 'bfloat16'
        ? { dtype: 'BF16', shape: t.shape, data: toBf16(f) }
        : { dtype: 'F32', shape: t.shape, data: f },
    ],
  ];
}
