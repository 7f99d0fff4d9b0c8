// Readers for the data files of a Hugging Face dataset folder: Parquet (hyparquet, with the usual codecs),
// JSONL and JSON. Rows come back in file order; INT64 values that fit a double become numbers.
import { readFile } from 'node:fs/promises';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { Row } from '../types.ts';

export class DataFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataFileError';
  }
}

function normalizeValue(v: unknown): unknown {
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  if (Array.isArray(v)) return v.map(normalizeValue);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalizeValue(x);
    return out;
  }
  return v;
}

export async function readParquetRows(path: string): Promise<Row[]> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new DataFileError(`cannot read Parquet file ${path}: ${(e as Error).message}`);
  }
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  try {
    const rows = await parquetReadObjects({ file, compressors });
    return rows.map((r) => normalizeValue(r) as Row);
  } catch (e) {
    throw new DataFileError(`cannot parse Parquet file ${path}: ${(e as Error).message}`);
  }
}

export async function readJsonlRows(path: string): Promise<Row[]> {
  const text = await readFile(path, 'utf8');
  const rows: Row[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new DataFileError(`${path}:${i + 1}: malformed JSON line: ${(e as Error).message}`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new DataFileError(
        `${path}:${i + 1}: expected a JSON object per line, got ${Array.isArray(v) ? 'an array' : typeof v}`,
      );
    }
    rows.push(v as Row);
  }
  return rows;
}

/** A JSON file holding an array of rows, or an object with a `data` or `rows` array. */
export async function readJsonRows(path: string): Promise<Row[]> {
  let v: unknown;
  try {
    v = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new DataFileError(`${path}: malformed JSON: ${(e as Error).message}`);
  }
  const arr = Array.isArray(v)
    ? v
    : ((v as { data?: unknown; rows?: unknown })?.data ?? (v as { rows?: unknown })?.rows);
  if (!Array.isArray(arr))
    throw new DataFileError(`${path}: expected an array of rows (or {"data": [...]}), got ${typeof v}`);
  arr.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r))
      throw new DataFileError(`${path}: row ${i} is not an object`);
  });
  return arr as Row[];
}

export async function readRows(path: string): Promise<Row[]> {
  if (path.endsWith('.parquet')) return readParquetRows(path);
  if (path.endsWith('.jsonl')) return readJsonlRows(path);
  if (path.endsWith('.json')) return readJsonRows(path);
  throw new DataFileError(`${path}: unsupported data file type (expected .parquet, .jsonl or .json)`);
}
