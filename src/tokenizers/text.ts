// Text and byte helpers shared by the tokenizers: well-formed UTF-16, GPT-2 byte-level alphabet, regex escaping.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces every lone (unpaired) UTF-16 surrogate with U+FFFD, the character UTF-8 encoding would produce
 * for it anyway (`TextEncoder` does the same). JavaScript strings may hold lone surrogates; UTF-8 cannot, so
 * a tokenizer sees U+FFFD in their place and `decode(encode(s))` equals `toWellFormed(s)`.
 */
export function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

export function escapeRegex(s: string): string {
  return s.replace(/[\\^$*+?.()|[\]{}\-/]/g, '\\$&');
}

/**
 * GPT-2's reversible byte ↔ printable-character table (`bytes_to_unicode`), used by ByteLevel BPE vocabularies:
 * byte 0x20 is 'Ġ', 0x0A is 'Ċ', …
 */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table = new Array<string>(256);
  for (let i = 0; i < bs.length; i++) table[bs[i]] = String.fromCharCode(cs[i]);
  return table;
})();

export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_UNICODE.map((c, b) => [c, b]));

/** Bytes → byte-level token string ('Ġhello'). */
export function bytesToByteLevel(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += BYTE_TO_UNICODE[b];
  return s;
}

/** Byte-level token string → bytes, or null when a character is outside the byte-level alphabet. */
export function byteLevelToBytes(token: string): Uint8Array | null {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = UNICODE_TO_BYTE.get(token[i]);
    if (b === undefined) return null;
    out[i] = b;
  }
  return out;
}
