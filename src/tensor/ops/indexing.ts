// Row gathers and scatters: embedding lookup, MoE token dispatch/combine, picking values along the last axis,
// and top-k.
import { record } from '../autograd.ts';
import { kernels } from '../backend.ts';
import { formatShape, ShapeError, sizeOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { recordPick } from './pick-grad.ts';
import { compactEmbedding, isCompactWeight } from './weight-linear.ts';

function checkIndices(op: string, idx: Tensor): Int32Array {
  if (idx.dtype !== 'i32')
    throw new ShapeError(`${op}: indices must be i32, got ${idx.dtype}${formatShape(idx.shape)}`);
  return idx.i32();
}

/**
 * Rows of a [rows, ...rest] tensor picked by an index tensor of any shape: out.shape = [...idx.shape, ...rest].
 * The gradient scatter-adds back (repeated indices accumulate). This is embedding lookup.
 */
export function gatherRows(src: Tensor, idx: Tensor): Tensor {
  return gatherRowsImpl('gatherRows', src, idx, null);
}

/**
 * Embedding lookup: weight [vocab, dim], ids of any shape → [...ids.shape, dim]. With paddingIdx (as HF's
 * nn.Embedding(padding_idx=pad_token_id)), that row receives no gradient.
 */
export function embedding(weight: Tensor, ids: Tensor, paddingIdx: number | null = null): Tensor {
  if (weight.rank !== 2)
    throw new ShapeError(`embedding: weight must be [vocab, dim], got ${formatShape(weight.shape)}`);
  if (isCompactWeight(weight)) return compactEmbedding(weight, ids); // bf16 / f16 / q8_0 inference weights
  return gatherRowsImpl('embedding', weight, ids, paddingIdx);
}

function gatherRowsImpl(op: string, src: Tensor, idx: Tensor, frozenRow: number | null): Tensor {
  const ids = checkIndices(op, idx);
  if (src.rank < 1)
    throw new ShapeError(`${op}: source must have at least one dimension, got ${formatShape(src.shape)}`);
  const rows = src.shape[0];
  const rest = src.shape.slice(1);
  const rowSize = sizeOf(rest);
  const out = Tensor.empty([...idx.shape, ...rest]);
  kernels().gatherRows(src.f32(op), ids, out.f32(), ids.length, rowSize, rows);
  record(
    op,
    [src],
    [out],
    ([g]) => {
      const gs = Tensor.empty(src.shape, 'f32', true);
      kernels().scatterAddRows(g!.f32(), ids, gs.f32(), ids.length, rowSize, rows);
      if (frozenRow !== null && frozenRow >= 0 && frozenRow < rows)
        gs.f32().fill(0, frozenRow * rowSize, (frozenRow + 1) * rowSize);
      return [gs];
    },
    [idx],
  );
  return out;
}

/**
 * out = zeros([outRows, ...rest]) with out[idx[i]] += src[i]: the MoE combine (and the adjoint of gatherRows).
 */
export function scatterAddRows(src: Tensor, idx: Tensor, outRows: number): Tensor {
  const ids = checkIndices('scatterAddRows', idx);
  if (src.rank < 1 || src.shape[0] !== ids.length) {
    throw new ShapeError(
      `scatterAddRows: source ${formatShape(src.shape)} needs one row per index (${ids.length} indices)`,
    );
  }
  const rest = src.shape.slice(1);
  const rowSize = sizeOf(rest);
  const out = Tensor.empty([outRows, ...rest], 'f32', true);
  kernels().scatterAddRows(src.f32('scatterAddRows'), ids, out.f32(), ids.length, rowSize, outRows);
  record(
    'scatterAddRows',
    [src],
    [out],
    ([g]) => {
      const gs = Tensor.empty(src.shape);
      kernels().gatherRows(g!.f32(), ids, gs.f32(), ids.length, rowSize, outRows);
      return [gs];
    },
    [idx],
  );
  return out;
}

/** out[..., j] = x[..., idx[..., j]] (torch.gather on the last axis); idx has x's shape except the last axis. */
export function takeAlongLastAxis(x: Tensor, idx: Tensor): Tensor {
  const ids = checkIndices('takeAlongLastAxis', idx);
  const cols = x.shape[x.rank - 1];
  const k = idx.shape[idx.rank - 1];
  if (x.rank !== idx.rank || x.shape.slice(0, -1).join() !== idx.shape.slice(0, -1).join()) {
    throw new ShapeError(
      `takeAlongLastAxis: indices ${formatShape(idx.shape)} do not match ${formatShape(x.shape)} outside the last axis`,
    );
  }
  const rows = x.size / Math.max(cols, 1);
  const xd = x.f32('takeAlongLastAxis');
  const out = Tensor.empty(idx.shape);
  const od = out.f32();
  for (let r = 0; r < (cols === 0 ? 0 : rows); r++) {
    for (let j = 0; j < k; j++) {
      const c = ids[r * k + j];
      if (c < 0 || c >= cols)
        throw new ShapeError(`takeAlongLastAxis: index ${c} at row ${r} is out of range [0, ${cols})`);
      od[r * k + j] = xd[r * cols + c];
    }
  }
  recordPick('takeAlongLastAxis', x, out, idx, { outer: rows, len: cols, k, inner: 1 });
  return out;
}

/** The k largest values along the last axis, largest first (ties: lower index first), and their indices. */
export function topk(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const cols = x.shape[x.rank - 1];
  if (x.rank < 1 || !Number.isInteger(k) || k < 1 || k > cols) {
    throw new ShapeError(`topk: k=${k} must be between 1 and the last dimension of ${formatShape(x.shape)}`);
  }
  const rows = x.size / cols;
  const shape = [...x.shape.slice(0, -1), k];
  const values = Tensor.empty(shape);
  const indices = Tensor.empty(shape, 'i32');
  kernels().topk(x.f32('topk'), values.f32(), indices.i32(), rows, cols, k);
  recordPick('topk', x, values, indices, { outer: rows, len: cols, k, inner: 1 });
  return { values, indices };
}
