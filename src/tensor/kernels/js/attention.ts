// Reference causal scaled-dot-product attention with grouped KV heads: one query row at a time, in float64.
//
// Layouts: q, out [B, Tq, Hq, D]; k, v [B, Tk, Hkv, D]; lse [B, Hq, Tq]. Query i of sequence b sits at
// absolute position p = kvLens[b] − Tq + i and attends to keys 0..p. The reference keeps a row of scores
// (clear, O(Tk) memory per row); the native kernel tiles keys with an online softmax instead.
import type { AttentionKernels, AttentionShape, F32, I32 } from '../types.ts';

type Dims = Omit<AttentionShape, 'scale' | 'validLens'>;

function checkDims(op: string, dims: Dims, kvLens: I32 | null, arrays: [string, F32, number][]): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`js ${op}: ${name} must be a non-negative integer, got ${v}`);
  }
  if (dims.hkv === 0 ? dims.hq !== 0 : dims.hq % dims.hkv !== 0) {
    throw new Error(`js ${op}: hq (${dims.hq}) must be a multiple of hkv (${dims.hkv})`);
  }
  for (const [name, arr, need] of arrays) {
    if (arr.length < need) throw new Error(`js ${op}: ${name} has ${arr.length} elements, needs ${need}`);
  }
  if (kvLens) {
    if (kvLens.length < dims.batch)
      throw new Error(`js ${op}: kvLens has ${kvLens.length} elements, needs ${dims.batch}`);
    for (let b = 0; b < dims.batch; b++) {
      if (kvLens[b] < 0 || kvLens[b] > dims.tk) {
        throw new Error(`js ${op}: kvLens[${b}] = ${kvLens[b]} is outside [0, ${dims.tk}]`);
      }
    }
  }
}

/**
 * Checks the shape and the arrays every attention kernel takes (q, k, v, out, lse), then `more`, each sized like
 * q or like k; returns the dimensions.
 */
function checkAttention(
  op: string,
  shape: AttentionShape,
  kvLens: I32 | null,
  [q, k, v, out, lse]: [F32, F32, F32, F32, F32],
  more: [string, F32, 'q' | 'k'][] = [],
): Dims {
  const { batch, tq, tk, hq, hkv, d } = shape;
  const dims = { batch, tq, tk, hq, hkv, d };
  const nq = batch * tq * hq * d;
  const nk = batch * tk * hkv * d;
  checkDims(op, dims, kvLens, [
    ['q', q, nq],
    ['k', k, nk],
    ['v', v, nk],
    ['out', out, nq],
    ['lse', lse, batch * hq * tq],
    ...more.map(([name, arr, like]): [string, F32, number] => [name, arr, like === 'q' ? nq : nk]),
  ]);
  return dims;
}

/** Scaled scores of query row (b, i, h) against keys 0..n−1, in float64. */
function scores(q: F32, k: F32, dims: Dims, b: number, i: number, h: number, n: number, scale: number): Float64Array {
  const { tq, tk, hq, hkv, d } = dims;
  const kvh = Math.floor(h / (hq / hkv));
  const qOff = ((b * tq + i) * hq + h) * d;
  const s = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const kOff = ((b * tk + j) * hkv + kvh) * d;
    let dot = 0;
    for (let x = 0; x < d; x++) dot += q[qOff + x] * k[kOff + x];
    s[j] = dot * scale;
  }
  return s;
}

export const jsAttention: AttentionKernels = {
  attention(q, k, v, out, lse, kvLens, shape) {
    const dims = checkAttention('attention', shape, kvLens, [q, k, v, out, lse]);
    const { batch, tq, tk, hq, hkv, d, scale } = shape;
    const group = hq / hkv;
    for (let b = 0; b < batch; b++) {
      const len = kvLens ? kvLens[b] : tk;
      for (let i = 0; i < tq; i++) {
        const pos = len - tq + i;
        for (let h = 0; h < hq; h++) {
          const oOff = ((b * tq + i) * hq + h) * d;
          const lOff = (b * hq + h) * tq + i;
          if (pos < 0) {
            out.fill(0, oOff, oOff + d);
            lse[lOff] = -Infinity;
            continue;
          }
          const s = scores(q, k, dims, b, i, h, pos + 1, scale);
          let max = -Infinity;
          for (const x of s) max = Math.max(max, x);
          let sum = 0;
          for (let j = 0; j <= pos; j++) {
            s[j] = Math.exp(s[j] - max);
            sum += s[j];
          }
          const kvh = Math.floor(h / group);
          const acc = new Float64Array(d);
          for (let j = 0; j <= pos; j++) {
            const vOff = ((b * tk + j) * hkv + kvh) * d;
            for (let x = 0; x < d; x++) acc[x] += s[j] * v[vOff + x];
          }
          for (let x = 0; x < d; x++) out[oOff + x] = acc[x] / sum;
          lse[lOff] = max + Math.log(sum);
        }
      }
    }
  },

  packedAttention(q, k, v, out, slots, starts, kvLens, pieces, tk, hq, hkv, d, scale) {
    const op = 'js packedAttention';
    if (hkv === 0 || hq % hkv !== 0) throw new Error(`${op}: hq (${hq}) must be a positive multiple of hkv (${hkv})`);
    for (const [name, arr, need] of [
      ['slots', slots, pieces],
      ['starts', starts, pieces + 1],
      ['kvLens', kvLens, pieces],
    ] as const) {
      if (arr.length < need) throw new Error(`${op}: ${name} has ${arr.length} elements, needs ${need}`);
    }
    if (starts[0] !== 0) throw new Error(`${op}: starts[0] must be 0, got ${starts[0]}`);
    const row = tk * hkv * d;
    for (let p = 0; p < pieces; p++) {
      const n = starts[p + 1] - starts[p];
      if (n < 0)
        throw new Error(`${op}: starts must not decrease: starts[${p}] = ${starts[p]}, the next ${starts[p + 1]}`);
      if (slots[p] < 0) throw new Error(`${op}: slots[${p}] = ${slots[p]} < 0`);
      if (kvLens[p] < n || kvLens[p] > tk)
        throw new Error(`${op}: kvLens[${p}] = ${kvLens[p]} is outside [${n}, ${tk}] (its tokens, tk)`);
      const kv = [k, v].map((a) => a.subarray(slots[p] * row, (slots[p] + 1) * row));
      const span = (a: F32) => a.subarray(starts[p] * hq * d, starts[p + 1] * hq * d);
      const shape = { batch: 1, tq: n, tk, hq, hkv, d, scale };
      jsAttention.attention(
        span(q),
        kv[0],
        kv[1],
        span(out),
        new Float32Array(hq * n),
        kvLens.subarray(p, p + 1),
        shape,
      );
    }
  },

  attentionBackward(q, k, v, out, lse, gOut, gq, gk, gv, kvLens, shape) {
    const dims = checkAttention(
      'attentionBackward',
      shape,
      kvLens,
      [q, k, v, out, lse],
      [
        ['gOut', gOut, 'q'],
        ['gq', gq, 'q'],
        ['gk', gk, 'k'],
        ['gv', gv, 'k'],
      ],
    );
    const { batch, tq, tk, hq, hkv, d, scale } = shape;
    const nk = batch * tk * hkv * d;
    const group = hq / hkv;
    // gk and gv sum over the query heads sharing a KV head: accumulate in float64, write once at the end.
    const gk64 = new Float64Array(nk);
    const gv64 = new Float64Array(nk);
    for (let b = 0; b < batch; b++) {
      const len = kvLens ? kvLens[b] : tk;
      for (let i = 0; i < tq; i++) {
        const pos = len - tq + i;
        for (let h = 0; h < hq; h++) {
          const qOff = ((b * tq + i) * hq + h) * d;
          const gqRow = new Float64Array(d);
          if (pos >= 0) {
            const kvh = Math.floor(h / group);
            const rowLse = lse[(b * hq + h) * tq + i];
            // D_i = Σ_x gOut·out: the softmax Jacobian's row term, from the saved output.
            let dRow = 0;
            for (let x = 0; x < d; x++) dRow += gOut[qOff + x] * out[qOff + x];
            const s = scores(q, k, dims, b, i, h, pos + 1, scale);
            for (let j = 0; j <= pos; j++) {
              const kvOff = ((b * tk + j) * hkv + kvh) * d;
              const p = Math.exp(s[j] - rowLse);
              let dp = 0;
              for (let x = 0; x < d; x++) {
                gv64[kvOff + x] += p * gOut[qOff + x];
                dp += gOut[qOff + x] * v[kvOff + x];
              }
              const ds = p * (dp - dRow) * scale;
              for (let x = 0; x < d; x++) {
                gqRow[x] += ds * k[kvOff + x];
                gk64[kvOff + x] += ds * q[qOff + x];
              }
            }
          }
          for (let x = 0; x < d; x++) gq[qOff + x] = gqRow[x];
        }
      }
    }
    for (let x = 0; x < nk; x++) {
      gk[x] = gk64[x];
      gv[x] = gv64[x];
    }
  },
};
