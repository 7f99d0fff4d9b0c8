// The kernel contract: the flat, shape-explicit functions every backend implements.
//
// Ops (src/tensor/ops/) check shapes and dtypes, allocate outputs and record autograd; kernels only
// compute. Every kernel exists twice: in `js/` as the plain TypeScript reference (the oracle in tests)
// and in `native/` as a thin wrapper over the C++ addon. Both must agree on every input.
//
// Conventions, for every kernel:
// - Arrays are dense row-major; sizes are element counts, never bytes.
// - Output arrays are preallocated by the caller. Kernels *write* their outputs (no accumulation) unless
//   an `accumulate` flag says otherwise.
// - Index arrays are Int32Array.
// - Native wrappers validate every array's type and length against the sizes and throw a TypeError naming
//   the kernel and argument; they never read or write out of bounds.

export type F32 = Float32Array;
export type I32 = Int32Array;

/** Binary elementwise op codes (shared with C++: native/elementwise.cc). */
export const BinaryOp = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5 } as const;
export type BinaryOpName = keyof typeof BinaryOp;

/**
 * Unary elementwise op codes (shared with C++). p0, p1 are op parameters:
 * neg: -x; exp; log; sigmoid: 1/(1+e^-x); silu: x·sigmoid(x); clamp: min(max(x, p0), p1);
 * scale: x·p0; addScalar: x+p0; sqrt; rsqrt: 1/sqrt(x); square: x²; tanh; abs; relu: max(x,0);
 * powScalar: x^p0.
 */
export const UnaryOp = {
  neg: 0,
  exp: 1,
  log: 2,
  sigmoid: 3,
  silu: 4,
  clamp: 5,
  scale: 6,
  addScalar: 7,
  sqrt: 8,
  rsqrt: 9,
  square: 10,
  tanh: 11,
  abs: 12,
  relu: 13,
  powScalar: 14,
} as const;
export type UnaryOpName = keyof typeof UnaryOp;

export interface GemmKernels {
  /**
   * Batched matrix multiply: for b in [0, batch): C_b = op(A_b) · op(B_b)  (C_b += … when accumulate).
   * op(A_b) is M×K: A_b stored M×K row-major, or K×M when transA (so op(A_b) = A_bᵀ).
   * op(B_b) is K×N: B_b stored K×N, or N×K when transB (the `x @ Wᵀ` of a Linear layer).
   * C_b is M×N. A_b starts at a[b·strideA], B_b at b[b·strideB], C_b at c[b·strideC]; a stride of 0
   * shares one matrix across the batch. Any of M, N, K, batch may be 0 (K = 0 gives C = 0, or C unchanged
   * when accumulating).
   */
  gemm(
    a: F32,
    b: F32,
    c: F32,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    strideA: number,
    strideB: number,
    strideC: number,
    accumulate: boolean,
  ): void;
}

export interface ElementwiseKernels {
  /**
   * out[i] = a[ia(i)] op b[ib(i)] over `shape` (out is contiguous with that shape). The input offsets
   * are ia(i) = Σ_d idx_d·aStrides[d] (likewise b); a stride of 0 broadcasts. `shape`, `aStrides`,
   * `bStrides` have the same length (rank ≥ 0; rank 0 is one element).
   */
  binary(op: number, a: F32, aStrides: I32, b: F32, bStrides: I32, out: F32, shape: I32): void;
  /** out[i] = f(x[i]) for i < n (UnaryOp codes). out may be x (in place). */
  unary(op: number, x: F32, out: F32, n: number, p0: number, p1: number): void;
  /**
   * gx[i] = gy[i] · f'(x[i]) for i < n, for the same op codes as `unary` (y = f(x) is passed too since
   * some derivatives are cheapest from it). clamp's derivative is 1 inside [p0, p1] inclusive, else 0;
   * abs'(0) = 0; relu'(0) = 0.
   */
  unaryBackward(op: number, x: F32, y: F32, gy: F32, gx: F32, n: number, p0: number, p1: number): void;
  /** y[i] += alpha·x[i] for i < n. */
  axpy(x: F32, y: F32, n: number, alpha: number): void;
  /**
   * Strided gather: out (contiguous over `shape`)[i] = x[offset + Σ_d idx_d·strides[d]]. Serves transpose,
   * permute, slice and broadcast-expand.
   */
  copyStrided(x: F32, offset: number, strides: I32, out: F32, shape: I32): void;
  /**
   * Strided scatter, the adjoint of copyStrided: out[offset + Σ_d idx_d·strides[d]] (+)= x[i] for x contiguous
   * over `shape`. With accumulate=false it overwrites. (Strides may be 0 only when accumulating.)
   */
  scatterStrided(x: F32, out: F32, offset: number, strides: I32, shape: I32, accumulate: boolean): void;
  /**
   * SwiGLU's fused product: out[i] = silu(gate[i]) · up[i].
   */
  swiglu(gate: F32, up: F32, out: F32, n: number): void;
  /** Backward of swiglu: gGate[i] = gOut[i]·up[i]·silu'(gate[i]); gUp[i] = gOut[i]·silu(gate[i]). */
  swigluBackward(gate: F32, up: F32, gOut: F32, gGate: F32, gUp: F32, n: number): void;
}

export interface ReduceKernels {
  /** x viewed as [outer, len, inner]: out[o, i] = Σ_l x[o, l, i]. Sums in float64 for accuracy. */
  reduceSum(x: F32, out: F32, outer: number, len: number, inner: number): void;
  /**
   * x viewed as [outer, len, inner]: out[o, i] = max_l x[o, l, i], argmax[o, i] its first index (lowest l
   * on ties). len ≥ 1. NaN propagates (a NaN is the max, its index is taken).
   */
  reduceMax(x: F32, out: F32, argmax: I32, outer: number, len: number, inner: number): void;
  /** Σ x[i]² over i < n, accumulated in float64 (gradient norms). */
  sumSquares(x: F32, n: number): number;
  /** Row softmax over the last axis: x, out are [rows, cols]. Subtracts the row max; stable on ±1e4. */
  softmax(x: F32, out: F32, rows: number, cols: number): void;
  /** gx = y ⊙ (gy − Σ_j gy_j·y_j) per row, y the softmax output. */
  softmaxBackward(y: F32, gy: F32, gx: F32, rows: number, cols: number): void;
  /** Row log-softmax: out = x − max − log Σ exp(x − max). */
  logSoftmax(x: F32, out: F32, rows: number, cols: number): void;
  /** gx = gy − exp(y)·Σ_j gy_j per row, y the log-softmax output. */
  logSoftmaxBackward(y: F32, gy: F32, gx: F32, rows: number, cols: number): void;
  /**
   * Top-k along the last axis of x [rows, cols]: values/indices [rows, k], largest first; equal values keep
   * ascending index order. 1 ≤ k ≤ cols.
   */
  topk(x: F32, values: F32, indices: I32, rows: number, cols: number, k: number): void;
}

export interface NormKernels {
  /**
   * RMSNorm over the last axis of x [rows, cols]: rstd[r] = 1/sqrt(mean_j x[r,j]² + eps);
   * out[r,j] = x[r,j]·rstd[r]·w[j] (w null: no weight). Mean of squares in float32 as transformers does
   * (the reference may use float64 accumulation; the two agree to float32 rounding).
   */
  rmsNorm(x: F32, w: F32 | null, out: F32, rstd: F32, rows: number, cols: number, eps: number): void;
  /**
   * Backward of rmsNorm. gx written; gw (when w is non-null) written as Σ_r gy[r,j]·x[r,j]·rstd[r].
   * With xhat = x·rstd and g = gy·w: gx = rstd·(g − xhat·mean_j(g·xhat)).
   */
  rmsNormBackward(
    x: F32,
    w: F32 | null,
    rstd: F32,
    gy: F32,
    gx: F32,
    gw: F32 | null,
    rows: number,
    cols: number,
  ): void;
  /**
   * Non-parametric LayerNorm (OLMo 1) over the last axis: mean[r], rstd[r] = 1/sqrt(var + eps) with the
   * biased variance; out = (x − mean)·rstd.
   */
  layerNorm(x: F32, out: F32, mean: F32, rstd: F32, rows: number, cols: number, eps: number): void;
  /** Backward: with xhat = (x − mean)·rstd, gx = rstd·(gy − mean_j(gy) − xhat·mean_j(gy·xhat)). */
  layerNormBackward(x: F32, mean: F32, rstd: F32, gy: F32, gx: F32, rows: number, cols: number): void;
}

export interface RopeKernels {
  /**
   * Rotary position embedding, half-split layout (transformers' rotate_half), on x [batch, seq, heads, dim]
   * (dim even). For row (b, t) the position is positions[b·seq + t]. invFreq holds dim/2 frequencies (the
   * caller computes them: 1 / theta^(2i/dim) in float32 as transformers does, see ops/rope-freq.ts, possibly
   * rounded to bf16 as transformers leaves them in a bf16 model); angle = position·invFreq[i] (float32);
   * out[…, i] = x_i·cos − x_{i+dim/2}·sin and out[…, i+dim/2] = x_{i+dim/2}·cos + x_i·sin.
   * With inverse = true it rotates by −angle (the exact adjoint: the backward pass). out may be x.
   */
  rope(
    x: F32,
    out: F32,
    positions: I32,
    batch: number,
    seq: number,
    heads: number,
    dim: number,
    invFreq: F32,
    inverse: boolean,
  ): void;
}

export interface AttentionKernels {
  /**
   * Fused causal scaled-dot-product attention with grouped KV heads, never materialising a Tq×Tk matrix.
   * q: [B, Tq, Hq, D]; k, v: [B, Tk, Hkv, D] (Tk is the cache capacity); out: [B, Tq, Hq, D];
   * lse: [B, Hq, Tq], the log-sum-exp of the scaled scores of each query row (saved for backward).
   * Query head h reads KV head floor(h / (Hq / Hkv)); Hq is a multiple of Hkv.
   * kvLens (length B, or null meaning all Tk) gives the valid keys of each sequence: keys 0..kvLens[b]−1.
   * Query i of sequence b sits at absolute position p = kvLens[b] − Tq + i and sees keys j ≤ p (causal).
   * A query that sees no key (p < 0) outputs zeros and lse = −Infinity.
   * scale multiplies q·k (usually 1/sqrt(D)).
   */
  attention(
    q: F32,
    k: F32,
    v: F32,
    out: F32,
    lse: F32,
    kvLens: I32 | null,
    batch: number,
    tq: number,
    tk: number,
    hq: number,
    hkv: number,
    d: number,
    scale: number,
  ): void;
  /**
   * Backward of `attention` from its saved out and lse: writes gq, gk, gv (same shapes as q, k, v; gk and
   * gv are fully overwritten, including rows beyond kvLens, which get 0). Recomputes scores per tile.
   */
  attentionBackward(
    q: F32,
    k: F32,
    v: F32,
    out: F32,
    lse: F32,
    gOut: F32,
    gq: F32,
    gk: F32,
    gv: F32,
    kvLens: I32 | null,
    batch: number,
    tq: number,
    tk: number,
    hq: number,
    hkv: number,
    d: number,
    scale: number,
  ): void;
}

export interface LossKernels {
  /**
   * Cross-entropy from logits [rows, vocab] and targets [rows]: lse[r] = log Σ_j exp(logits[r,j]) (stable),
   * loss[r] = lse[r] − logits[r, targets[r]]. Rows whose target equals ignoreIndex get loss 0 (lse is still
   * computed). A target outside [0, vocab) that is not ignoreIndex is an error (native throws; js throws).
   */
  crossEntropy(
    logits: F32,
    targets: I32,
    loss: F32,
    lse: F32,
    rows: number,
    vocab: number,
    ignoreIndex: number,
  ): void;
  /**
   * Backward: with p = exp(logits − lse[r]), gLogits[r,j] = p·(gLoss[r] + gLse[r]) − [j = target]·gLoss[r];
   * for ignored rows the gLoss terms are dropped (only gLse flows). gLse null means zeros.
   */
  crossEntropyBackward(
    logits: F32,
    targets: I32,
    lse: F32,
    gLoss: F32,
    gLse: F32 | null,
    gLogits: F32,
    rows: number,
    vocab: number,
    ignoreIndex: number,
  ): void;
}

export interface IndexingKernels {
  /**
   * out[i, :] = src[idx[i], :] for i < n; src is [srcRows, rowSize]. An index outside [0, srcRows) is an
   * error naming the position and value. Embedding lookup and MoE dispatch.
   */
  gatherRows(src: F32, idx: I32, out: F32, n: number, rowSize: number, srcRows: number): void;
  /**
   * out[idx[i], :] += src[i, :] for i < n; out is [outRows, rowSize]. Repeated indices accumulate.
   * Embedding backward and MoE combine. Out-of-range indices are an error.
   */
  scatterAddRows(src: F32, idx: I32, out: F32, n: number, rowSize: number, outRows: number): void;
}

export interface OptimKernels {
  /**
   * One AdamW step in PyTorch's exact order (torch.optim.AdamW, foreach=False):
   *   g = grad·gradScale; p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
   *   denom = sqrt(v) / sqrt(1 − β2^step) + eps; p ← p − (lr / (1 − β1^step))·m / denom.
   * step counts from 1.
   */
  adamw(
    param: F32,
    grad: F32,
    m: F32,
    v: F32,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
    gradScale: number,
  ): void;
}

export interface ConvertKernels {
  /** float32 → bfloat16 bits, round to nearest even; NaN stays NaN (quiet), ±Inf and ±0 exact. */
  f32ToBf16(src: F32, dst: Uint16Array, n: number): void;
  /** bfloat16 bits → float32 (exact). */
  bf16ToF32(src: Uint16Array, dst: F32, n: number): void;
  /** float32 → IEEE half bits, round to nearest even, overflow to ±Inf, subnormals kept. */
  f32ToF16(src: F32, dst: Uint16Array, n: number): void;
  /** IEEE half bits → float32 (exact, subnormals included). */
  f16ToF32(src: Uint16Array, dst: F32, n: number): void;
}

export interface Kernels
  extends GemmKernels,
    ElementwiseKernels,
    ReduceKernels,
    NormKernels,
    RopeKernels,
    AttentionKernels,
    LossKernels,
    IndexingKernels,
    OptimKernels,
    ConvertKernels {
  readonly name: 'js' | 'native';
}
