// RoPE frequencies as transformers computes them: inv_freq = 1 / (theta ** (arange(0, dim, 2).float() / dim)),
// every step in float32. A model loaded in bf16 keeps its inv_freq buffer in bf16 (transformers casts buffers
// with the model), and running it in f32 afterwards keeps that rounding: `bf16` reproduces it.
const f = Math.fround;

/** inv_freq[i] = 1 / theta^(2i/dim) for i < dim/2, each step rounded to float32 as torch does. */
export function ropeInvFreq(theta: number, dim: number, bf16 = false): Float32Array {
  if (!(theta > 0) || !Number.isFinite(theta)) throw new Error(`rope: theta must be positive and finite, got ${theta}`);
  const half = dim / 2;
  const out = new Float32Array(half);
  const base = f(theta);
  for (let i = 0; i < half; i++) {
    const exponent = f((2 * i) / dim);
    out[i] = f(1 / f(Math.pow(base, exponent)));
  }
  if (bf16) roundToBf16(out);
  return out;
}

/** Rounds float32 values to bfloat16 precision in place (round to nearest even). */
function roundToBf16(values: Float32Array): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const u = bits[i];
    bits[i] = ((u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000) >>> 0;
  }
}
