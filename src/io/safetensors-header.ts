// The safetensors header: parsing with validation, and building one the way the Rust `safetensors` crate does.
//
// File layout: 8-byte little-endian u64 N, then N bytes of UTF-8 JSON, then the data section. The JSON object
// maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the data section),
// plus an optional "__metadata__" object of string → string.
//
// Validation follows what the Rust crate (`SafeTensors::read_metadata` / `Metadata::validate`) enforces:
// N ≤ 100 MB and within the file; valid UTF-8 JSON; known dtypes; shapes of non-negative integers;
// end − begin = numel × element size; tensors, sorted by offset, tile the data section exactly — no overlap,
// no gap, nothing after the last tensor. Stricter than the crate on one point: a name repeated in the header is
// an error (serde_json would silently keep the last one).

import { byteLengthOf, DTYPES, dtypeRank, isDtype, numel, type SafetensorsDtype } from './dtypes.ts';

/** The Rust crate's limit on the JSON header (bytes). */
export const MAX_HEADER_SIZE = 100_000_000;

/** Bytes of the little-endian header-length prefix. */
export const N_LEN = 8;

/** A malformed safetensors file or index; `file` and, where one is involved, `tensor` say where. */
export class SafetensorsError extends Error {
  readonly file: string;
  readonly tensor: string | undefined;
  constructor(message: string, file: string, tensor?: string) {
    super(message);
    this.name = 'SafetensorsError';
    this.file = file;
    this.tensor = tensor;
  }
}

/** One tensor's entry in a header. Offsets are relative to the start of the data section. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly dataOffsets: readonly [number, number];
  readonly byteLength: number;
}

export interface ParsedHeader {
  /** `__metadata__`, or undefined when the header has none (kept distinct from `{}` so rewrites are exact). */
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** In data-section order. */
  readonly tensors: readonly TensorInfo[];
}

const q = (s: string): string => JSON.stringify(s);

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * The keys of the top-level object of a JSON text already known to be valid, in order, duplicates included.
 * (JSON.parse keeps only the last of repeated keys.)
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1 && c === '{';
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',') {
      expectKey = depth === 1;
    }
  }
  return keys;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses and validates a header. `headerBytes` is the JSON (N bytes after the length prefix); `dataLength` the
 * number of bytes present after it in the file (or buffer); `file` names the file in error messages.
 */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, file: string): ParsedHeader {
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch {
    throw new SafetensorsError(
      `${file}: the safetensors header is not valid UTF-8 (not a safetensors file, or corrupt)`,
      file,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const start = text.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
    throw new SafetensorsError(
      `${file}: the safetensors header is not valid JSON (${(e as Error).message}); it starts ${q(start)}`,
      file,
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsError(
      `${file}: the safetensors header must be a JSON object, but it is ${kindOf(json)}`,
      file,
    );
  }
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) {
      const what = key === '__metadata__' ? '"__metadata__"' : `tensor ${q(key)}`;
      throw new SafetensorsError(
        `${file}: ${what} appears more than once in the header`,
        file,
        key === '__metadata__' ? undefined : key,
      );
    }
    seen.add(key);
  }

  const obj = json as Record<string, unknown>;
  let metadata: Record<string, string> | undefined;
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(obj)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new SafetensorsError(
          `${file}: "__metadata__" must be an object of string → string, but it is ${kindOf(entry)}`,
          file,
        );
      }
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') {
          throw new SafetensorsError(
            `${file}: "__metadata__" values must be strings, but ${q(k)} is ${kindOf(v)} (${describe(v)})`,
            file,
          );
        }
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    tensors.push(parseEntry(name, entry, file));
  }

  // Tile the data section: in offset order each tensor starts where the previous one ended.
  const order = [...tensors].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let end = 0;
  let prev: TensorInfo | undefined;
  for (const t of order) {
    const [b, e] = t.dataOffsets;
    if (b < end) {
      throw new SafetensorsError(
        `${file}: tensors ${q(prev!.name)} (bytes [${prev!.dataOffsets[0]}, ${prev!.dataOffsets[1]})) and ${q(t.name)} ` +
          `(bytes [${b}, ${e})) overlap in the data section`,
        file,
        t.name,
      );
    }
    if (b > end) {
      const after = prev
        ? `after tensor ${q(prev.name)}, which ends at byte ${end}`
        : 'at the start of the data section';
      throw new SafetensorsError(
        `${file}: ${b - end} unused bytes ${after}, before tensor ${q(t.name)} at byte ${b}; ` +
          `safetensors requires the tensors to cover the data section contiguously`,
        file,
        t.name,
      );
    }
    if (e > dataLength) {
      throw new SafetensorsError(
        `${file} is truncated: tensor ${q(t.name)} needs bytes [${b}, ${e}) of the data section but only ${dataLength} are present`,
        file,
        t.name,
      );
    }
    end = e;
    prev = t;
  }
  if (end !== dataLength) {
    const last = prev ? `the last tensor, ${q(prev.name)}, ends at byte ${end}` : 'the header lists no tensors';
    throw new SafetensorsError(
      `${file}: the data section holds ${dataLength} bytes but ${last}; ${dataLength - end} trailing bytes are not described by the header`,
      file,
      prev?.name,
    );
  }
  return { metadata, tensors: order };
}

function parseEntry(name: string, entry: unknown, file: string): TensorInfo {
  const where = `${file}: tensor ${q(name)}`;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new SafetensorsError(
      `${where}: its header entry must be an object {dtype, shape, data_offsets}, but it is ${kindOf(entry)}`,
      file,
      name,
    );
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isDtype(dtype)) {
    throw new SafetensorsError(
      `${where}: unknown dtype ${describe(dtype)}; safetensors dtypes are ${DTYPES.join(', ')}`,
      file,
      name,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(
      `${where}: shape must be an array of non-negative integers, got ${describe(shape)}`,
      file,
      name,
    );
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw new SafetensorsError(
      `${where}: data_offsets must be [begin, end], integers with 0 <= begin <= end, got ${describe(offsets)}`,
      file,
      name,
    );
  }
  const [begin, end] = offsets as [number, number];
  const count = numel(shape as number[]);
  const need = byteLengthOf(dtype, count);
  if (need === null) {
    throw new SafetensorsError(
      `${where}: shape [${shape.join(', ')}] of ${dtype} is not a whole number of bytes (or too large to address)`,
      file,
      name,
    );
  }
  if (end - begin !== need) {
    throw new SafetensorsError(
      `${where}: data_offsets [${begin}, ${end}) hold ${end - begin} bytes, but dtype ${dtype} × shape [${shape.join(', ')}] needs ${need}`,
      file,
      name,
    );
  }
  return { name, dtype, shape: shape as number[], dataOffsets: [begin, end], byteLength: need };
}

/** Compares strings by UTF-8 bytes (= code points), the order of Rust's `String::cmp`. */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}

/**
 * The order the Rust writer lays tensors out in (and so `safetensors.torch.save_file` and transformers'
 * `save_pretrained`): by descending dtype rank — larger alignment first — then by name.
 */
export function safetensorsWriteOrder<T extends { readonly dtype: SafetensorsDtype }>(
  entries: readonly (readonly [string, T])[],
): (readonly [string, T])[] {
  return [...entries].sort(([an, a], [bn, b]) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareNames(an, bn));
}

/**
 * Builds a header — the 8-byte length prefix and the JSON, padded with spaces so that the whole header is a
 * multiple of `dataAlignment` bytes (8 by default, as the Rust writer) — for tensors laid out in the order given.
 * The JSON is byte-identical to what serde_json writes in the Rust crate: compact, `__metadata__` first, then
 * the tensors in data order, fields dtype, shape, data_offsets.
 */
export function buildHeader(
  entries: readonly {
    readonly name: string;
    readonly dtype: SafetensorsDtype;
    readonly shape: readonly number[];
    readonly byteLength: number;
  }[],
  metadata: Readonly<Record<string, string>> | undefined,
  dataAlignment = N_LEN,
): { header: Uint8Array; dataLength: number } {
  if (!Number.isSafeInteger(dataAlignment) || dataAlignment < N_LEN || (dataAlignment & (dataAlignment - 1)) !== 0)
    throw new Error(`safetensors dataAlignment must be a power of two of at least 8, got ${dataAlignment}`);
  const parts: string[] = [];
  if (metadata !== undefined) {
    parts.push(
      `"__metadata__":{${Object.entries(metadata)
        .map(([k, v]) => `${q(k)}:${q(v)}`)
        .join(',')}}`,
    );
  }
  let offset = 0;
  for (const e of entries) {
    parts.push(
      `${q(e.name)}:{"dtype":"${e.dtype}","shape":[${e.shape.join(',')}],"data_offsets":[${offset},${offset + e.byteLength}]}`,
    );
    offset += e.byteLength;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil((N_LEN + json.length) / dataAlignment) * dataAlignment - N_LEN;
  if (padded > MAX_HEADER_SIZE) {
    throw new Error(
      `safetensors header would be ${padded} bytes, over the ${MAX_HEADER_SIZE}-byte limit readers enforce`,
    );
  }
  const header = new Uint8Array(N_LEN + padded).fill(0x20);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, N_LEN);
  return { header, dataLength: offset };
}
