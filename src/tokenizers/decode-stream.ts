// Incremental decoding for generation: emit text only when whole characters are formed.
import type { DecodeStream } from './types.ts';

/**
 * Streams a byte-level tokenizer: each id maps to raw bytes, and a streaming UTF-8 decoder holds back an
 * incomplete trailing character until the bytes that finish it arrive. Invalid byte sequences become U+FFFD
 * as soon as they are known to be invalid, so the stream never stalls.
 */
export class ByteDecodeStream implements DecodeStream {
  private decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  /** `bytesOf` returns the bytes for an id, or null to skip it (e.g. a special token when skipping those). */
  constructor(private readonly bytesOf: (id: number) => Uint8Array | null) {}

  push(id: number): string {
    const bytes = this.bytesOf(id);
    if (bytes === null || bytes.length === 0) return '';
    return this.decoder.decode(bytes, { stream: true });
  }

  flush(): string {
    return this.decoder.decode();
  }
}

/**
 * Streams any tokenizer through its `decode` (the algorithm of HF tokenizers' `DecodeStream`): decode the
 * ids since a prefix offset, and emit the part beyond the previously decoded prefix once it no longer ends in
 * U+FFFD (an incomplete character). Keeping a short prefix makes decoders that depend on context (leading-space
 * rules) give the same text as decoding the whole sequence.
 */
export class PrefixDecodeStream implements DecodeStream {
  private ids: number[] = [];
  private prefixStart = 0;
  private readStart = 0;

  constructor(private readonly decode: (ids: number[]) => string) {}

  push(id: number): string {
    this.ids.push(id);
    const prefix = this.decode(this.ids.slice(this.prefixStart, this.readStart));
    const full = this.decode(this.ids.slice(this.prefixStart));
    if (full.length <= prefix.length || full.endsWith('\uFFFD')) return '';
    const out = full.startsWith(prefix) ? full.slice(prefix.length) : full.slice(commonPrefixLength(full, prefix));
    this.prefixStart = this.readStart;
    this.readStart = this.ids.length;
    if (this.prefixStart > 1024) {
      this.ids = this.ids.slice(this.prefixStart);
      this.readStart -= this.prefixStart;
      this.prefixStart = 0;
    }
    return out;
  }

  flush(): string {
    const prefix = this.decode(this.ids.slice(this.prefixStart, this.readStart));
    const full = this.decode(this.ids.slice(this.prefixStart));
    this.ids = [];
    this.prefixStart = this.readStart = 0;
    return full.length > prefix.length ? full.slice(commonPrefixLength(full, prefix)) : '';
  }
}

function commonPrefixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
