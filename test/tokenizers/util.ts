// Random text generators for tokenizer tests (seeded, so failures reproduce).
import { rng } from '../helpers.ts';

const POOLS: string[][] = [
  [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'],
  [...'0123456789'],
  [...`!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`],
  [' ', ' ', ' ', '\t', '\n', '\r\n', '\r', '\u00a0', '\u3000', '\u0085', '\u2028', '\ufeff'],
  ["'s", "'T", "'re", "'ll", "'D", "'ve", "'M"],
  [...'日本語中文字漢字のテキスト한국어'],
  ['😀', '👍🏽', '👨‍👩‍👧', '🇩🇪', '🤖', '\u{1F9D1}\u200D\u{1F4BB}'],
  ['e\u0301', 'a\u0308', 'n\u0303', '\u0301', '\u0338', 'ṩ', 'Å'],
  [...'абвгдежзΑΒΓαβγمرحباनमस्ते'],
  ['ſ', 'ß', 'İ', 'ǅ', 'Ⅻ', '²', '½', '٣'],
];

/** A random string of `n` pieces drawn from varied scripts, whitespace, emoji and combining marks. */
export function randomText(seed: number, n: number): string {
  const r = rng(seed);
  let s = '';
  for (let i = 0; i < n; i++) {
    const pool = POOLS[Math.floor(r() * POOLS.length)];
    s += pool[Math.floor(r() * pool.length)];
  }
  return s;
}

/** Random code points anywhere in Unicode (surrogate range excluded), for round-trip tests. */
export function randomCodePoints(seed: number, n: number): string {
  const r = rng(seed);
  let s = '';
  for (let i = 0; i < n; i++) {
    let cp: number;
    const k = r();
    if (k < 0.4) cp = 0x20 + Math.floor(r() * 0x60);
    else if (k < 0.7) cp = Math.floor(r() * 0x10000);
    else cp = 0x10000 + Math.floor(r() * 0x100000);
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    s += String.fromCodePoint(cp);
  }
  return s;
}
