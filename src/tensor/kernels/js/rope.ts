// Reference rotary position embedding (half-split / rotate_half layout), in transformers' float32 arithmetic.
//
// transformers computes, all in float32:
//   inv_freq = 1 / (theta ** (arange(0, dim, 2).float() / dim))
//   angle    = position.float() * inv_freq            (an outer product through a K=1 matmul: one rounding)
//   cos, sin = angle.cos(), angle.sin()
//   out      = x * cos + rotate_half(x) * sin          (each product and the sum rounded to float32)
// Here every float32 step is a Math.fround of the exactly computed double result. For the exponent, the
// reciprocal, the products and the sums that is exactly float32 arithmetic. For pow, cos and sin it is the
// correctly rounded float32 value (up to the double library's own sub-ulp error), whereas torch's vectorised
// float32 pow/cos/sin (SLEEF, u10) are within 1 ulp of it: the two may differ by one float32 ulp in a few
// table entries, never more. The native kernel computes the same values with the same roundings.
import type { F32, I32, RopeKernels } from '../types.ts';

const f = Math.fround;

function check(
  x: F32,
  out: F32,
  positions: I32,
  batch: number,
  seq: number,
  heads: number,
  dim: number,
  invFreq: F32,
): void {
  for (const [name, v] of [
    ['batch', batch],
    ['seq', seq],
    ['heads', heads],
    ['dim', dim],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`js rope: ${name} must be a non-negative integer, got ${v}`);
  }
  if (dim % 2 !== 0) throw new Error(`js rope: dim must be even, got ${dim}`);
  if (invFreq.length < dim / 2) throw new Error(`js rope: invFreq has ${invFreq.length} elements, needs ${dim / 2}`);
  for (let i = 0; i < dim / 2; i++) {
    if (!Number.isFinite(invFreq[i])) throw new Error(`js rope: invFreq[${i}] = ${invFreq[i]} is not finite`);
  }
  const n = batch * seq * heads * dim;
  if (x.length < n) throw new Error(`js rope: x has ${x.length} elements, needs ${n}`);
  if (out.length < n) throw new Error(`js rope: out has ${out.length} elements, needs ${n}`);
  if (positions.length < batch * seq)
    throw new Error(`js rope: positions has ${positions.length} elements, needs ${batch * seq}`);
}

export const jsRope: RopeKernels = {
  rope(x, out, positions, batch, seq, heads, dim, invFreq, inverse) {
    check(x, out, positions, batch, seq, heads, dim, invFreq);
    const half = dim / 2;
    const cos = new Float64Array(half);
    const sin = new Float64Array(half);
    for (let row = 0; row < batch * seq; row++) {
      const pos = f(positions[row]);
      for (let i = 0; i < half; i++) {
        const angle = f(pos * invFreq[i]);
        cos[i] = f(Math.cos(angle));
        // Rotating by −angle (the inverse, which is the transpose) only flips the sign of sin.
        sin[i] = inverse ? -f(Math.sin(angle)) : f(Math.sin(angle));
      }
      for (let h = 0; h < heads; h++) {
        const base = (row * heads + h) * dim;
        for (let i = 0; i < half; i++) {
          const a = x[base + i];
          const b = x[base + half + i];
          // Both inputs are read before either output is written, so out may be x.
          out[base + i] = f(f(a * cos[i]) - f(b * sin[i]));
          out[base + half + i] = f(f(b * cos[i]) + f(a * sin[i]));
        }
      }
    }
  },
};
