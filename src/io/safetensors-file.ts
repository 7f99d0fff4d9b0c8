// Single safetensors files: lazy reading (header only, tensors on demand with positioned reads), whole-buffer
// parsing, serialisation and atomic saving.

import * as fs from 'node:fs';
import { writeFileAtomically } from './atomic.ts';
import {
  arrayBytes,
  bytesToArray,
  byteLengthOf,
  checkArrayType,
  isDtype,
  numel,
  toFloat32,
  toInt32,
  type SafetensorsDtype,
  type DtypeArrayMap,
} from './dtypes.ts';
import {
  buildHeader,
  MAX_HEADER_SIZE,
  N_LEN,
  parseHeader,
  safetensorsWriteOrder,
  SafetensorsError,
  type TensorInfo,
} from './safetensors-header.ts';

/** A tensor as read: its dtype, shape and data as the dtype's natural typed array (see `DtypeArrayMap`). */
export interface SafetensorsTensor<D extends SafetensorsDtype = SafetensorsDtype> {
  dtype: D;
  shape: number[];
  data: DtypeArrayMap[D];
}

/**
 * A tensor to write. `data` is the dtype's natural typed array (Float32Array for F32, Uint16Array of bits for
 * BF16/F16, BigInt64Array for I64, ...) or, for any dtype, its raw little-endian bytes as a Uint8Array.
 */
export interface TensorToWrite {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: ArrayBufferView;
}

/** Named tensors to write: a plain object, a Map, or [name, tensor] pairs. */
export type TensorsToWrite =
  | Readonly<Record<string, TensorToWrite>>
  | ReadonlyMap<string, TensorToWrite>
  | Iterable<readonly [string, TensorToWrite]>;

/** What lazy readers (one file, or a sharded checkpoint) have in common. */
export interface TensorSource {
  /** Tensor names: for a file in data order; for a sharded checkpoint in index order. */
  names(): string[];
  has(name: string): boolean;
  /** Dtype, shape and location of one tensor (throws, naming the file, when absent). */
  info(name: string): TensorInfo;
  /** The tensor's bytes, read from disk now. */
  readBytes(name: string): Uint8Array;
  /** Where the tensor's bytes lie: its file and absolute byte range (for memory-mapping instead of reading). */
  locate(name: string): TensorLocation;
  /** The tensor with its data as the dtype's natural typed array. */
  read(name: string): SafetensorsTensor;
  /** A floating tensor as float32 (exact from BF16/F16/F8, rounded from F64). */
  readFloat32(name: string): Float32Array;
  /** An integer tensor as int32 (e.g. token ids), range-checked. */
  readInt32(name: string): Int32Array;
  close(): void;
}

export interface TensorLocation {
  readonly file: string;
  /** Absolute offset of the tensor's first byte in the file (not necessarily aligned to its element size). */
  readonly offset: number;
  readonly byteLength: number;
}

export interface SafetensorsHeaderInfo {
  readonly path: string;
  readonly fileSize: number;
  /** N, the JSON header's length (padding included). */
  readonly headerLength: number;
  /** Absolute file offset of the data section: 8 + N. */
  readonly dataStart: number;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** In data order. */
  readonly tensors: readonly TensorInfo[];
}

const CHUNK = 1 << 30; // positioned reads/writes are limited to < 2 GiB per call

function readExact(fd: number, buf: Uint8Array, position: number, file: string, what: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = fs.readSync(fd, buf, done, Math.min(buf.length - done, CHUNK), position + done);
    if (n === 0) {
      throw new SafetensorsError(
        `${file} is truncated: reading ${what} hit the end of the file at byte ${position + done}`,
        file,
      );
    }
    done += n;
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const len = Math.min(bytes.length - done, CHUNK);
    done += fs.writeSync(fd, bytes, done, len, position + done);
  }
}

function readHeaderFromFd(fd: number, file: string): SafetensorsHeaderInfo {
  const fileSize = fs.fstatSync(fd).size;
  if (fileSize < N_LEN) {
    throw new SafetensorsError(
      `${file}: not a safetensors file: it is ${fileSize} bytes long, shorter than the 8-byte header length`,
      file,
    );
  }
  const prefix = new Uint8Array(N_LEN);
  readExact(fd, prefix, 0, file, 'the header length');
  const n = new DataView(prefix.buffer).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_SIZE)) {
    throw new SafetensorsError(
      `${file}: header length ${n} bytes is over the ${MAX_HEADER_SIZE}-byte limit: not a safetensors file, or corrupt`,
      file,
    );
  }
  const headerLength = Number(n);
  if (N_LEN + headerLength > fileSize) {
    throw new SafetensorsError(
      `${file}: header length ${headerLength} bytes runs past the end of the file (${fileSize} bytes): truncated, or not a safetensors file`,
      file,
    );
  }
  const headerBytes = new Uint8Array(headerLength);
  readExact(fd, headerBytes, N_LEN, file, 'the header');
  const dataStart = N_LEN + headerLength;
  const { metadata, tensors } = parseHeader(headerBytes, fileSize - dataStart, file);
  return { path: file, fileSize, headerLength, dataStart, metadata, tensors };
}

/** Reads and validates only the header of a safetensors file (first 8 + N bytes). */
export function readSafetensorsHeader(file: string): SafetensorsHeaderInfo {
  const fd = fs.openSync(file, 'r');
  try {
    return readHeaderFromFd(fd, file);
  } finally {
    fs.closeSync(fd);
  }
}

function missing(file: string, name: string, names: string[]): SafetensorsError {
  const some = names
    .slice(0, 3)
    .map((s) => JSON.stringify(s))
    .join(', ');
  const more = names.length > 3 ? `, ... (${names.length} in all)` : '';
  return new SafetensorsError(
    `${file}: no tensor ${JSON.stringify(name)}; it holds ${some || 'no tensors'}${more}`,
    file,
    name,
  );
}

/**
 * A safetensors file opened lazily: the header is read and validated on open; each tensor is read from disk
 * when asked for, so a checkpoint larger than memory can be inspected. Holds a file descriptor until `close()`.
 */
export class SafetensorsFile implements TensorSource {
  readonly path: string;
  readonly header: SafetensorsHeaderInfo;
  private fd: number | null;
  private readonly byName: Map<string, TensorInfo>;

  private constructor(file: string, fd: number, header: SafetensorsHeaderInfo) {
    this.path = file;
    this.fd = fd;
    this.header = header;
    this.byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  static open(file: string): SafetensorsFile {
    const fd = fs.openSync(file, 'r');
    try {
      return new SafetensorsFile(file, fd, readHeaderFromFd(fd, file));
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  get metadata(): Readonly<Record<string, string>> | undefined {
    return this.header.metadata;
  }

  names(): string[] {
    return this.header.tensors.map((t) => t.name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (!t) throw missing(this.path, name, this.names());
    return t;
  }

  readBytes(name: string): Uint8Array {
    const t = this.info(name);
    if (this.fd === null)
      throw new SafetensorsError(
        `${this.path}: cannot read tensor ${JSON.stringify(name)}: the file was closed`,
        this.path,
        name,
      );
    const buf = new Uint8Array(t.byteLength);
    readExact(this.fd, buf, this.header.dataStart + t.dataOffsets[0], this.path, `tensor ${JSON.stringify(name)}`);
    return buf;
  }

  locate(name: string): TensorLocation {
    const t = this.info(name);
    return { file: this.path, offset: this.header.dataStart + t.dataOffsets[0], byteLength: t.byteLength };
  }

  read(name: string): SafetensorsTensor {
    const t = this.info(name);
    return { dtype: t.dtype, shape: [...t.shape], data: bytesToArray(t.dtype, this.readBytes(name)) };
  }

  readFloat32(name: string): Float32Array {
    const t = this.read(name);
    return toFloat32(t.dtype, t.data, `${this.path}: tensor ${JSON.stringify(name)}`);
  }

  readInt32(name: string): Int32Array {
    const t = this.read(name);
    return toInt32(t.dtype, t.data, `${this.path}: tensor ${JSON.stringify(name)}`);
  }

  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}

export function openSafetensors(file: string): SafetensorsFile {
  return SafetensorsFile.open(file);
}

export interface LoadedSafetensors {
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** In data order. */
  readonly tensors: Map<string, SafetensorsTensor>;
}

/** Reads a whole safetensors file: every tensor, in data order. */
export function loadSafetensors(file: string): LoadedSafetensors {
  const f = SafetensorsFile.open(file);
  try {
    const tensors = new Map<string, SafetensorsTensor>();
    for (const name of f.names()) tensors.set(name, f.read(name));
    return { metadata: f.metadata, tensors };
  } finally {
    f.close();
  }
}

/** Parses a safetensors file held in memory. Tensor data are views of `bytes` where aligned, else copies. */
export function parseSafetensors(bytes: Uint8Array, label = '<safetensors buffer>'): LoadedSafetensors {
  if (bytes.length < N_LEN) {
    throw new SafetensorsError(
      `${label}: not a safetensors file: it is ${bytes.length} bytes long, shorter than the 8-byte header length`,
      label,
    );
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, N_LEN).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_SIZE)) {
    throw new SafetensorsError(
      `${label}: header length ${n} bytes is over the ${MAX_HEADER_SIZE}-byte limit: not a safetensors file, or corrupt`,
      label,
    );
  }
  const dataStart = N_LEN + Number(n);
  if (dataStart > bytes.length) {
    throw new SafetensorsError(
      `${label}: header length ${n} bytes runs past the end of the file (${bytes.length} bytes): truncated, or not a safetensors file`,
      label,
    );
  }
  const { metadata, tensors } = parseHeader(bytes.subarray(N_LEN, dataStart), bytes.length - dataStart, label);
  const out = new Map<string, SafetensorsTensor>();
  for (const t of tensors) {
    const raw = bytes.subarray(dataStart + t.dataOffsets[0], dataStart + t.dataOffsets[1]);
    out.set(t.name, { dtype: t.dtype, shape: [...t.shape], data: bytesToArray(t.dtype, raw) });
  }
  return { metadata, tensors: out };
}

// ---------------------------------------------------------------------------------------------------------
// Writing.

export interface SaveOptions {
  /**
   * Layout of tensors in the file. 'safetensors' (default): descending dtype alignment, then name — what the Rust
   * writer, `safetensors.torch.save_file` and transformers' `save_pretrained` produce, so a file read and
   * re-saved comes out byte-identical. 'given': the order of the input.
   */
  readonly order?: 'safetensors' | 'given';
  /**
   * The header is padded with spaces so that the data (the first tensor) starts at a multiple of this many bytes
   * of the file: 8 (default), as the Rust writer pads; a larger power of two, such as 64 for checkpoints that will
   * be memory-mapped, puts tensors whose sizes are multiples of 64 bytes on cache-line boundaries of the mapping
   * (which starts on a page), where the kernels' vector loads each touch one line.
   */
  readonly dataAlignment?: number;
}

interface PreparedEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly byteLength: number;
  readonly bytes: Uint8Array;
}

export function tensorEntries(tensors: TensorsToWrite): [string, TensorToWrite][] {
  if (tensors instanceof Map) return [...(tensors as ReadonlyMap<string, TensorToWrite>).entries()];
  if (Symbol.iterator in (tensors as object))
    return [...(tensors as Iterable<readonly [string, TensorToWrite]>)].map(([k, v]) => [k, v]);
  return Object.entries(tensors as Record<string, TensorToWrite>);
}

/**
 * Checks tensors before writing: names unique and not "__metadata__", known dtypes, shapes of non-negative
 * integers, data of the dtype's array type (or raw bytes) and of exactly numel × element size bytes, metadata
 * values strings. Throws naming `label` (the destination) and the tensor. Returns the entries in input order.
 */
export function checkTensorsToWrite(
  tensors: TensorsToWrite,
  metadata: Readonly<Record<string, string>> | undefined,
  label: string,
): [string, TensorToWrite][] {
  const given = tensorEntries(tensors);
  const seen = new Set<string>();
  for (const [name, t] of given) {
    const where = `${label}: tensor ${JSON.stringify(name)}`;
    if (name === '__metadata__') throw new Error(`${label}: "__metadata__" is reserved and cannot name a tensor`);
    if (seen.has(name)) throw new Error(`${where} is given twice`);
    seen.add(name);
    if (t === null || typeof t !== 'object')
      throw new Error(`${where}: expected {dtype, shape, data}, got ${String(t)}`);
    if (!isDtype(t.dtype)) throw new Error(`${where}: unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
    }
    const typeError = checkArrayType(t.dtype, t.data);
    if (typeError) throw new Error(`${where}: ${typeError}`);
    const need = byteLengthOf(t.dtype, numel(t.shape));
    if (need === null)
      throw new Error(`${where}: shape [${t.shape.join(', ')}] of ${t.dtype} is not a whole number of bytes`);
    if (t.data.byteLength !== need) {
      throw new Error(
        `${where}: data has ${t.data.byteLength} bytes, but dtype ${t.dtype} × shape [${t.shape.join(', ')}] needs ${need}`,
      );
    }
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string')
        throw new Error(`${label}: metadata values must be strings, but ${JSON.stringify(k)} is ${typeof v}`);
    }
  }
  return given;
}

/** Checks each tensor and computes the layout. `label` names the destination in error messages. */
function prepare(
  tensors: TensorsToWrite,
  metadata: Readonly<Record<string, string>> | undefined,
  options: SaveOptions,
  label: string,
): { header: Uint8Array; entries: PreparedEntry[]; dataLength: number } {
  const given = checkTensorsToWrite(tensors, metadata, label);
  const ordered = options.order === 'given' ? given : safetensorsWriteOrder(given);
  const entries = ordered.map(([name, t]) => ({
    name,
    dtype: t.dtype,
    shape: t.shape,
    byteLength: t.data.byteLength,
    bytes: arrayBytes(t.data),
  }));
  const { header, dataLength } = buildHeader(entries, metadata, options.dataAlignment);
  return { header, entries, dataLength };
}

/** Serialises tensors to a safetensors file image in memory. */
export function serializeSafetensors(
  tensors: TensorsToWrite,
  metadata?: Readonly<Record<string, string>>,
  options: SaveOptions = {},
): Uint8Array {
  const { header, entries, dataLength } = prepare(tensors, metadata, options, '<safetensors buffer>');
  const out = new Uint8Array(header.length + dataLength);
  out.set(header, 0);
  let pos = header.length;
  for (const e of entries) {
    out.set(e.bytes, pos);
    pos += e.byteLength;
  }
  return out;
}

/**
 * Saves tensors as a safetensors file at `file`, written to a temporary file and renamed into place. The header
 * is padded with spaces so that the data starts at a multiple of 8 bytes (or of `SaveOptions.dataAlignment`) and,
 * by default, tensors are laid out as the Rust writer does (see `SaveOptions.order`). `metadata` becomes
 * `__metadata__` (transformers writes `{format: "pt"}`); omitted, the header has no `__metadata__` key.
 */
export function saveSafetensors(
  file: string,
  tensors: TensorsToWrite,
  metadata?: Readonly<Record<string, string>>,
  options: SaveOptions = {},
): void {
  const { header, entries } = prepare(tensors, metadata, options, file);
  writeFileAtomically(file, (fd) => {
    writeAll(fd, header, 0);
    let pos = header.length;
    for (const e of entries) {
      writeAll(fd, e.bytes, pos);
      pos += e.byteLength;
    }
  });
}

export { writeFileAtomically };
