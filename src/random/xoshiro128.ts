// The tensor layer's generator: xoshiro128** for initialisation and sampling, with a state of four 32-bit words
// that a checkpoint saves and restores exactly.
import { fmix32, unit53 } from './bits.ts';

/**
 * A seeded generator (xoshiro128**, David Blackman and Sebastiano Vigna, https://prng.di.unimi.it/) for
 * reproducible initialisation and sampling. Its state is four 32-bit words, so it can be saved in a checkpoint
 * and restored exactly.
 */
export class Generator {
  private s: Uint32Array;

  constructor(seed: number | Uint32Array) {
    if (seed instanceof Uint32Array) {
      this.s = new Uint32Array(seed);
    } else {
      // splitmix32 expands the seed into a non-zero state: a Weyl sequence through the murmur3 finaliser.
      this.s = new Uint32Array(4);
      let x = seed >>> 0;
      for (let i = 0; i < 4; i++) {
        x = (x + 0x9e3779b9) >>> 0;
        this.s[i] = fmix32(x);
      }
      if (this.s.every((w) => w === 0)) this.s[0] = 1;
    }
  }

  get state(): Uint32Array {
    return new Uint32Array(this.s);
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32();
    return unit53(a, this.nextU32());
  }

  /** Standard normal (Box–Muller, one draw per call for a simple, reproducible stream). */
  normal(): number {
    let u = this.uniform();
    while (u <= 0) u = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
