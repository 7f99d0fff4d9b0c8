// Attention over a packed batch (see PackedRows): the input's one row holds several sequences' new tokens back to
// back. Each sequence's keys and values go into its own cache row, then one packedAttention call attends every
// sequence's queries to its own row only: each token's output is bit-identical to the one a forward of its
// sequence alone gets ([1, its tokens] against its row, keys up to its length), since the kernel computes each
// sequence's heads exactly as the single-sequence attention does (test/models/packed-forward.test.ts); one call
// instead of one per sequence spreads all their heads over the threads.
import { isGradEnabled, packedAttention as attendPacked, Tensor } from '../tensor/index.ts';
import type { LayerKVCache, PackedRows } from './kv-cache.ts';

/**
 * q [1, T, heads, headDim], k and v [1, T, kvHeads, headDim] of a packed batch: writes each sequence's keys and
 * values at its row's length (`lengths`, the whole cache's; the caller advances them) and returns the attention
 * output [1, T, heads, headDim]. Inference only (no gradient flows through the per-sequence views).
 */
export function packedAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  cache: LayerKVCache,
  lengths: Int32Array,
  packed: PackedRows,
): Tensor {
  if (isGradEnabled()) throw new Error('packed attention: inference only (call it under noGrad)');
  // each sequence's tokens are consecutive rows of the [1, T, heads, headDim] tensors: views, not copies
  const rows = (t: Tensor, at: number, n: number) => {
    const per = t.shape[2] * t.shape[3];
    return Tensor.fromStorage([1, n, t.shape[2], t.shape[3]], 'f32', t.f32().subarray(at * per, (at + n) * per));
  };
  const pieces = packed.slots.length;
  const starts = new Int32Array(pieces + 1);
  const kvLens = new Int32Array(pieces);
  packed.slots.forEach((slot, i) => {
    const n = packed.counts[i];
    starts[i + 1] = starts[i] + n;
    cache.row(slot).write(rows(k, starts[i], n), rows(v, starts[i], n), lengths.subarray(slot, slot + 1));
    kvLens[i] = lengths[slot] + n;
  });
  return attendPacked(q, cache.k, cache.v, { slots: Int32Array.from(packed.slots), starts, kvLens });
}
