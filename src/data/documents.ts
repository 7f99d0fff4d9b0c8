// Dolma-style documents: JSONL lines {"id", "text", "source", ...}, optionally gzip-compressed. Line reading that
// streams (bounded memory) and the per-line validation shared by the tokenizer's main thread and its workers.
import path from 'node:path';
import { chunkLine, readByteLineChunks, type ByteLineChunk } from '../io/byte-lines.ts';
import type { Tokenizer } from '../tokenizers/index.ts';
import { Dolma2Tokenizer, dolma2Tokenizer, loadTokenizer } from '../tokenizers/index.ts';

// The byte-level line reader lives in io (train-bpe in tokenizers reads the same way); re-exported for callers here.
export { chunkLine, firstInvalidUtf8, readByteLineChunks } from '../io/byte-lines.ts';
export type { ByteLineChunk, InvalidUtf8 } from '../io/byte-lines.ts';

/** A Dolma document as written by the synthesizer and read by `tokenize`. */
export interface DolmaDocument {
  id: string;
  text: string;
  source: string;
  /** Free-form extra fields (dolma keeps `added`, `created`, `metadata`, …). */
  metadata?: Record<string, unknown>;
}

/** A line that could not be used. `line` is 1-based. */
export interface MalformedLine {
  file: string;
  line: number;
  message: string;
}

/** What a tokenizer option may name: 'dolma2' (built in) or a Hugging Face folder holding tokenizer.json. */
export type TokenizerSpec = string;

/** Builds the tokenizer a spec names (workers call this too, so the spec must be a plain string). */
export function resolveTokenizer(spec: TokenizerSpec): Tokenizer {
  if (spec === 'dolma2') return dolma2Tokenizer();
  return loadTokenizer(spec);
}

export interface LineChunk {
  file: string;
  /** 1-based line numbers of `lines` (blank lines are dropped, so they may skip). */
  lineNos: number[];
  lines: string[];
}

/**
 * Streams the non-blank lines of a JSONL file (`.gz` decompressed on the fly) as strings, in chunks of at most
 * `maxLines` lines / about `maxChars` bytes. `onBytes` reports the (compressed) bytes read so far.
 */
export async function* readLineChunks(
  file: string,
  options: { maxLines?: number; maxChars?: number; onBytes?: (bytes: number) => void } = {},
): AsyncGenerator<LineChunk> {
  for await (const c of readByteLineChunks(file, { ...options, maxBytes: options.maxChars })) {
    yield { file, lineNos: c.lineNos, lines: c.lineNos.map((_, i) => chunkLine(c, i)) };
  }
}

/** Parses one JSONL line into a document, or returns the reason it is malformed. */
export function parseDocumentLine(line: string, fallbackSource: string): DolmaDocument | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return `invalid JSON (${(e as Error).message})`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`;
  }
  const obj = value as Record<string, unknown>;
  if (!('text' in obj)) return 'missing "text" field';
  if (typeof obj.text !== 'string')
    return `"text" must be a string, got ${obj.text === null ? 'null' : typeof obj.text}`;
  const id = obj.id;
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number') {
    return `"id" must be a string or number, got ${id === null ? 'null' : typeof id}`;
  }
  const source = obj.source;
  if (source !== undefined && source !== null && typeof source !== 'string') {
    return `"source" must be a string, got ${typeof source}`;
  }
  return { id: id === undefined ? '' : String(id), text: obj.text, source: source ?? fallbackSource };
}

/** Output of tokenizing one chunk: concatenated tokens (each document followed by EOS) and per-document rows. */
export interface TokenizedChunk {
  tokens: Uint32Array;
  /** Token count of each kept document, EOS included. */
  docLengths: number[];
  ids: string[];
  sources: string[];
  lineNos: number[];
  errors: { line: number; message: string }[];
  /** Kept documents whose line held invalid UTF-8 (tokenized with U+FFFD in its place). */
  invalidUtf8: { line: number; lineByte: number; fileByte: number }[];
}

/** Default source name for documents without a "source": the input file's base name without extensions. */
export function fallbackSourceName(file: string): string {
  return path
    .basename(file)
    .replace(/\.gz$/, '')
    .replace(/\.(jsonl|json|ndjson)$/, '');
}

/** Documents longer than this many UTF-16 units are tokenized in pieces (see `encodeDocument`). */
export const SEGMENT_CHARS = 1 << 20;

// A cut between two ASCII letters at a space ("abc| def"), or after a line break before an ASCII letter or digit
// ("abc.\n|The"). The dolma2 (cl100k) pre-tokenizer ends a piece at both places whatever follows, no special token
// holds a space or a line break, and no surrogate pair spans ASCII, so encoding the two sides separately gives the
// same ids as encoding the whole.
const SAFE_CUT = /(?<=[A-Za-z]) (?=[A-Za-z])|(?<=\n)[A-Za-z0-9]/g;

function safeCut(text: string, from: number): number {
  SAFE_CUT.lastIndex = from;
  const m = SAFE_CUT.exec(text);
  return m === null ? text.length : m.index;
}

/**
 * A document's ids followed by `eosId`. Long dolma2 documents are encoded segment by segment at cuts that cannot
 * change the result, so the tokenizer's intermediate arrays stay small; other tokenizers (whose normalizers and
 * pre-tokenizers may look across any cut) encode the whole text.
 */
export function encodeDocument(
  tokenizer: Tokenizer,
  text: string,
  eosId: number,
  allowSpecial: boolean,
  segmentChars = SEGMENT_CHARS,
): Uint32Array {
  const opts = { addSpecialTokens: false, allowSpecial };
  if (text.length <= segmentChars || !(tokenizer instanceof Dolma2Tokenizer)) {
    const ids = tokenizer.encode(text, opts);
    const out = new Uint32Array(ids.length + 1);
    out.set(ids);
    out[ids.length] = eosId;
    return out;
  }
  // The ids go straight into one array sized from the ids-per-character rate seen so far (grown if the rate
  // rises), so the document's ids exist once, not once per segment plus once joined.
  let out = new Uint32Array(0);
  let n = 0;
  for (let start = 0; start < text.length;) {
    const end = safeCut(text, start + segmentChars);
    const ids = tokenizer.encode(text.slice(start, end), opts);
    if (n + ids.length + 1 > out.length) {
      const expected = Math.ceil(((n + ids.length) / end) * text.length * 1.1) + 1;
      const grown = new Uint32Array(Math.max(expected, n + ids.length + 1, Math.floor(out.length * 1.5)));
      grown.set(out.subarray(0, n));
      out = grown;
    }
    out.set(ids, n);
    n += ids.length;
    start = end;
  }
  out[n] = eosId;
  return out.subarray(0, n + 1);
}

export function tokenizeChunk(
  chunk: ByteLineChunk,
  tokenizer: Tokenizer,
  eosId: number,
  allowSpecial: boolean,
): TokenizedChunk {
  const fallback = fallbackSourceName(chunk.file);
  const pieces: Uint32Array[] = [];
  const out: TokenizedChunk = {
    tokens: new Uint32Array(0),
    docLengths: [],
    ids: [],
    sources: [],
    lineNos: [],
    errors: [],
    invalidUtf8: [],
  };
  const invalid = new Map(chunk.invalidUtf8.map((v) => [v.index, v]));
  let total = 0;
  for (let i = 0; i < chunk.lineNos.length; i++) {
    const lineNo = chunk.lineNos[i];
    const bad = invalid.get(i);
    const doc = parseDocumentLine(chunkLine(chunk, i), fallback);
    if (typeof doc === 'string') {
      const also = bad ? ` (the line also holds invalid UTF-8 at byte ${bad.lineByte})` : '';
      out.errors.push({ line: lineNo, message: doc + also });
      continue;
    }
    if (bad) out.invalidUtf8.push({ line: lineNo, lineByte: bad.lineByte, fileByte: bad.fileByte });
    const ids = encodeDocument(tokenizer, doc.text, eosId, allowSpecial);
    pieces.push(ids);
    total += ids.length;
    out.docLengths.push(ids.length);
    out.ids.push(doc.id === '' ? `${path.basename(chunk.file)}:${lineNo}` : doc.id);
    out.sources.push(doc.source);
    out.lineNos.push(lineNo);
  }
  // A chunk of one document (the case of very long ones) hands over its array as is.
  if (pieces.length === 1) out.tokens = pieces[0];
  else {
    out.tokens = new Uint32Array(total);
    let pos = 0;
    for (const p of pieces) {
      out.tokens.set(p, pos);
      pos += p.length;
    }
  }
  return out;
}
