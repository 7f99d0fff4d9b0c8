// mulberry32 (Tommy Ettinger, https://gist.github.com/tommyettinger/46a874533244883189143505d203312c): a one-word
// generator for small deterministic fixtures (blocksworld problems, test data), where a closure is handier than
// a stateful object.

/** Uniform doubles in [0, 1) with 32 random bits, from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
