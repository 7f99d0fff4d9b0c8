// Integer mixing shared by the generators: the murmur3 finaliser, a string hash built on it, and the conversion
// of two 32-bit draws to a double with 53 random bits.

/**
 * murmur3's 32-bit finaliser (Austin Appleby, MurmurHash3, https://github.com/aappleby/smhasher). It is also the
 * output function of splitmix32, which is how `Generator` expands a seed.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit string hash: FNV-1a over UTF-16 code units, then the murmur3 finaliser. */
export function hash32(value: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** A uniform double in [0, 1) from two 32-bit draws: the top 27 bits of `a`, then the top 26 bits of `b`. */
export function unit53(a: number, b: number): number {
  return ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
}
