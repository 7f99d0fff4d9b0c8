// Inference weights kept in a compact dtype: a Linear layer's product and an embedding lookup for weights
// stored as bf16 or f16 bits (as the checkpoint holds them) or as q8_0 (int8 quants in 32-element blocks with
// one f16 scale each, made at load time with quantizeWeight). Activations stay f32; the weight is widened inside
// the kernel (kernels/types.ts, family wgemm), so no f32 copy of it ever exists. The f32 matrices of an
// inference model (an f32 checkpoint loaded as stored) take the same road (inferenceWeight): the wgemm kernels
// read each weight row contiguously, so decoding one token streams W at memory bandwidth, where the training
// GEMM (kept for trainable f32 weights) would transpose W on every call. These ops have no backward:
// training needs f32 master weights (loadModel's default), and trying to differentiate through a compact weight
// is an error that says so.
import { needsGrad } from '../autograd.ts';
import { kernels } from '../backend.ts';
import { GGML_Q8_BLOCK_BYTES, q8RowBytes, WeightFormat, type WeightFormatCode } from '../kernels/types.ts';
import { allocLarge } from '../mapped-file.ts';
import { formatShape, ShapeError } from '../shape.ts';
import { Tensor } from '../tensor.ts';

export const Q8_BLOCK = 32;

/** Checks that `shape` can hold q8_0 weights ([rows, cols], cols a multiple of Q8_BLOCK); returns [rows, cols]. */
function q8Shape(op: string, shape: readonly number[]): [number, number] {
  if (shape.length !== 2 || shape[1] % Q8_BLOCK !== 0)
    throw new ShapeError(
      `${op}: a q8_0 weight's shape must be [rows, cols] with cols a multiple of ${Q8_BLOCK}, got ${formatShape(shape)}`,
    );
  return [shape[0], shape[1]];
}

/**
 * A q8_0 weight [rows, cols] from its quants ([rows, cols] int8) and block scales ([rows, cols/32] f16 bits), as a
 * checkpoint or a GGUF file holds them apart: copied into q8_0 rows (each row's quants, then its scales;
 * kernels/types.ts q8RowBytes), on huge pages, as quantizeWeight makes them.
 */
export function q8Weight(shape: readonly number[], quants: Int8Array, scales: Uint16Array): Tensor {
  const [rows, cols] = q8Shape('q8Weight', shape);
  if (quants.length !== rows * cols)
    throw new ShapeError(`q8_0 weight ${formatShape(shape)}: needs ${rows * cols} quants, got ${quants.length}`);
  if (scales.length !== (rows * cols) / Q8_BLOCK)
    throw new ShapeError(
      `q8_0 weight ${formatShape(shape)}: needs ${(rows * cols) / Q8_BLOCK} block scales, got ${scales.length}`,
    );
  const stride = q8RowBytes(cols);
  const data = new Int8Array(allocLarge(rows * stride));
  const scaleBytes = new Int8Array(scales.buffer, scales.byteOffset, scales.byteLength);
  for (let r = 0; r < rows; r++) {
    data.set(quants.subarray(r * cols, (r + 1) * cols), r * stride);
    data.set(scaleBytes.subarray((r * cols) / 16, ((r + 1) * cols) / 16), r * stride + cols);
  }
  return Tensor.fromStorage(shape, 'q8_0', data);
}

/**
 * A q8_0 weight [rows, cols] from ggml's q8_0 blocks (a GGUF file's: 34 bytes each, the f16 scale then 32 int8
 * quants, in row order), rearranged into q8_0 rows by the kernel q8FromBlocks, on huge pages.
 */
export function q8FromBlocks(shape: readonly number[], blocks: Uint8Array): Tensor {
  const [rows, cols] = q8Shape('q8FromBlocks', shape);
  const need = (rows * cols * GGML_Q8_BLOCK_BYTES) / Q8_BLOCK;
  if (blocks.length !== need)
    throw new ShapeError(
      `q8FromBlocks: ${formatShape(shape)} needs ${need} bytes of q8_0 blocks, got ${blocks.length}`,
    );
  const data = new Int8Array(allocLarge(rows * q8RowBytes(cols)));
  kernels().q8FromBlocks(new Int8Array(blocks.buffer, blocks.byteOffset, blocks.length), data, rows, cols);
  return Tensor.fromStorage(shape, 'q8_0', data);
}

/**
 * Rows [r0, r1) of a q8_0 weight as its quants ([r1 - r0, cols] int8) and block scales ([r1 - r0, cols/32] f16
 * bits), copied apart (for the formats that store them so: safetensors, GGUF).
 */
export function q8Parts(t: Tensor, r0 = 0, r1 = t.shape[0]): { quants: Int8Array; scales: Uint16Array } {
  if (t.dtype !== 'q8_0') throw new ShapeError(`${t.describe()} is not a q8_0 weight`);
  const cols = t.shape[1],
    stride = q8RowBytes(cols),
    data = t.data as Int8Array;
  const quants = new Int8Array((r1 - r0) * cols);
  const scales = new Uint16Array(((r1 - r0) * cols) / Q8_BLOCK);
  const scaleBytes = new Int8Array(scales.buffer);
  for (let r = r0; r < r1; r++) {
    quants.set(data.subarray(r * stride, r * stride + cols), (r - r0) * cols);
    scaleBytes.set(data.subarray(r * stride + cols, (r + 1) * stride), ((r - r0) * cols) / 16);
  }
  return { quants, scales };
}

/** The f32 matrices marked by inferenceWeight. */
const inferenceF32 = new WeakSet<Tensor>();

/**
 * Marks an f32 matrix [out, in] as an inference weight: linear and embedding then use the wgemm kernels on it
 * (fixed per-element order, batch-invariant, no backward) instead of the training GEMM. Returns it.
 */
export function inferenceWeight(t: Tensor): Tensor {
  if (t.dtype !== 'f32' || t.rank !== 2)
    throw new ShapeError(`inferenceWeight: ${t.describe()} must be an f32 matrix [out, in]`);
  if (t.requiresGrad)
    throw new ShapeError(`inferenceWeight: ${t.describe()} is trainable; inference weights have no gradient`);
  inferenceF32.add(t);
  return t;
}

/**
 * Whether a weight is held for inference by the wgemm kernels: kept compact (bf16, f16 or q8_0), or an f32
 * matrix marked by inferenceWeight.
 */
export function isCompactWeight(t: Tensor): boolean {
  return t.dtype === 'bf16' || t.dtype === 'f16' || t.dtype === 'q8_0' || inferenceF32.has(t);
}

function refuseGrad(op: string, tensors: Tensor[], weight: Tensor): void {
  if (needsGrad(tensors))
    throw new Error(
      `${op}: cannot differentiate through the ${weight.dtype} weight ${weight.describe()}: ` +
        `inference weights have no backward; load the checkpoint with f32 weights (loadModel's default) to train`,
    );
}

/** Rows [r0, r1) of a 2-D weight as f32 (exact for bf16/f16; q8_0 as quant·scale). */
export function widenRows(w: Tensor, r0: number, r1: number): Float32Array {
  const cols = w.shape[1];
  const out = new Float32Array((r1 - r0) * cols);
  const k = kernels();
  if (w.dtype === 'f32') out.set(w.f32().subarray(r0 * cols, r1 * cols));
  else if (w.dtype === 'bf16') k.bf16ToF32((w.data as Uint16Array).subarray(r0 * cols, r1 * cols), out, out.length);
  else if (w.dtype === 'f16') k.f16ToF32((w.data as Uint16Array).subarray(r0 * cols, r1 * cols), out, out.length);
  else if (w.dtype === 'q8_0') {
    const { quants, scales: bits } = q8Parts(w, r0, r1);
    const scales = new Float32Array(bits.length);
    k.f16ToF32(bits, scales, scales.length);
    for (let i = 0; i < out.length; i++) out[i] = quants[i] * scales[i >> 5];
  } else throw new ShapeError(`widenRows: ${w.describe()} is not a floating weight`);
  return out;
}

/**
 * An opt-in switch of the weight kernels: the environment variable `name` ("1" on, "0" or unset off, anything else
 * refused by name), read once, unless set() said otherwise for the rest of the process (undefined: as it says).
 * It also says once on stderr when the mode cannot run as intended here (notice); each set() may say it again.
 */
class EnvSwitch {
  private value: boolean | undefined;
  private said = false;
  constructor(private readonly name: string) {}
  get(): boolean {
    if (this.value === undefined) {
      const v = process.env[this.name] ?? '';
      if (v !== '' && v !== '0' && v !== '1') throw new Error(`${this.name} must be "1" or "0", got "${v}"`);
      this.value = v === '1';
    }
    return this.value;
  }
  set(on: boolean | undefined): void {
    this.value = on;
    this.said = false;
  }
  /** exact() when off; fast() when on, saying `unavailable` once when fast() reports it did not run as intended. */
  choose(exact: () => void, fast: () => boolean, unavailable: string): void {
    if (!this.get()) return exact();
    if (fast() || this.said) return;
    this.said = true;
    process.stderr.write(`olmo-ts: ${unavailable}\n`);
  }
}

const bf16Fast = new EnvSwitch('OLMO_BF16_FAST');

/**
 * Whether bf16 weights multiply in the fast mode (kernels/types.ts, linearBf16Fast: x rounded to bf16, AVX512_BF16
 * dot products; within 2^-8·Σ|x·w| of the exact mode, batch-invariant, not bit-identical across CPUs): the
 * OLMO_BF16_FAST environment variable ("1" on, "0" or unset off) unless setBf16Fast said otherwise.
 */
export const bf16FastMode = (): boolean => bf16Fast.get();
/** Turns the bf16 fast mode on or off for the rest of the process (over OLMO_BF16_FAST); undefined: as it says. */
export const setBf16Fast = (on: boolean | undefined): void => bf16Fast.set(on);

const BF16_FAST_UNAVAILABLE =
  `the bf16 fast mode needs AVX512_BF16 on the native backend's AVX-512 path, which this process does not have ` +
  `(CPU, OLMO_CPU_PATH or OLMO_BACKEND); bf16 weights use the exact kernel`;

const int8Fast = new EnvSwitch('OLMO_INT8_FAST');

/**
 * Whether q8_0 weights multiply in the int8 fast mode (kernels/types.ts, linearQ8Fast: x quantised to q8_0 per
 * 32-element block, as llama.cpp does, and multiplied as integers; bit-identical on every path and batch size,
 * within Σ_b (dx_b/2)·Σ|w| of the exact mode): the OLMO_INT8_FAST environment variable ("1" on, "0" or unset
 * off) unless setInt8Fast said otherwise.
 */
export const int8FastMode = (): boolean => int8Fast.get();
/** Turns the int8 fast mode on or off for the rest of the process (over OLMO_INT8_FAST); undefined: as it says. */
export const setInt8Fast = (on: boolean | undefined): void => int8Fast.set(on);

const INT8_FAST_UNAVAILABLE =
  `the int8 fast mode has AVX512-VNNI kernels only, which this process does not run (CPU, OLMO_CPU_PATH or ` +
  `OLMO_BACKEND); its reference loop gives the same results, more slowly than the exact int8 kernels`;

/** The inner width k of x [..., k] · Wᵀ for a compact W [n, k], after checking both. */
function innerWidth(op: string, x: Tensor, w: Tensor): number {
  if (w.rank !== 2) throw new ShapeError(`${op}: weight must be [out, in], got ${formatShape(w.shape)}`);
  const k = w.shape[1];
  if (x.rank < 1 || x.shape[x.rank - 1] !== k)
    throw new ShapeError(`${op}: cannot multiply ${formatShape(x.shape)} by ${w.describe()}ᵀ: inner dimensions differ`);
  return k;
}

/** x [..., k] · Wᵀ for a compact W [n, k]: [..., n] in f32. */
export function compactLinear(x: Tensor, w: Tensor): Tensor {
  const op = 'linear';
  const k = innerWidth(op, x, w);
  const n = w.shape[0];
  refuseGrad(op, [x, w], w);
  const m = x.size / k;
  const out = Tensor.empty([...x.shape.slice(0, -1), n]);
  const kern = kernels();
  const xs = x.f32(op);
  if (w.dtype === 'f32') kern.linearF32(xs, w.f32(op), out.f32(), m, n, k);
  else if (w.dtype === 'bf16') {
    const bits = w.data as Uint16Array;
    bf16Fast.choose(
      () => kern.linearBf16(xs, bits, out.f32(), m, n, k),
      () => kern.linearBf16Fast(xs, bits, out.f32(), m, n, k),
      BF16_FAST_UNAVAILABLE,
    );
  } else if (w.dtype === 'f16') kern.linearF16(xs, w.data as Uint16Array, out.f32(), m, n, k);
  else if (w.dtype === 'q8_0') {
    const rows = w.data as Int8Array;
    int8Fast.choose(
      () => kern.linearQ8(xs, rows, out.f32(), m, n, k),
      () => kern.linearQ8Fast(xs, rows, out.f32(), m, n, k),
      INT8_FAST_UNAVAILABLE,
    );
  } else throw new ShapeError(`${op}: ${w.describe()} is not a compact weight`);
  return out;
}

/** The most weights compactLinearGroup multiplies in one call (the kernel's limit). */
export const MAX_GROUP_WEIGHTS = 64;

const GROUP_FORMAT: Partial<Record<Tensor['dtype'], WeightFormatCode>> = {
  f32: WeightFormat.f32,
  bf16: WeightFormat.bf16,
  f16: WeightFormat.f16,
  q8_0: WeightFormat.q8,
};

/**
 * x [..., k] · Wᵢᵀ for compact weights Wᵢ [nᵢ, k] of one dtype (up to MAX_GROUP_WEIGHTS), in one kernel call
 * (linearGroup): each result is compactLinear's, bit for bit, but the threads share all the matrices' rows as
 * one job and x is prepared once, which is what a decoding step's q/k/v and gate/up projections want. With an
 * array for x, input i (all of one shape) multiplies weight i: an OLMoE token's experts' down projections.
 */
export function compactLinearGroup(x: Tensor | readonly Tensor[], ws: readonly Tensor[]): Tensor[] {
  const op = 'linear';
  if (ws.length === 0 || ws.length > MAX_GROUP_WEIGHTS)
    throw new ShapeError(`${op}: a group takes 1 to ${MAX_GROUP_WEIGHTS} weights, got ${ws.length}`);
  const inputs = Array.isArray(x) ? (x as readonly Tensor[]) : [];
  const first = Array.isArray(x) ? inputs[0] : (x as Tensor);
  if (Array.isArray(x) && (inputs.length !== ws.length || inputs.some((t) => t.shape.join() !== first.shape.join())))
    throw new ShapeError(
      `${op}: a group's inputs must be one per weight and of one shape: ${inputs.map((t) => t.describe()).join(', ')}`,
    );
  const k = innerWidth(op, first, ws[0]);
  for (const w of ws) {
    innerWidth(op, first, w);
    if (w.dtype !== ws[0].dtype || !isCompactWeight(w))
      throw new ShapeError(
        `${op}: a group's weights must be compact and of one dtype: ${ws.map((t) => t.describe()).join(', ')}`,
      );
  }
  const format = GROUP_FORMAT[ws[0].dtype]!;
  refuseGrad(op, [...(inputs.length > 0 ? inputs : [first]), ...ws], ws[0]);
  const m = first.size / k;
  const outs = ws.map((w) => Tensor.empty([...first.shape.slice(0, -1), w.shape[0]]));
  const group = {
    format,
    weights: ws.map((w) => (w.dtype === 'f32' ? w.f32(op) : (w.data as Uint16Array | Int8Array))),
    outs: outs.map((o) => o.f32()),
    rows: ws.map((w) => w.shape[0]),
    inputs: inputs.map((t) => t.f32(op)),
  };
  const kern = kernels();
  const xs = first.f32(op);
  const run = (fast: boolean) => kern.linearGroup(xs, { ...group, fast }, m, k);
  if (format === WeightFormat.bf16)
    bf16Fast.choose(
      () => void run(false),
      () => run(true),
      BF16_FAST_UNAVAILABLE,
    );
  else if (format === WeightFormat.q8)
    int8Fast.choose(
      () => void run(false),
      () => run(true),
      INT8_FAST_UNAVAILABLE,
    );
  else run(false);
  return outs;
}

/** Embedding lookup in a compact table [vocab, dim]: [...ids.shape, dim] in f32. */
export function compactEmbedding(w: Tensor, ids: Tensor): Tensor {
  const op = 'embedding';
  if (w.rank !== 2) throw new ShapeError(`${op}: weight must be [vocab, dim], got ${formatShape(w.shape)}`);
  refuseGrad(op, [w], w);
  const [vocab, dim] = w.shape;
  const idx = ids.i32(op);
  const out = Tensor.empty([...ids.shape, dim]);
  const o = out.f32();
  for (let i = 0; i < idx.length; i++) {
    const id = idx[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocab)
      throw new ShapeError(`${op}: index ${id} at position ${i} is outside [0, ${vocab})`);
    o.set(widenRows(w, id, id + 1), i * dim);
  }
  return out;
}

/**
 * A 2-D f32/bf16/f16 weight as q8_0 (cols a multiple of 32), read in place: a memory-mapped bf16 checkpoint is
 * quantised straight from the mapping, with no f32 copy of the matrix. Refuses weights with non-finite values
 * or blocks whose scale overflows f16, naming the tensor.
 */
export function quantizeWeight(w: Tensor): Tensor {
  if (w.rank !== 2 || w.shape[1] % Q8_BLOCK !== 0)
    throw new ShapeError(`quantizeWeight: ${w.describe()} must be [rows, cols] with cols a multiple of ${Q8_BLOCK}`);
  const [rows, cols] = w.shape;
  // On huge pages: the rows are made once and streamed on every token (mapped-file.ts).
  const q = new Int8Array(allocLarge(rows * q8RowBytes(cols)));
  const k = kernels();
  let bad: number;
  if (w.dtype === 'f32') bad = k.quantizeQ8(w.f32('quantizeWeight'), q, rows, cols);
  else if (w.dtype === 'bf16') bad = k.quantizeQ8Bf16(w.data as Uint16Array, q, rows, cols);
  else if (w.dtype === 'f16') bad = k.quantizeQ8F16(w.data as Uint16Array, q, rows, cols);
  else throw new ShapeError(`quantizeWeight: ${w.describe()} is not an f32, bf16 or f16 weight`);
  if (bad > 0)
    throw new ShapeError(
      `quantizeWeight: ${w.describe()} has ${bad} block(s) of ${Q8_BLOCK} with non-finite values or a scale beyond f16's range`,
    );
  const t = Tensor.fromStorage(w.shape, 'q8_0', q);
  t.name = w.name;
  return t;
}
