// Reading a GGUF file's header: the key/value metadata and the tensor table, without touching the tensor data
// (which the model loader maps with mmap). The format is ggml's, https://github.com/ggml-org/ggml/blob/master/docs/gguf.md:
// magic "GGUF", version, tensor and key counts, the keys (each a string name, a value type, a value), the tensor
// infos (name, dims with the row length first, GGML type, offset into the data section), then the data section
// at the next multiple of general.alignment. Versions 2 and 3 share this layout (version 1 had 32-bit counts).
//
// Parsed synchronously (model loading is synchronous), reading the header in growing chunks, so a multi-GB file
// costs only its header. @huggingface/gguf parses the same header but only through an async, fetch-based API.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import {
  GGML_MAX_DIMS,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGML_TYPE_SIZE,
  GgufValueType,
  ggmlByteLength,
  ggmlTypeName,
} from './constants.ts';

export class GgufError extends Error {
  override name = 'GgufError';
}

export type GgufScalar = number | bigint | boolean | string;
export type GgufValue = GgufScalar | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  /** Our order, outermost first ([rows, cols] for a matrix): GGUF's dims reversed. */
  shape: number[];
  /** ggml type id (constants.ts GgmlType). */
  type: number;
  /** Absolute byte offset of the data in the file. */
  offset: number;
  byteLength: number;
}

/** A metadata value's stored type: the value type, and for an array its items' type. */
export interface GgufValueTypeOf {
  type: number;
  itemType?: number;
}

export interface GgufFile {
  path: string;
  version: number;
  /** Every key in file order, values as stored (64-bit integers as bigint only when beyond 2^53). */
  metadata: Map<string, GgufValue>;
  /** Each key's stored type (so a value can be written back as it was: `general.alignment` u32, not i32). */
  metadataTypes: Map<string, GgufValueTypeOf>;
  tensors: Map<string, GgufTensorInfo>;
  /** Where the data section starts. */
  dataOffset: number;
  fileSize: number;
}

const SUPPORTED_VERSIONS = [2, 3];

/** Each fixed-size value type: its byte size and how to read it. */
const READERS: Partial<Record<number, [number, (b: Buffer, i: number) => GgufScalar]>> = {
  [GgufValueType.UINT8]: [1, (b, i) => b.readUInt8(i)],
  [GgufValueType.INT8]: [1, (b, i) => b.readInt8(i)],
  [GgufValueType.UINT16]: [2, (b, i) => b.readUInt16LE(i)],
  [GgufValueType.INT16]: [2, (b, i) => b.readInt16LE(i)],
  [GgufValueType.UINT32]: [4, (b, i) => b.readUInt32LE(i)],
  [GgufValueType.INT32]: [4, (b, i) => b.readInt32LE(i)],
  [GgufValueType.FLOAT32]: [4, (b, i) => b.readFloatLE(i)],
  [GgufValueType.BOOL]: [1, (b, i) => b.readUInt8(i) !== 0],
  [GgufValueType.UINT64]: [8, (b, i) => exact(b.readBigUInt64LE(i))],
  [GgufValueType.INT64]: [8, (b, i) => exact(b.readBigInt64LE(i))],
  [GgufValueType.FLOAT64]: [8, (b, i) => b.readDoubleLE(i)],
};

/** A forward-only cursor over the file's bytes, read in chunks that double as the header grows. */
class Cursor {
  private buf = Buffer.alloc(0);
  private start = 0; // file offset of buf[0]
  pos = 0; // file offset

  constructor(
    private readonly fd: number,
    readonly path: string,
    readonly size: number,
  ) {}

  private need(n: number, what: string): void {
    if (this.pos + n <= this.start + this.buf.length) return;
    if (this.pos + n > this.size)
      throw new GgufError(
        `${this.path}: truncated header: ${what} needs bytes ${this.pos}..${this.pos + n}, the file has ${this.size} bytes`,
      );
    const want = Math.min(this.size - this.pos, Math.max(n, 2 * this.buf.length, 1 << 16));
    const next = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const r = readSync(this.fd, next, got, want - got, this.pos + got);
      if (r === 0) break;
      got += r;
    }
    if (got < n) throw new GgufError(`${this.path}: could read only ${got} of ${n} bytes at offset ${this.pos}`);
    this.buf = next.subarray(0, got);
    this.start = this.pos;
  }

  /** The buffer holding the next n bytes and their index in it (need() may replace the buffer: take both). */
  private at(n: number, what: string): [Buffer, number] {
    this.need(n, what);
    const i = this.pos - this.start;
    this.pos += n;
    return [this.buf, i];
  }

  u32(what: string): number {
    const [b, i] = this.at(4, what);
    return b.readUInt32LE(i);
  }

  /** A u64 as a number; counts and offsets beyond 2^53 cannot be real in a file this size. */
  u64(what: string): number {
    const [b, i] = this.at(8, what);
    const v = b.readBigUInt64LE(i);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufError(`${this.path}: ${what} is ${v}, beyond any file size`);
    return Number(v);
  }

  string(what: string): string {
    const n = this.u64(`${what} (length)`);
    if (n > this.size) throw new GgufError(`${this.path}: ${what} claims ${n} bytes, more than the file holds`);
    const [b, i] = this.at(n, what);
    return b.toString('utf8', i, i + n);
  }

  scalar(type: number, what: string): GgufScalar {
    if (type === GgufValueType.STRING) return this.string(what);
    const read = READERS[type];
    if (!read) throw new GgufError(`${this.path}: ${what} has unknown value type ${type} (known: 0..12)`);
    const [b, i] = this.at(read[0], what);
    return read[1](b, i);
  }

  /** A value, and its stored type in `types` (when given). */
  value(what: string, types?: GgufValueTypeOf): GgufValue {
    const type = this.u32(`${what} (value type)`);
    if (types) types.type = type;
    if (type !== GgufValueType.ARRAY) return this.scalar(type, what);
    const itemType = this.u32(`${what} (array item type)`);
    if (types) types.itemType = itemType;
    const n = this.u64(`${what} (array length)`);
    if (n > this.size) throw new GgufError(`${this.path}: ${what} claims ${n} items, more than the file holds`);
    const out: GgufValue[] = new Array<GgufValue>(n);
    if (itemType === GgufValueType.ARRAY) {
      for (let i = 0; i < n; i++) out[i] = this.value(`${what}[${i}]`);
    } else {
      for (let i = 0; i < n; i++) out[i] = this.scalar(itemType, what);
    }
    return out;
  }
}

/** A 64-bit integer as a number when it is exactly representable, else the bigint. */
function exact(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function readTensorInfo(c: Cursor, index: number): Omit<GgufTensorInfo, 'offset' | 'byteLength'> & { rel: number } {
  const name = c.string(`tensor ${index}'s name`);
  const nDims = c.u32(`tensor ${name}'s dimension count`);
  if (nDims < 1 || nDims > GGML_MAX_DIMS)
    throw new GgufError(`${c.path}: tensor ${name} has ${nDims} dimensions; GGUF tensors have 1 to ${GGML_MAX_DIMS}`);
  const dims: number[] = [];
  for (let d = 0; d < nDims; d++) dims.push(c.u64(`tensor ${name}'s dimension ${d}`));
  const type = c.u32(`tensor ${name}'s type`);
  const rel = c.u64(`tensor ${name}'s offset`);
  return { name, shape: dims.reverse(), type, rel };
}

/** Checks where a tensor's data lies: inside the data section, aligned, in whole blocks of its type. */
function placeTensor(
  file: Pick<GgufFile, 'path' | 'fileSize'>,
  t: ReturnType<typeof readTensorInfo>,
  dataOffset: number,
  alignment: number,
): GgufTensorInfo {
  const typeName = ggmlTypeName(t.type);
  let byteLength = 0; // a type this table does not know is refused by name when the tensor is loaded
  if (typeName !== null) {
    const { blockSize } = GGML_TYPE_SIZE[typeName];
    if (t.shape[t.shape.length - 1] % blockSize !== 0)
      throw new GgufError(
        `${file.path}: tensor ${t.name} [${t.shape}] of type ${typeName}: its row length is not a multiple of the ${blockSize}-element block`,
      );
    byteLength = ggmlByteLength(
      typeName,
      t.shape.reduce((a, b) => a * b, 1),
    )!;
  }
  if (t.rel % alignment !== 0)
    throw new GgufError(
      `${file.path}: tensor ${t.name}'s offset ${t.rel} is not a multiple of the alignment ${alignment}`,
    );
  const offset = dataOffset + t.rel;
  if (offset + byteLength > file.fileSize)
    throw new GgufError(
      `${file.path}: tensor ${t.name} (${typeName ?? `type ${t.type}`} [${t.shape}]) ends at byte ${offset + byteLength}, past the end of the file (${file.fileSize} bytes): truncated`,
    );
  return { name: t.name, shape: t.shape, type: t.type, offset, byteLength };
}

/** Parses a GGUF file's header and tensor table; the tensor data stays on disk. Errors are GgufError. */
export function readGguf(path: string): GgufFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new GgufError(`${path}: cannot open: ${(e as Error).message}`, { cause: e });
  }
  try {
    const fileSize = fstatSync(fd).size;
    const c = new Cursor(fd, path, fileSize);
    if (fileSize < 4) throw new GgufError(`${path}: ${fileSize} bytes, too short to be a GGUF file`);
    const magic = c.u32('the magic');
    if (magic !== GGUF_MAGIC)
      throw new GgufError(
        `${path}: not a GGUF file: the first 4 bytes are 0x${magic.toString(16).padStart(8, '0')}, expected "GGUF"`,
      );
    const version = c.u32('the version');
    if (!SUPPORTED_VERSIONS.includes(version))
      throw new GgufError(
        `${path}: GGUF version ${version} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`,
      );
    const tensorCount = c.u64('the tensor count');
    const kvCount = c.u64('the key count');
    const metadata = new Map<string, GgufValue>();
    const metadataTypes = new Map<string, GgufValueTypeOf>();
    for (let i = 0; i < kvCount; i++) {
      const key = c.string(`key ${i}'s name`);
      const types: GgufValueTypeOf = { type: -1 };
      metadata.set(key, c.value(`key ${key}`, types));
      metadataTypes.set(key, types);
    }
    const infos = Array.from({ length: tensorCount }, (_, i) => readTensorInfo(c, i));
    const alignment = metadata.get('general.alignment') ?? GGUF_DEFAULT_ALIGNMENT;
    if (typeof alignment !== 'number' || !Number.isInteger(alignment) || alignment < 1)
      throw new GgufError(`${path}: general.alignment must be a positive integer, got ${String(alignment)}`);
    const dataOffset = Math.ceil(c.pos / alignment) * alignment;
    const tensors = new Map<string, GgufTensorInfo>();
    for (const t of infos) {
      if (tensors.has(t.name)) throw new GgufError(`${path}: tensor ${t.name} appears twice in the tensor table`);
      tensors.set(t.name, placeTensor({ path, fileSize }, t, dataOffset, alignment));
    }
    return { path, version, metadata, metadataTypes, tensors, dataOffset, fileSize };
  } finally {
    closeSync(fd);
  }
}
