// The data layer's generator: sfc32 with named streams, and seeded Fisher–Yates permutations. Pure integer
// arithmetic, so the same seed gives the same numbers on every machine and every thread count.
import { fmix32, hash32, unit53 } from './bits.ts';

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`seed must be a non-negative safe integer, got ${seed}`);
  }
}

/**
 * A small fast generator with 128 bits of state (Chris Doty-Humphrey's sfc32, from PractRand,
 * https://pracrand.sourceforge.net/). `Rng.from(seed, stream)` derives independent streams from one seed, so
 * e.g. each synthetic source or each stage has its own sequence.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  /** Generator for `seed` (a non-negative safe integer) and an optional stream name. */
  static from(seed: number, stream = ''): Rng {
    checkSeed(seed);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 0x100000000) >>> 0;
    const s = hash32(stream);
    return new Rng(fmix32(lo ^ 0x9e3779b9), fmix32(hi ^ 0x7f4a7c15), fmix32(s ^ 0x2545f491), fmix32(lo + s + hi + 1));
  }

  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const a = this.nextU32();
    return unit53(a, this.nextU32());
  }

  /** Uniform integer in [0, n), n ≤ 2^32, without modulo bias (rejection sampling). */
  int(n: number): number {
    if (!(n >= 1 && n <= 0x100000000 && Number.isInteger(n))) throw new Error(`Rng.int: bad bound ${n}`);
    if (n === 1) return 0;
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Uniform integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.int(items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /** `k` distinct items, in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    if (k > items.length) throw new Error(`Rng.sample: k=${k} > ${items.length}`);
    const copy = items.slice();
    for (let i = 0; i < k; i++) {
      const j = i + this.int(copy.length - i);
      const t = copy[i];
      copy[i] = copy[j];
      copy[j] = t;
    }
    return copy.slice(0, k);
  }
}

/**
 * A seeded permutation of 0..n-1 as a Uint32Array (Fisher–Yates: a few tens of milliseconds for millions of
 * instances). Same (n, seed, stream) → same permutation everywhere.
 */
export function permutation(n: number, seed: number, stream = 'permutation'): Uint32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`permutation: bad length ${n}`);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  shuffleU32(out, Rng.from(seed, stream));
  return out;
}

/** In-place Fisher–Yates shuffle of a Uint32Array. */
export function shuffleU32(a: Uint32Array, rng: Rng): Uint32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
