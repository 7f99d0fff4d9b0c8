// ggml's q8_0 block layout: each run of 32 values of a row is one 34-byte block, an f16 scale d followed by 32
// int8 quants q, the values being d·q (block_q8_0 in ggml/src/ggml-common.h,
// https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-common.h). A safetensors checkpoint holds the same
// numbers as two arrays (all quants, all scales: ops/weight-linear.ts q8Parts and q8Weight); these interleave and
// split them (olmo-ts's own q8_0 rows are made from the blocks by the tensor kernel q8FromBlocks). The
// quantisation itself (d = amax/127, q = round(x/d)) is the tensor kernels' quantizeQ8, which follows ggml's
// quantize_row_q8_0_ref.
import { Q8_0_BLOCK, Q8_0_BLOCK_BYTES } from './constants.ts';

/** Interleaves quants (n values) and their f16 scale bits (n/32) into n/32 q8_0 blocks. */
export function packQ8_0(quants: Int8Array, scales: Uint16Array): Uint8Array {
  const blocks = quants.length / Q8_0_BLOCK;
  if (!Number.isInteger(blocks) || scales.length !== blocks)
    throw new RangeError(
      `packQ8_0: ${quants.length} quants need to be a multiple of ${Q8_0_BLOCK} with one scale per ${Q8_0_BLOCK}, got ${scales.length} scales`,
    );
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const q = new Uint8Array(quants.buffer, quants.byteOffset, quants.length);
  for (let b = 0; b < blocks; b++) {
    const o = b * Q8_0_BLOCK_BYTES;
    out[o] = scales[b] & 0xff; // little-endian f16
    out[o + 1] = scales[b] >>> 8;
    out.set(q.subarray(b * Q8_0_BLOCK, (b + 1) * Q8_0_BLOCK), o + 2);
  }
  return out;
}

/** Splits q8_0 blocks back into quants and f16 scale bits (copies). */
export function unpackQ8_0(blocks: Uint8Array): { quants: Int8Array; scales: Uint16Array } {
  const n = blocks.length / Q8_0_BLOCK_BYTES;
  if (!Number.isInteger(n))
    throw new RangeError(
      `unpackQ8_0: ${blocks.length} bytes are not a whole number of ${Q8_0_BLOCK_BYTES}-byte blocks`,
    );
  const quants = new Int8Array(n * Q8_0_BLOCK);
  const scales = new Uint16Array(n);
  const q = new Uint8Array(quants.buffer);
  for (let b = 0; b < n; b++) {
    const o = b * Q8_0_BLOCK_BYTES;
    scales[b] = blocks[o] | (blocks[o + 1] << 8);
    q.set(blocks.subarray(o + 2, o + Q8_0_BLOCK_BYTES), b * Q8_0_BLOCK);
  }
  return { quants, scales };
}
