// OLMo token files: raw headerless little-endian uint16/uint32 arrays (named *.npy although they have no
// NumPy header, exactly as OLMo reads them with np.memmap in olmo/data/memmap_dataset.py,
// https://github.com/allenai/OLMo), with two companions written by `tokenize`:
//
//   part-00000.npy     the tokens; every document is followed by EOS, no BOS, no padding
//   part-00000.csv.gz  one row per document, dolma's `tokens` metadata layout: start,end,id,src,loc
//                      (token offsets [start, end) include the document's EOS; src = input file, loc = 1-based line)
//   part-00000.json    TokenFileMetadata below; written last, so a token file without it is incomplete
//
// Readers here never load a whole file: `TokenFile.read` does positioned reads (fs.readSync at byte offsets)
// into a caller's array, which is what np.memmap gives OLMo.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const LITTLE_ENDIAN = os.endianness() === 'LE';

export type TokenDtype = 'uint16' | 'uint32';

export const TOKEN_FILE_FORMAT = 'olmo-token-file';

export function dtypeBytes(dtype: TokenDtype): 2 | 4 {
  return dtype === 'uint16' ? 2 : 4;
}

/** uint16 when every id fits in 16 bits (vocab ≤ 65536: the NeoX tokenizers), else uint32 (dolma2). */
export function dtypeForVocab(vocabSize: number): TokenDtype {
  return vocabSize <= 65536 ? 'uint16' : 'uint32';
}

/** Contents of `part-NNNNN.json`. */
export interface TokenFileMetadata {
  format: typeof TOKEN_FILE_FORMAT;
  version: 1;
  /** File name of the token array, relative to this JSON. */
  tokens_file: string;
  /** File name of the per-document boundaries (csv.gz: start,end,id,src,loc), relative to this JSON. */
  boundaries_file: string;
  dtype: TokenDtype;
  byte_order: 'little';
  tokenizer: string;
  vocab_size: number;
  eos_token_id: number;
  num_tokens: number;
  num_documents: number;
  /** Documents per `source` field value (a missing source counts under the input file's base name). */
  sources: Record<string, { documents: number; tokens: number }>;
  /** Input files that contributed documents to this part. */
  inputs: string[];
  /** Lines skipped as malformed while producing this part. */
  skipped_lines: number;
  /** sha256 of the token bytes, hex. */
  sha256: string;
}

export function metadataPathFor(tokensPath: string): string {
  return tokensPath.replace(/\.npy$/, '') + '.json';
}

/** Reads and checks the metadata JSON next to a token file; throws with the path and what is wrong. */
export function readTokenFileMetadata(tokensPath: string): TokenFileMetadata {
  const metaPath = metadataPathFor(tokensPath);
  if (!fs.existsSync(metaPath)) {
    throw new Error(
      `${tokensPath}: no ${path.basename(metaPath)} next to it, so the file is incomplete or was not written by ` +
        `olmo data tokenize (pass {dtype} explicitly to read a bare OLMo token file)`,
    );
  }
  let meta: TokenFileMetadata;
  try {
    meta = JSON.parse(fs.readFileSync(metaPath, 'utf8')) as TokenFileMetadata;
  } catch (e) {
    throw new Error(`${metaPath}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (meta.format !== TOKEN_FILE_FORMAT) throw new Error(`${metaPath}: "format" must be "${TOKEN_FILE_FORMAT}"`);
  if (meta.dtype !== 'uint16' && meta.dtype !== 'uint32') {
    throw new Error(`${metaPath}: "dtype" must be uint16 or uint32, got ${JSON.stringify(meta.dtype)}`);
  }
  return meta;
}

/** A token file opened for positioned reads. Close it when done (or let the process end). */
export class TokenFile {
  readonly path: string;
  readonly dtype: TokenDtype;
  readonly numTokens: number;
  private fd: number | null;
  private buf: Buffer = Buffer.alloc(0);

  /**
   * Opens `file`. The dtype comes from `options.dtype`, else the metadata JSON next to the file (which must then
   * exist: a token file without its metadata is treated as incomplete).
   */
  constructor(file: string, options: { dtype?: TokenDtype } = {}) {
    this.path = file;
    this.dtype = options.dtype ?? readTokenFileMetadata(file).dtype;
    const size = fs.statSync(file).size;
    const w = dtypeBytes(this.dtype);
    if (size % w !== 0) throw new Error(`${file}: size ${size} bytes is not a multiple of ${w} (${this.dtype})`);
    this.numTokens = size / w;
    this.fd = fs.openSync(file, 'r');
  }

  /** Reads tokens [start, start+count) into `out` (allocated when omitted) and returns it. */
  read(start: number, count: number, out?: Uint32Array, outOffset = 0): Uint32Array {
    if (this.fd === null) throw new Error(`${this.path}: read after close`);
    if (start < 0 || count < 0 || start + count > this.numTokens) {
      throw new Error(`${this.path}: read of tokens [${start}, ${start + count}) outside [0, ${this.numTokens})`);
    }
    const dst = out ?? new Uint32Array(count);
    if (dst.length < outOffset + count)
      throw new Error(`TokenFile.read: output holds ${dst.length - outOffset} < ${count}`);
    const w = dtypeBytes(this.dtype);
    const bytes = count * w;
    if (this.buf.length < bytes) this.buf = Buffer.alloc(Math.max(bytes, 1 << 16));
    let done = 0;
    while (done < bytes) {
      const n = fs.readSync(this.fd, this.buf, done, bytes - done, start * w + done);
      if (n === 0) throw new Error(`${this.path}: unexpected end of file at byte ${start * w + done}`);
      done += n;
    }
    const buf = this.buf;
    if (LITTLE_ENDIAN && buf.byteOffset % 4 === 0) {
      const view =
        w === 4
          ? new Uint32Array(buf.buffer, buf.byteOffset, count)
          : new Uint16Array(buf.buffer, buf.byteOffset, count);
      dst.set(view, outOffset);
    } else if (w === 4) for (let i = 0; i < count; i++) dst[outOffset + i] = buf.readUInt32LE(i * 4);
    else for (let i = 0; i < count; i++) dst[outOffset + i] = buf.readUInt16LE(i * 2);
    return dst;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Encodes ids as little-endian bytes of `dtype`, checking the range. */
export function encodeTokens(ids: ArrayLike<number>, dtype: TokenDtype): Buffer {
  if (LITTLE_ENDIAN && ids instanceof Uint32Array) {
    if (dtype === 'uint32') return Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength);
    const out = new Uint16Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i];
      if (v > 0xffff) throw new Error(`token id ${v} does not fit uint16`);
      out[i] = v;
    }
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }
  const w = dtypeBytes(dtype);
  const buf = Buffer.allocUnsafe(ids.length * w);
  const max = w === 2 ? 0xffff : 0xffffffff;
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (!(v >= 0 && v <= max)) throw new Error(`token id ${v} does not fit ${dtype}`);
    if (w === 4) buf.writeUInt32LE(v, i * 4);
    else buf.writeUInt16LE(v, i * 2);
  }
  return buf;
}

/** Lists `*.npy` token files: a file path is kept, a folder contributes its *.npy files sorted by name. */
export function expandTokenPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!fs.existsSync(p)) throw new Error(`token path ${p} does not exist`);
    if (fs.statSync(p).isDirectory()) {
      const files = fs
        .readdirSync(p)
        .filter((f) => f.endsWith('.npy') && !f.startsWith('.'))
        .sort()
        .map((f) => path.join(p, f));
      if (files.length === 0) throw new Error(`token folder ${p} holds no *.npy files`);
      out.push(...files);
    } else out.push(p);
  }
  return out;
}
