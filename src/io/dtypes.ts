// The element types of the safetensors format, their sizes, the typed array each is read into, and exact
// conversions between them (bf16/f16/f8 → f32 bit-exactly, f32 → bf16/f16 with round-to-nearest-even).
// No dependency on the tensor engine: everything here is typed arrays.
//
// Byte order: safetensors is little-endian, and so is every platform Node 20 runs on in practice (x86-64,
// arm64). Typed-array views over file bytes therefore need no swapping; `assertLittleEndian` guards the rest.

/** Every dtype name the safetensors format defines (the Rust crate's `Dtype` enum, in its declaration order). */
export const DTYPES = [
  'BOOL',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'C64',
  'F64',
  'I64',
  'U64',
] as const;

export type SafetensorsDtype = (typeof DTYPES)[number];

/** Bits per element. F4 and F6 are packed sub-byte formats (the tensor's total bit count must be a whole byte). */
export const DTYPE_BITS: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};

/**
 * The rank of a dtype in the Rust crate's enum, which is in increasing alignment. The Rust writer (used by
 * `safetensors.torch.save_file`, hence by transformers' `save_pretrained`) lays tensors out by descending
 * rank, then by name, so that every tensor starts aligned to its element size.
 */
export function dtypeRank(dtype: SafetensorsDtype): number {
  return DTYPES.indexOf(dtype);
}

export function isDtype(name: unknown): name is SafetensorsDtype {
  return typeof name === 'string' && (DTYPES as readonly string[]).includes(name);
}

export const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set<SafetensorsDtype>([
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F16',
  'BF16',
  'F32',
  'F64',
]);

export const INT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set<SafetensorsDtype>([
  'BOOL',
  'U8',
  'I8',
  'I16',
  'U16',
  'I32',
  'U32',
  'I64',
  'U64',
]);

/** The typed array a tensor of each dtype is returned as. Half and 8-bit floats keep their raw bits. */
export interface DtypeArrayMap {
  BOOL: Uint8Array;
  F4: Uint8Array;
  F6_E2M3: Uint8Array;
  F6_E3M2: Uint8Array;
  U8: Uint8Array;
  I8: Int8Array;
  F8_E5M2: Uint8Array;
  F8_E4M3: Uint8Array;
  F8_E8M0: Uint8Array;
  I16: Int16Array;
  U16: Uint16Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I32: Int32Array;
  U32: Uint32Array;
  F32: Float32Array;
  /** interleaved (re, im) pairs: length 2 × numel */
  C64: Float32Array;
  F64: Float64Array;
  I64: BigInt64Array;
  U64: BigUint64Array;
}

export type TensorData = DtypeArrayMap[SafetensorsDtype];

type ArrayCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  new (length: number): TensorData;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

const ARRAY_CTOR: Readonly<Record<SafetensorsDtype, ArrayCtor>> = {
  BOOL: Uint8Array,
  F4: Uint8Array,
  F6_E2M3: Uint8Array,
  F6_E3M2: Uint8Array,
  U8: Uint8Array,
  I8: Int8Array,
  F8_E5M2: Uint8Array,
  F8_E4M3: Uint8Array,
  F8_E8M0: Uint8Array,
  I16: Int16Array,
  U16: Uint16Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I32: Int32Array,
  U32: Uint32Array,
  F32: Float32Array,
  C64: Float32Array,
  F64: Float64Array,
  I64: BigInt64Array,
  U64: BigUint64Array,
};

/** The name of the typed array class used for `dtype` ("Float32Array", ...). */
export function arrayTypeName(dtype: SafetensorsDtype): string {
  return ARRAY_CTOR[dtype].name;
}

/** Number of elements of a shape (1 for a scalar `[]`). Exact up to 2^53. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Bytes taken by `count` elements of `dtype`, or null when the bit count is not a whole number of bytes
 * (possible only for the packed F4/F6 types) or not an exact integer.
 */
export function byteLengthOf(dtype: SafetensorsDtype, count: number): number | null {
  const bits = count * DTYPE_BITS[dtype];
  if (!Number.isSafeInteger(bits) || bits % 8 !== 0) return null;
  return bits / 8;
}

let littleEndianChecked = false;
export function assertLittleEndian(): void {
  if (littleEndianChecked) return;
  const probe = new Uint8Array(new Uint16Array([1]).buffer);
  if (probe[0] !== 1) throw new Error('olmo-ts io: safetensors needs a little-endian host; this machine is big-endian');
  littleEndianChecked = true;
}

/**
 * Views `bytes` (the little-endian contents of a tensor) as the dtype's natural typed array. No copy when the
 * bytes are suitably aligned; a copy otherwise.
 */
export function bytesToArray<D extends SafetensorsDtype>(dtype: D, bytes: Uint8Array): DtypeArrayMap[D] {
  assertLittleEndian();
  const Ctor = ARRAY_CTOR[dtype];
  const size = Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) {
    throw new Error(`${bytes.byteLength} bytes are not a whole number of ${dtype} elements (${size} bytes each)`);
  }
  if (Ctor === Uint8Array) return bytes as DtypeArrayMap[D];
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return new Ctor(aligned.buffer, aligned.byteOffset, aligned.byteLength / size) as DtypeArrayMap[D];
}

/** The bytes of a typed array (a view, no copy). */
export function arrayBytes(data: ArrayBufferView): Uint8Array {
  assertLittleEndian();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Checks that `data` is an acceptable array for `dtype`: its natural typed array, or raw bytes as a
 * Uint8Array (any dtype). Returns an error string or null.
 */
export function checkArrayType(dtype: SafetensorsDtype, data: unknown): string | null {
  if (data instanceof Uint8Array) return null;
  const Ctor = ARRAY_CTOR[dtype];
  if (data instanceof Ctor) return null;
  const got = ArrayBuffer.isView(data) ? data.constructor.name : data === null ? 'null' : typeof data;
  return `dtype ${dtype} takes a ${Ctor.name} (or its raw little-endian bytes as a Uint8Array), got ${got}`;
}

// ---------------------------------------------------------------------------------------------------------
// Scalar bit conversions. All exact (to f32) or round-to-nearest-even (from f32).

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** bfloat16 bits → the float32 it denotes (exact: bf16 is the top half of an f32). */
export function bf16BitsToF32(bits: number): number {
  u32Scratch[0] = (bits & 0xffff) << 16;
  return f32Scratch[0];
}

/** IEEE binary16 bits → f32 bits (exact; NaN payloads are kept, shifted into the f32 mantissa). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal: value = mant · 2^-24; normalise so the leading 1 sits at bit 10.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

export function f16BitsToF32(h: number): number {
  u32Scratch[0] = f16BitsToF32Bits(h);
  return f32Scratch[0];
}

/** float32 → bfloat16 bits, round-to-nearest-even (what torch's `.to(torch.bfloat16)` does); NaN stays NaN. */
export function f32ToBf16Bits(x: number): number {
  f32Scratch[0] = x;
  return f32BitsToBf16Bits(u32Scratch[0]);
}

function f32BitsToBf16Bits(u: number): number {
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return ((u >>> 16) | 0x40) & 0xffff; // quiet NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 → IEEE binary16 bits, round-to-nearest-even; overflow → ±Inf, underflow → subnormals/±0. */
export function f32ToF16Bits(x: number): number {
  f32Scratch[0] = x;
  return f32BitsToF16Bits(u32Scratch[0]);
}

function f32BitsToF16Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    const shift = 14 - e; // f16 subnormal k = m · 2^(exp-126), m the 24-bit significand
    if (shift > 24) return sign;
    const m = mant | 0x800000;
    let k = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (k & 1) === 1)) k++;
    return sign | k; // k may reach 0x400, the smallest normal: still the right encoding
  }
  let k = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (k & 1) === 1)) k++; // a carry into the exponent is correct, up to Inf
  return sign | k;
}

/** OCP FP8 E4M3 ("fn": no infinities, S.1111.111 is NaN; torch.float8_e4m3fn) bits → f32. Exact. */
export function f8e4m3BitsToF32(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >>> 3) & 0xf;
  const mant = b & 0x7;
  if (exp === 0xf && mant === 0x7) return NaN;
  if (exp === 0) return sign * mant * 2 ** -9; // subnormal: mant/8 · 2^(1-7)
  return sign * (1 + mant / 8) * 2 ** (exp - 7);
}

/** OCP FP8 E5M2 (torch.float8_e5m2) bits → f32: it is the top byte of an IEEE binary16. Exact. */
export function f8e5m2BitsToF32(b: number): number {
  return f16BitsToF32((b & 0xff) << 8);
}

/** OCP E8M0 scale (torch.float8_e8m0fnu): 2^(b − 127), 0xff is NaN. Exact (2^-127 is an f32 subnormal). */
export function f8e8m0BitsToF32(b: number): number {
  return b === 0xff ? NaN : Math.fround(2 ** (b - 127));
}

// ---------------------------------------------------------------------------------------------------------
// Whole-array conversions.

/** Raw bytes (Uint8Array) given for a dtype whose natural array is wider → that natural array. */
function asNatural(dtype: SafetensorsDtype, data: TensorData | Uint8Array): TensorData {
  return data instanceof Uint8Array && ARRAY_CTOR[dtype] !== Uint8Array ? bytesToArray(dtype, data) : data;
}

/**
 * Any floating dtype → Float32Array. BF16, F16 and F8 are converted exactly; F64 is rounded to nearest f32
 * (ties to even); F32 is copied. Integer, complex and packed sub-byte dtypes are refused.
 */
export function toFloat32(dtype: SafetensorsDtype, data: TensorData | Uint8Array, label = 'tensor'): Float32Array {
  const src = asNatural(dtype, data);
  switch (dtype) {
    case 'F32':
      return Float32Array.from(src as Float32Array);
    case 'F64':
      return Float32Array.from(src as Float64Array);
    case 'BF16': {
      const bits = src as Uint16Array;
      const out = new Uint32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
      return new Float32Array(out.buffer);
    }
    case 'F16': {
      const bits = src as Uint16Array;
      const out = new Uint32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = f16BitsToF32Bits(bits[i]);
      return new Float32Array(out.buffer);
    }
    case 'F8_E4M3':
    case 'F8_E5M2':
    case 'F8_E8M0': {
      const f = dtype === 'F8_E4M3' ? f8e4m3BitsToF32 : dtype === 'F8_E5M2' ? f8e5m2BitsToF32 : f8e8m0BitsToF32;
      const table = new Float32Array(256);
      for (let b = 0; b < 256; b++) table[b] = f(b);
      const bytes = src as Uint8Array;
      const out = new Float32Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]];
      return out;
    }
    default:
      throw new Error(
        `${label}: cannot convert dtype ${dtype} to float32 (only F64, F32, F16, BF16 and F8 are floating types with a float32 reading)`,
      );
  }
}

/** Float32Array → the raw array of a floating dtype (F32 copy, F64 widen, BF16/F16 round-to-nearest-even). */
export function fromFloat32(data: Float32Array, dtype: 'F32'): Float32Array;
export function fromFloat32(data: Float32Array, dtype: 'F64'): Float64Array;
export function fromFloat32(data: Float32Array, dtype: 'BF16' | 'F16'): Uint16Array;
export function fromFloat32(
  data: Float32Array,
  dtype: 'F32' | 'F64' | 'BF16' | 'F16',
): Float32Array | Float64Array | Uint16Array;
export function fromFloat32(
  data: Float32Array,
  dtype: 'F32' | 'F64' | 'BF16' | 'F16',
): Float32Array | Float64Array | Uint16Array {
  switch (dtype) {
    case 'F32':
      return Float32Array.from(data);
    case 'F64':
      return Float64Array.from(data);
    case 'BF16':
    case 'F16': {
      const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
      const out = new Uint16Array(data.length);
      const f = dtype === 'BF16' ? f32BitsToBf16Bits : f32BitsToF16Bits;
      for (let i = 0; i < bits.length; i++) out[i] = f(bits[i]);
      return out;
    }
    default:
      throw new Error(`fromFloat32: unsupported target dtype ${String(dtype)}`);
  }
}

/**
 * An integer tensor (I64, U64, I32, U32, I16, U16, I8, U8, BOOL) → Int32Array, e.g. token ids. Every value must
 * fit in int32; the first that does not is named with its index.
 */
export function toInt32(dtype: SafetensorsDtype, data: TensorData | Uint8Array, label = 'tensor'): Int32Array {
  if (!INT_DTYPES.has(dtype)) {
    throw new Error(`${label}: cannot read dtype ${dtype} as int32 (it is not an integer dtype)`);
  }
  const src = asNatural(dtype, data);
  const out = new Int32Array(src.length);
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    const lo = -(2n ** 31n);
    const hi = 2n ** 31n - 1n;
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      if (v < lo || v > hi) throw new Error(`${label}: value ${v} at index ${i} does not fit in int32`);
      out[i] = Number(v);
    }
    return out;
  }
  const nums = src as Exclude<TensorData, BigInt64Array | BigUint64Array>;
  for (let i = 0; i < nums.length; i++) {
    const v = nums[i];
    if (v > 2147483647) throw new Error(`${label}: value ${v} at index ${i} does not fit in int32`);
    out[i] = v;
  }
  return out;
}
