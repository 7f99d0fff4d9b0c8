// Dolma-style documents: JSONL lines {"id", "text", "source", ...}, optionally gzip-compressed. Line reading that
// streams (bounded memory) and the per-line validation shared by the tokenizer's main thread and its workers.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Tokenizer } from '../tokenizers/index.ts';
import { dolma2Tokenizer, loadTokenizer } from '../tokenizers/index.ts';

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
 * Streams the non-blank lines of a JSONL file (`.gz` decompressed on the fly) in chunks of at most `maxLines`
 * lines / about `maxChars` characters. `onBytes` reports the (compressed) bytes read so far.
 */
export async function* readLineChunks(
  file: string,
  options: { maxLines?: number; maxChars?: number; onBytes?: (bytes: number) => void } = {},
): AsyncGenerator<LineChunk> {
  const maxLines = options.maxLines ?? 512;
  const maxChars = options.maxChars ?? 1 << 20;
  const raw = fs.createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  // Errors of the raw stream (pipe does not forward them) surface through the decompressor.
  if (input !== raw) raw.on('error', (e) => input.destroy(e));
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let chunk: LineChunk = { file, lineNos: [], lines: [] };
  let chars = 0;
  let lineNo = 0;
  try {
    for await (const line of rl) {
      lineNo++;
      if (line.trim().length === 0) continue;
      chunk.lines.push(line);
      chunk.lineNos.push(lineNo);
      chars += line.length;
      if (chunk.lines.length >= maxLines || chars >= maxChars) {
        options.onBytes?.(raw.bytesRead);
        yield chunk;
        chunk = { file, lineNos: [], lines: [] };
        chars = 0;
      }
    }
  } catch (e) {
    throw new Error(`${file}: read failed after line ${lineNo}: ${(e as Error).message}`);
  } finally {
    rl.close();
    raw.destroy();
  }
  options.onBytes?.(raw.bytesRead);
  if (chunk.lines.length > 0) yield chunk;
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
  if (typeof obj.text !== 'string') return `"text" must be a string, got ${obj.text === null ? 'null' : typeof obj.text}`;
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
}

/** Default source name for documents without a "source": the input file's base name without extensions. */
export function fallbackSourceName(file: string): string {
  return path.basename(file).replace(/\.gz$/, '').replace(/\.(jsonl|json|ndjson)$/, '');
}

export function tokenizeChunk(
  chunk: LineChunk,
  tokenizer: Tokenizer,
  eosId: number,
  allowSpecial: boolean,
): TokenizedChunk {
  const fallback = fallbackSourceName(chunk.file);
  const pieces: number[][] = [];
  const out: TokenizedChunk = { tokens: new Uint32Array(0), docLengths: [], ids: [], sources: [], lineNos: [], errors: [] };
  let total = 0;
  for (let i = 0; i < chunk.lines.length; i++) {
    const doc = parseDocumentLine(chunk.lines[i], fallback);
    if (typeof doc === 'string') {
      out.errors.push({ line: chunk.lineNos[i], message: doc });
      continue;
    }
    const ids = tokenizer.encode(doc.text, { addSpecialTokens: false, allowSpecial });
    ids.push(eosId);
    pieces.push(ids);
    total += ids.length;
    out.docLengths.push(ids.length);
    out.ids.push(doc.id === '' ? `${path.basename(chunk.file)}:${chunk.lineNos[i]}` : doc.id);
    out.sources.push(doc.source);
    out.lineNos.push(chunk.lineNos[i]);
  }
  const tokens = new Uint32Array(total);
  let pos = 0;
  for (const p of pieces) {
    tokens.set(p, pos);
    pos += p.length;
  }
  out.tokens = tokens;
  return out;
}
