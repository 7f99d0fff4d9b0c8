// The fused layers of a transformer: RMSNorm, LayerNorm, RoPE, causal attention, softmax and log-softmax.
// Each is one forward kernel and one backward kernel.
import { record } from '../autograd.ts';
import { kernels } from '../backend.ts';
import { formatShape, sameShape, ShapeError } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { ropeInvFreq } from './rope-freq.ts';

function lastAxis(op: string, x: Tensor): { rows: number; cols: number } {
  if (x.dtype !== 'f32') throw new ShapeError(`${op}: expected f32, got ${x.dtype}${formatShape(x.shape)}`);
  if (x.rank < 1) throw new ShapeError(`${op}: expected at least one dimension, got a scalar`);
  const cols = x.shape[x.rank - 1];
  return { rows: cols === 0 ? 0 : x.size / cols, cols };
}

function checkNormWeight(op: string, x: Tensor, weight: Tensor | null, cols: number): void {
  if (weight && (weight.rank !== 1 || weight.shape[0] !== cols)) {
    throw new ShapeError(
      `${op}: weight ${formatShape(weight.shape)} does not match the last axis of ${formatShape(x.shape)}`,
    );
  }
}

/** rmsNorm's gradients for x and (when it has one) its weight, from the output's gradient g. */
function rmsNormGrads(x: Tensor, weight: Tensor | null, rstd: Tensor, g: Tensor, rows: number, cols: number) {
  const gx = Tensor.empty(x.shape);
  const gw = weight ? Tensor.empty(weight.shape) : null;
  kernels().rmsNormBackward(
    x.f32(),
    weight ? weight.f32() : null,
    rstd.f32(),
    g.f32(),
    gx.f32(),
    gw ? gw.f32() : null,
    rows,
    cols,
  );
  return weight ? [gx, gw] : [gx];
}

/** RMSNorm over the last axis, with an optional weight of the last axis's size. */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps: number): Tensor {
  const { rows, cols } = lastAxis('rmsNorm', x);
  checkNormWeight('rmsNorm', x, weight, cols);
  const out = Tensor.empty(x.shape);
  const rstd = Tensor.empty([rows]);
  kernels().rmsNorm(x.f32(), weight ? weight.f32('rmsNorm') : null, out.f32(), rstd.f32(), rows, cols, eps);
  record('rmsNorm', weight ? [x, weight] : [x], [out], ([g]) => rmsNormGrads(x, weight, rstd, g!, rows, cols), [rstd]);
  return out;
}

/**
 * residual + rmsNorm(x, weight, eps), OLMo 2's post-norm residual, in one kernel: one pass where a norm and an add
 * would make two ops and two calls per sublayer, with the same bits. residual and x have the same shape.
 */
export function residualRmsNorm(residual: Tensor, x: Tensor, weight: Tensor | null, eps: number): Tensor {
  const { rows, cols } = lastAxis('residualRmsNorm', x);
  if (residual.dtype !== 'f32' || !sameShape(residual.shape, x.shape)) {
    throw new ShapeError(
      `residualRmsNorm: residual ${residual.dtype}${formatShape(residual.shape)} does not match x f32${formatShape(x.shape)}`,
    );
  }
  checkNormWeight('residualRmsNorm', x, weight, cols);
  const out = Tensor.empty(x.shape);
  const rstd = Tensor.empty([rows]);
  const w = weight ? weight.f32('residualRmsNorm') : null;
  kernels().residualRmsNorm(residual.f32(), x.f32(), w, out.f32(), rstd.f32(), rows, cols, eps);
  record(
    'residualRmsNorm',
    weight ? [residual, x, weight] : [residual, x],
    [out],
    ([g]) => [g!, ...rmsNormGrads(x, weight, rstd, g!, rows, cols)],
    [rstd],
  );
  return out;
}

/** Non-parametric LayerNorm over the last axis (OLMo 1). */
export function layerNorm(x: Tensor, eps: number): Tensor {
  const { rows, cols } = lastAxis('layerNorm', x);
  const out = Tensor.empty(x.shape);
  const mean = Tensor.empty([rows]);
  const rstd = Tensor.empty([rows]);
  kernels().layerNorm(x.f32(), out.f32(), mean.f32(), rstd.f32(), rows, cols, eps);
  record(
    'layerNorm',
    [x],
    [out],
    ([g]) => {
      const gx = Tensor.empty(x.shape);
      kernels().layerNormBackward(x.f32(), mean.f32(), rstd.f32(), g!.f32(), gx.f32(), rows, cols);
      return [gx];
    },
    [mean, rstd],
  );
  return out;
}

/**
 * Rotary embedding on x [batch, seq, heads, dim] (half-split layout). positions: i32 [batch, seq], or a
 * number: the position of the first token of every sequence (0 for training, the cache length when decoding).
 * `frequencies` is theta, or the dim/2 inverse frequencies themselves (see rope-freq.ts).
 */
export function rope(x: Tensor, positions: Tensor | number, frequencies: number | Float32Array): Tensor {
  if (x.dtype !== 'f32' || x.rank !== 4)
    throw new ShapeError(`rope: expected f32 [batch, seq, heads, dim], got ${x.dtype}${formatShape(x.shape)}`);
  const [batch, seq, heads, dim] = x.shape;
  if (dim % 2 !== 0) throw new ShapeError(`rope: head dimension ${dim} must be even`);
  let pos: Int32Array;
  if (typeof positions === 'number') {
    pos = new Int32Array(batch * seq);
    for (let b = 0; b < batch; b++) for (let t = 0; t < seq; t++) pos[b * seq + t] = positions + t;
  } else {
    if (positions.dtype !== 'i32' || positions.size !== batch * seq) {
      throw new ShapeError(
        `rope: positions must be i32 [${batch}, ${seq}], got ${positions.dtype}${formatShape(positions.shape)}`,
      );
    }
    pos = positions.i32();
  }
  const invFreq = typeof frequencies === 'number' ? ropeInvFreq(frequencies, dim) : frequencies;
  if (invFreq.length !== dim / 2)
    throw new ShapeError(`rope: ${invFreq.length} frequencies for head dimension ${dim} (needs ${dim / 2})`);
  const out = Tensor.empty(x.shape);
  kernels().rope(x.f32(), out.f32(), pos, batch, seq, heads, dim, invFreq, false);
  record('rope', [x], [out], ([g]) => {
    const gx = Tensor.empty(x.shape);
    kernels().rope(g!.f32(), gx.f32(), pos, batch, seq, heads, dim, invFreq, true);
    return [gx];
  });
  return out;
}

/** Which cache rows a packed batch's sequences continue (see packedAttention). */
export interface PackedAttentionRows {
  /** Cache row (of k and v's first axis) of each sequence. */
  slots: Int32Array;
  /** Where each sequence's tokens start in q, then the total: pieces + 1 entries from 0. */
  starts: Int32Array;
  /** Keys of each sequence once its new tokens are in the cache (its tokens are its last positions). */
  kvLens: Int32Array;
  /** Score scale; default 1/sqrt(head dim). */
  scale?: number;
}

/**
 * Attention over a packed batch, inference only: q [1, tokens, heads, headDim] holds several sequences' new
 * tokens back to back; k and v [rows, capacity, kvHeads, headDim] are the whole KV cache, each sequence's keys and
 * values already written into its row. Each token's output is bit-identical to what `attention` gives its
 * sequence alone ([1, its tokens] against its row, kvLens its length), in one kernel call for all of them.
 */
export function packedAttention(q: Tensor, k: Tensor, v: Tensor, rows: PackedAttentionRows): Tensor {
  const bad = (why: string) =>
    new ShapeError(
      `packedAttention: q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}: ${why}`,
    );
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) throw bad('expected [batch, seq, heads, headDim] tensors');
  if (q.dtype !== 'f32' || k.dtype !== 'f32' || v.dtype !== 'f32') throw bad('expected f32 tensors');
  if (q.requiresGrad || k.requiresGrad || v.requiresGrad) throw bad('inference only (no gradient flows through it)');
  const [one, tokens, hq, d] = q.shape;
  const [cacheRows, tk, hkv, kd] = k.shape;
  if (one !== 1) throw bad('q must hold one packed row');
  if (k.shape.join() !== v.shape.join()) throw bad('k and v shapes differ');
  if (kd !== d) throw bad('head dimension differs');
  if (hkv === 0 || hq % hkv !== 0) throw bad(`query heads ${hq} are not a multiple of KV heads ${hkv}`);
  const { slots, starts, kvLens } = rows;
  const pieces = slots.length;
  if (starts.length !== pieces + 1 || kvLens.length !== pieces)
    throw bad(
      `${pieces} slots need ${pieces + 1} starts and ${pieces} kvLens, got ${starts.length} and ${kvLens.length}`,
    );
  if (starts[0] !== 0 || starts[pieces] !== tokens)
    throw bad(`starts must run from 0 to ${tokens}, got ${starts[0]}..${starts[pieces]}`);
  for (let p = 0; p < pieces; p++) {
    const n = starts[p + 1] - starts[p];
    if (n < 0) throw bad(`starts decrease at ${p}`);
    if (!(slots[p] >= 0 && slots[p] < cacheRows)) throw bad(`slots[${p}] = ${slots[p]} is not a row of the cache`);
    if (!(kvLens[p] >= n && kvLens[p] <= tk)) throw bad(`kvLens[${p}] = ${kvLens[p]} is outside [${n}, ${tk}]`);
  }
  const out = Tensor.empty(q.shape);
  const scale = rows.scale ?? 1 / Math.sqrt(d);
  kernels().packedAttention(q.f32(), k.f32(), v.f32(), out.f32(), slots, starts, kvLens, pieces, tk, hq, hkv, d, scale);
  return out;
}

export interface AttentionOptions {
  /** Valid keys per sequence (i32 [batch]); default: all of k's length. */
  kvLens?: Int32Array | null;
  /** Score scale; default 1/sqrt(head dim). */
  scale?: number;
  /**
   * Real positions per sequence (i32 [batch], each at most its kvLen): what follows is right padding, and the
   * real positions' outputs are then bit-identical to a call without it (see AttentionShape.validLens).
   */
  validLens?: Int32Array | null;
}

/**
 * Causal attention: q [B, Tq, Hq, D], k and v [B, Tk, Hkv, D] → [B, Tq, Hq, D]. Grouped KV heads when
 * Hkv < Hq. Query i of sequence b sits at position kvLen_b − Tq + i.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const bad = (why: string) =>
    new ShapeError(
      `attention: q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}: ${why}`,
    );
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) throw bad('expected [batch, seq, heads, headDim] tensors');
  if (q.dtype !== 'f32' || k.dtype !== 'f32' || v.dtype !== 'f32') throw bad('expected f32 tensors');
  const [batch, tq, hq, d] = q.shape;
  const [kb, tk, hkv, kd] = k.shape;
  if (k.shape.join() !== v.shape.join()) throw bad('k and v shapes differ');
  if (kb !== batch || kd !== d) throw bad('batch or head dimension differs');
  if (hkv === 0 || hq % hkv !== 0) throw bad(`query heads ${hq} are not a multiple of KV heads ${hkv}`);
  const kvLens = opts.kvLens ?? null;
  if (kvLens) {
    if (kvLens.length !== batch) throw bad(`kvLens has ${kvLens.length} entries for batch ${batch}`);
    for (let b = 0; b < batch; b++) {
      if (kvLens[b] < 0 || kvLens[b] > tk) throw bad(`kvLens[${b}] = ${kvLens[b]} is outside [0, ${tk}]`);
    }
  }
  const validLens = opts.validLens ?? null;
  if (validLens) {
    if (validLens.length !== batch) throw bad(`validLens has ${validLens.length} entries for batch ${batch}`);
    for (let b = 0; b < batch; b++) {
      const len = kvLens ? kvLens[b] : tk;
      if (!(validLens[b] >= 0 && validLens[b] <= len))
        throw bad(`validLens[${b}] = ${validLens[b]} is outside [0, ${len}]`);
    }
  }
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const out = Tensor.empty(q.shape);
  const lse = Tensor.empty([batch, hq, tq]);
  const shape = { batch, tq, tk, hq, hkv, d, scale, validLens };
  kernels().attention(q.f32(), k.f32(), v.f32(), out.f32(), lse.f32(), kvLens, shape);
  record(
    'attention',
    [q, k, v],
    [out],
    ([g]) => {
      const gq = Tensor.empty(q.shape);
      const gk = Tensor.empty(k.shape);
      const gv = Tensor.empty(v.shape);
      kernels().attentionBackward(
        q.f32(),
        k.f32(),
        v.f32(),
        out.f32(),
        lse.f32(),
        g!.f32(),
        gq.f32(),
        gk.f32(),
        gv.f32(),
        kvLens,
        shape,
      );
      return [gq, gk, gv];
    },
    [lse],
  );
  return out;
}

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  const { rows, cols } = lastAxis('softmax', x);
  const out = Tensor.empty(x.shape);
  kernels().softmax(x.f32(), out.f32(), rows, cols);
  record('softmax', [x], [out], ([g]) => {
    const gx = Tensor.empty(x.shape);
    kernels().softmaxBackward(out.f32(), g!.f32(), gx.f32(), rows, cols);
    return [gx];
  });
  return out;
}

/** Log-softmax over the last axis. */
export function logSoftmax(x: Tensor): Tensor {
  const { rows, cols } = lastAxis('logSoftmax', x);
  const out = Tensor.empty(x.shape);
  kernels().logSoftmax(x.f32(), out.f32(), rows, cols);
  record('logSoftmax', [x], [out], ([g]) => {
    const gx = Tensor.empty(x.shape);
    kernels().logSoftmaxBackward(out.f32(), g!.f32(), gx.f32(), rows, cols);
    return [gx];
  });
  return out;
}
