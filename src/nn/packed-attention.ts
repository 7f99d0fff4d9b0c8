// Attention over a packed batch (see PackedRows): the input's one row holds several sequences' new tokens back to
// back. Each sequence's queries attend to its own cache row only, through the same attention call a forward of
// that sequence alone makes ([1, its tokens] against its row, keys up to its length), so each token's output is
// the one it gets alone: the attention kernel's per-query result depends neither on the other queries of its call
// nor on other sequences (test/models/packed-forward.test.ts).
import { attention, concat, slice, type Tensor } from '../tensor/index.ts';
import type { LayerKVCache, PackedRows } from './kv-cache.ts';

/**
 * q [1, T, heads, headDim], k and v [1, T, kvHeads, headDim] of a packed batch: writes each sequence's keys and
 * values at its row's length (`lengths`, the whole cache's; the caller advances them) and returns the attention
 * output [1, T, heads, headDim].
 */
export function packedAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  cache: LayerKVCache,
  lengths: Int32Array,
  packed: PackedRows,
): Tensor {
  const outs: Tensor[] = [];
  let at = 0;
  packed.slots.forEach((slot, i) => {
    const n = packed.counts[i];
    const row = cache.row(slot);
    const len = lengths.subarray(slot, slot + 1);
    row.write(slice(k, 1, at, at + n), slice(v, 1, at, at + n), len);
    outs.push(attention(slice(q, 1, at, at + n), row.k, row.v, { kvLens: Int32Array.of(len[0] + n) }));
    at += n;
  });
  return outs.length === 1 ? outs[0] : concat(outs, 1);
}
