// Writes a GGUF v3 file (ggml's format, https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): the header
// (magic, version, tensor count, key count), the key/value metadata, the tensor infos (name, dims with the row
// length first, ggml type, offset into the data section), padding to general.alignment, then each tensor's data,
// each padded to the alignment. Little-endian throughout. Tensor data is streamed from producers one tensor at a
// time, so a file larger than memory can be written; the file appears at its path only when complete
// (temporary file, fsync, rename).
import { writeSync } from 'node:fs';
import { writeFileAtomically } from '../atomic.ts';
import {
  GGML_MAX_DIMS,
  GGML_TYPE_SIZE,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgmlType,
  GgufValueType,
  type GgmlTypeName,
} from './constants.ts';

export class GgufWriteError extends Error {
  override name = 'GgufWriteError';
}

type Scalar = number | bigint | boolean | string;

/** One metadata value: a typed scalar, or an array of one item type. */
export type GgufKv =
  | { type: Exclude<GgufValueType, typeof GgufValueType.ARRAY>; value: Scalar }
  | {
      type: typeof GgufValueType.ARRAY;
      itemType: Exclude<GgufValueType, typeof GgufValueType.ARRAY>;
      value: readonly Scalar[];
    };

/** Typed metadata values. */
export const kv = {
  u8: (v: number): GgufKv => ({ type: GgufValueType.UINT8, value: v }),
  i32: (v: number): GgufKv => ({ type: GgufValueType.INT32, value: v }),
  u32: (v: number): GgufKv => ({ type: GgufValueType.UINT32, value: v }),
  u64: (v: number | bigint): GgufKv => ({ type: GgufValueType.UINT64, value: v }),
  f32: (v: number): GgufKv => ({ type: GgufValueType.FLOAT32, value: v }),
  f64: (v: number): GgufKv => ({ type: GgufValueType.FLOAT64, value: v }),
  bool: (v: boolean): GgufKv => ({ type: GgufValueType.BOOL, value: v }),
  str: (v: string): GgufKv => ({ type: GgufValueType.STRING, value: v }),
  array: (itemType: Exclude<GgufValueType, typeof GgufValueType.ARRAY>, values: readonly Scalar[]): GgufKv => ({
    type: GgufValueType.ARRAY,
    itemType,
    value: values,
  }),
};

export interface GgufTensorToWrite {
  /** At most 63 bytes of UTF-8 (ggml's GGML_MAX_NAME is 64 with the terminating zero). */
  name: string;
  /** Our order, outermost first ([rows, cols] for a matrix); the file stores it reversed (ne[0] = row length). */
  shape: readonly number[];
  type: GgmlTypeName;
  /** Produces the tensor's bytes, in order, through `write`; in total exactly what shape and type imply. */
  data: (write: (bytes: Uint8Array) => void) => void;
}

const MAX_NAME_BYTES = 63;

/** A growable little-endian byte buffer for the header. */
class HeaderBytes {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  u8(v: number): void {
    const at = this.room(1); // first: room() may replace this.view
    this.view.setUint8(at, v);
  }
  u32(v: number): void {
    const at = this.room(4);
    this.view.setUint32(at, v, true);
  }
  u64(v: number | bigint): void {
    const at = this.room(8);
    this.view.setBigUint64(at, BigInt(v), true);
  }
  bytes(b: Uint8Array): void {
    const at = this.room(b.length); // first: room() may replace this.buf
    this.buf.set(b, at);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.bytes(b);
  }
  scalar(type: GgufValueType, v: Scalar, where: string): void {
    const bad = (expected: string) =>
      new GgufWriteError(
        `GGUF metadata ${where}: value type ${type} takes ${expected}, got ${JSON.stringify(String(v))}`,
      );
    if (type === GgufValueType.STRING) {
      if (typeof v !== 'string') throw bad('a string');
      return this.str(v);
    }
    if (type === GgufValueType.BOOL) {
      if (typeof v !== 'boolean') throw bad('a boolean');
      return this.u8(v ? 1 : 0);
    }
    if (type === GgufValueType.UINT64 || type === GgufValueType.INT64) {
      if (typeof v !== 'number' && typeof v !== 'bigint') throw bad('an integer');
      const at = this.room(8);
      if (type === GgufValueType.UINT64) this.view.setBigUint64(at, BigInt(v), true);
      else this.view.setBigInt64(at, BigInt(v), true);
      return;
    }
    if (typeof v !== 'number') throw bad('a number');
    const integer = type !== GgufValueType.FLOAT32 && type !== GgufValueType.FLOAT64;
    if (integer && !Number.isInteger(v)) throw bad('an integer');
    const setters: Partial<Record<GgufValueType, [number, (at: number) => void]>> = {
      [GgufValueType.UINT8]: [1, (at) => this.view.setUint8(at, v)],
      [GgufValueType.INT8]: [1, (at) => this.view.setInt8(at, v)],
      [GgufValueType.UINT16]: [2, (at) => this.view.setUint16(at, v, true)],
      [GgufValueType.INT16]: [2, (at) => this.view.setInt16(at, v, true)],
      [GgufValueType.UINT32]: [4, (at) => this.view.setUint32(at, v, true)],
      [GgufValueType.INT32]: [4, (at) => this.view.setInt32(at, v, true)],
      [GgufValueType.FLOAT32]: [4, (at) => this.view.setFloat32(at, v, true)],
      [GgufValueType.FLOAT64]: [8, (at) => this.view.setFloat64(at, v, true)],
    };
    const s = setters[type];
    if (!s) throw new GgufWriteError(`GGUF metadata ${where}: unknown value type ${type}`);
    s[1](this.room(s[0]));
  }
  take(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Bytes of a tensor of this shape and type, or an error naming the tensor when rows are not whole blocks. */
export function tensorByteLength(t: Pick<GgufTensorToWrite, 'name' | 'shape' | 'type'>): number {
  const { blockSize, blockBytes } = GGML_TYPE_SIZE[t.type];
  const row = t.shape.at(-1) ?? 1;
  if (row % blockSize !== 0)
    throw new GgufWriteError(
      `tensor ${t.name} [${t.shape.join(', ')}]: type ${t.type} stores rows in blocks of ${blockSize} values, ` +
        `but the row length is ${row}`,
    );
  return (t.shape.reduce((a, b) => a * b, 1) / blockSize) * blockBytes;
}

function checkTensors(tensors: readonly GgufTensorToWrite[]): void {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new GgufWriteError(`tensor ${t.name} is listed twice`);
    seen.add(t.name);
    if (Buffer.byteLength(t.name, 'utf8') > MAX_NAME_BYTES)
      throw new GgufWriteError(`tensor name ${t.name} is longer than ggml's ${MAX_NAME_BYTES} bytes`);
    if (t.shape.length < 1 || t.shape.length > GGML_MAX_DIMS)
      throw new GgufWriteError(`tensor ${t.name}: ${t.shape.length} dimensions; GGUF takes 1 to ${GGML_MAX_DIMS}`);
    if (t.shape.some((d) => !Number.isSafeInteger(d) || d < 1))
      throw new GgufWriteError(`tensor ${t.name}: dimensions must be positive integers, got [${t.shape.join(', ')}]`);
    if (!(t.type in GgmlType)) throw new GgufWriteError(`tensor ${t.name}: unknown ggml type ${String(t.type)}`);
  }
}

function alignTo(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** The header, metadata and tensor infos, padded to the alignment; and each tensor's size and offset. */
function encodeHeader(
  metadata: readonly (readonly [string, GgufKv])[],
  tensors: readonly GgufTensorToWrite[],
  alignment: number,
): { header: Uint8Array; sizes: number[] } {
  const h = new HeaderBytes();
  h.u32(GGUF_MAGIC);
  h.u32(GGUF_VERSION);
  h.u64(tensors.length);
  h.u64(metadata.length);
  for (const [key, value] of metadata) {
    h.str(key);
    h.u32(value.type);
    if (value.type === GgufValueType.ARRAY) {
      h.u32(value.itemType);
      h.u64(value.value.length);
      value.value.forEach((v, i) => h.scalar(value.itemType, v, `${key}[${i}]`));
    } else h.scalar(value.type, value.value, key);
  }
  const sizes: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    const size = tensorByteLength(t);
    h.str(t.name);
    h.u32(t.shape.length);
    for (let d = t.shape.length - 1; d >= 0; d--) h.u64(t.shape[d]);
    h.u32(GgmlType[t.type]);
    h.u64(offset);
    sizes.push(size);
    offset = alignTo(offset + size, alignment);
  }
  h.bytes(new Uint8Array(alignTo(h.length, alignment) - h.length));
  return { header: h.take(), sizes };
}

/** Buffers small writes into large ones. */
class Sink {
  private readonly buf = Buffer.allocUnsafe(1 << 22);
  private used = 0;
  written = 0;
  constructor(private readonly fd: number) {}
  write(bytes: Uint8Array): void {
    this.written += bytes.length;
    if (bytes.length >= this.buf.length) {
      this.flush();
      for (let o = 0; o < bytes.length;) o += writeSync(this.fd, bytes, o, bytes.length - o);
      return;
    }
    if (this.used + bytes.length > this.buf.length) this.flush();
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }
  flush(): void {
    for (let o = 0; o < this.used;) o += writeSync(this.fd, this.buf, o, this.used - o);
    this.used = 0;
  }
}

/**
 * Writes a GGUF v3 file at `file` atomically. `general.alignment` is added (32, ggml's default) unless the
 * metadata sets it. Returns the file's size in bytes.
 */
export function writeGguf(
  file: string,
  metadata: readonly (readonly [string, GgufKv])[],
  tensors: readonly GgufTensorToWrite[],
): number {
  const keys = new Set<string>();
  for (const [key] of metadata) {
    if (keys.has(key)) throw new GgufWriteError(`GGUF metadata key ${key} is given twice`);
    keys.add(key);
  }
  const given = metadata.find(([k]) => k === 'general.alignment')?.[1];
  if (
    given &&
    (given.type !== GgufValueType.UINT32 ||
      typeof given.value !== 'number' ||
      given.value <= 0 ||
      given.value % 8 !== 0)
  )
    throw new GgufWriteError(`general.alignment must be a uint32 multiple of 8, got ${JSON.stringify(given)}`);
  const alignment = given ? (given.value as number) : GGUF_DEFAULT_ALIGNMENT;
  const meta = given ? metadata : [...metadata, ['general.alignment', kv.u32(alignment)] as const];
  checkTensors(tensors);
  const { header, sizes } = encodeHeader(meta, tensors, alignment);
  let total = 0;
  writeFileAtomically(file, (fd) => {
    const sink = new Sink(fd);
    sink.write(header);
    tensors.forEach((t, i) => {
      const start = sink.written;
      t.data((bytes) => sink.write(bytes));
      const got = sink.written - start;
      if (got !== sizes[i])
        throw new GgufWriteError(
          `tensor ${t.name}: its producer wrote ${got} bytes, its shape and type need ${sizes[i]}`,
        );
      sink.write(new Uint8Array(alignTo(got, alignment) - got)); // ggml pads the last tensor too
    });
    sink.flush();
    total = sink.written;
  });
  return total;
}
