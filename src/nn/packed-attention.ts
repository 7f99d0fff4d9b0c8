// Attention over a packed batch (see PackedRows): the input's one row holds several sequences' new tokens back to
// back. Each sequence's queries attend to its own cache row only, through the same attention call a forward of
// that sequence alone makes ([1, its tokens] against its row, keys up to its length), so each token's output is
// the one it gets alone: the attention kernel's per-query result depends neither on the other queries of its call
// nor on other sequences (test/models/packed-forward.test.ts).
import { attention, isGradEnabled, Tensor } from '../tensor/index.ts';
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
  const out = Tensor.empty(q.shape);
  // each sequence's tokens are consecutive rows of the [1, T, heads, headDim] tensors: views, not copies
  const rows = (t: Tensor, at: number, n: number) => {
    const per = t.shape[2] * t.shape[3];
    return Tensor.fromStorage([1, n, t.shape[2], t.shape[3]], 'f32', t.f32().subarray(at * per, (at + n) * per));
  };
  let at = 0;
  packed.slots.forEach((slot, i) => {
    const n = packed.counts[i];
    const row = cache.row(slot);
    const len = lengths.subarray(slot, slot + 1);
    const kvLens = Int32Array.of(len[0] + n);
    row.write(rows(k, at, n), rows(v, at, n), len);
    const o = attention(rows(q, at, n), row.k, row.v, { kvLens });
    out.f32().set(o.f32(), at * q.shape[2] * q.shape[3]);
    o.dispose();
    at += n;
  });
  return out;
}
