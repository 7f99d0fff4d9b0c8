// UTF-8 lines of a (optionally gzip-compressed) file streamed as bytes, in bounded chunks: a byte order mark at the
// start of the file is skipped and each line's first invalid UTF-8 sequence is located, so callers can refuse or
// count it instead of decoding it to U+FFFD unnoticed. Used by `olmo data tokenize` and tokenizer training.
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';

/** Where a line's first invalid UTF-8 sequence starts. */
export interface InvalidUtf8 {
  /** Index of the line in its chunk. */
  index: number;
  /** Byte offset in the line. */
  lineByte: number;
  /** Byte offset in the file (in the decompressed stream for `.gz`). */
  fileByte: number;
}

/**
 * Lines as read, still UTF-8 bytes: decoding happens where they are tokenized, so the reading thread never holds
 * a decoded copy and the bytes travel to a worker thread without a copy (the buffer is transferred).
 */
export interface ByteLineChunk {
  file: string;
  /** 1-based line numbers (blank lines are dropped, so they may skip). */
  lineNos: number[];
  /** The lines back to back, line breaks removed. The chunk owns the whole buffer (it may be transferred). */
  data: Uint8Array;
  /** End offset of each line in `data`; line i starts where line i - 1 ends. */
  ends: number[];
  /** Lines holding invalid UTF-8 (their decoded text has U+FFFD in its place). */
  invalidUtf8: InvalidUtf8[];
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** Offset of the first byte that starts an invalid UTF-8 sequence (WHATWG / Unicode well-formed table), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) [need, lo] = [2, 0xa0];
    else if (c === 0xed)
      [need, hi] = [2, 0x9f]; // no UTF-16 surrogates
    else if (c >= 0xe1 && c <= 0xef) need = 2;
    else if (c === 0xf0) [need, lo] = [3, 0x90];
    else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else if (c === 0xf4)
      [need, hi] = [3, 0x8f]; // nothing above U+10FFFF
    else return i;
    for (let k = 1; k <= need; k++) {
      const d = i + k < n ? b[i + k] : -1;
      if (d < lo || d > hi) return i;
      lo = 0x80;
      hi = 0xbf;
    }
    i += need + 1;
  }
  return -1;
}

function isBlank(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0b && c !== 0x0c) return false;
  }
  return true;
}

/** Copies `parts` into one buffer that nothing else shares. */
function ownedConcat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Accumulates lines into chunks; a single line that already owns its buffer becomes a chunk without a copy. */
class ChunkBuilder {
  private parts: Uint8Array[] = [];
  private ownedSingle = false;
  bytes = 0;
  lineNos: number[] = [];
  ends: number[] = [];
  invalid: InvalidUtf8[] = [];

  constructor(readonly file: string) {}

  add(line: Uint8Array, owned: boolean, lineNo: number, lineStart: number): void {
    const bad = isUtf8(line) ? -1 : firstInvalidUtf8(line);
    if (bad >= 0) this.invalid.push({ index: this.lineNos.length, lineByte: bad, fileByte: lineStart + bad });
    this.ownedSingle = this.parts.length === 0 && owned;
    this.parts.push(line);
    this.bytes += line.length;
    this.lineNos.push(lineNo);
    this.ends.push(this.bytes);
  }

  take(): ByteLineChunk {
    const data = this.parts.length === 1 && this.ownedSingle ? this.parts[0] : ownedConcat(this.parts, this.bytes);
    const chunk = { file: this.file, lineNos: this.lineNos, data, ends: this.ends, invalidUtf8: this.invalid };
    this.parts = [];
    this.bytes = 0;
    this.lineNos = [];
    this.ends = [];
    this.invalid = [];
    return chunk;
  }
}

/**
 * Streams the non-blank lines of a JSONL file (`.gz` decompressed on the fly) as UTF-8 bytes, in chunks of at
 * most `maxLines` lines / about `maxBytes` bytes. Lines end at LF (a CR before it is dropped); a UTF-8 byte order
 * mark at the start of the file is skipped. A line longer than the read buffer is assembled from its pieces once,
 * so memory stays near twice the longest line. `onBytes` reports the (compressed) bytes read so far.
 */
export async function* readByteLineChunks(
  file: string,
  options: { maxLines?: number; maxBytes?: number; onBytes?: (bytes: number) => void } = {},
): AsyncGenerator<ByteLineChunk> {
  const maxLines = options.maxLines ?? 512;
  const maxBytes = options.maxBytes ?? 1 << 20;
  const raw = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  // Errors of the raw stream (pipe does not forward them) surface through the decompressor.
  if (input !== raw) raw.on('error', (e) => input.destroy(e));
  const chunk = new ChunkBuilder(file);
  let pending: Uint8Array[] = []; // pieces of a line that spans read buffers
  let pendingBytes = 0;
  let lineNo = 0;
  let offset = 0; // file offset of the next line's first byte
  const ready: ByteLineChunk[] = [];
  const finishLine = (tail: Uint8Array): void => {
    let line = tail;
    let owned = false;
    if (pending.length > 0) {
      pending.push(tail);
      line = ownedConcat(pending, pendingBytes + tail.length);
      owned = true;
      pending = [];
      pendingBytes = 0;
    }
    lineNo++;
    const start = offset;
    offset += line.length + 1;
    let from = 0;
    if (lineNo === 1 && line.length >= 3 && UTF8_BOM.every((v, k) => line[k] === v)) from = 3;
    const end = line.length > from && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
    if (from > 0 || end < line.length) {
      line = line.subarray(from, end);
      owned = false;
    }
    if (isBlank(line)) return;
    // A long line gets a chunk of its own, so its bytes are not copied once more to join the lines before it.
    if (line.length >= maxBytes && chunk.lineNos.length > 0) ready.push(chunk.take());
    chunk.add(line, owned, lineNo, start + from);
    if (chunk.lineNos.length >= maxLines || chunk.bytes >= maxBytes) ready.push(chunk.take());
  };
  try {
    for await (const buf of input as AsyncIterable<Buffer>) {
      let pos = 0;
      for (let nl = buf.indexOf(10, pos); nl >= 0; nl = buf.indexOf(10, pos)) {
        finishLine(buf.subarray(pos, nl));
        pos = nl + 1;
        if (ready.length > 0) {
          options.onBytes?.(raw.bytesRead);
          yield* ready.splice(0);
        }
      }
      if (pos < buf.length) {
        pending.push(buf.subarray(pos));
        pendingBytes += buf.length - pos;
      }
    }
    if (pendingBytes > 0) finishLine(new Uint8Array(0));
    yield* ready.splice(0);
  } catch (e) {
    throw new Error(`${file}: read failed after line ${lineNo}: ${(e as Error).message}`, { cause: e });
  } finally {
    raw.destroy();
  }
  options.onBytes?.(raw.bytesRead);
  if (chunk.lineNos.length > 0) yield chunk.take();
}

/** The text of line `i` of a byte chunk (invalid UTF-8 decodes to U+FFFD). */
export function chunkLine(chunk: ByteLineChunk, i: number): string {
  const start = i === 0 ? 0 : chunk.ends[i - 1];
  const d = chunk.data;
  return Buffer.from(d.buffer, d.byteOffset + start, chunk.ends[i] - start).toString('utf8');
}
