// The kernel contract: the flat, shape-explicit functions every backend implements, each declared once in
// KERNEL_SIGNATURES below.
//
// Ops (src/tensor/ops/) check shapes and dtypes, allocate outputs and record autograd; kernels only
// compute. Every kernel exists twice: in `js/` as the plain TypeScript reference (the oracle in tests)
// and in the C++ addon (native/*.cc). Both must agree on every input.
//
// A signature is a string "name:kind name:kind … [-> kind]". Its TypeScript function type is derived from
// it (KernelFn below); the addon declares the same string next to each C++ kernel, reads its arguments by
// name through it (native/napi_args.h) and exports the table (kernelSignatures()), which the native
// backend compares with this one when it loads (kernels/native.ts): a kernel's layout cannot drift.
// Kinds: f32, i32, u16 (typed arrays; `?` allows null), size (non-negative integer), int, num, bool,
// unaryOp / binaryOp (op codes below), and object kinds named by their interface (AttentionShape, WeightGroup).
//
// Conventions, for every kernel:
// - Arrays are dense row-major; sizes are element counts, never bytes.
// - Output arrays are preallocated by the caller. Kernels *write* their outputs (no accumulation) unless
//   an `accumulate` flag says otherwise.
// - Index arrays are Int32Array.
// - The addon validates every argument's type and every array's length against the sizes and throws a
//   TypeError naming the kernel and argument; it never reads or writes out of bounds.

export type F32 = Float32Array;
export type I32 = Int32Array;

/** Binary elementwise op codes (shared with C++: native/elementwise.cc). */
export const BinaryOp = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
} as const;
export type BinaryOpName = keyof typeof BinaryOp;
export type BinaryOpCode = (typeof BinaryOp)[BinaryOpName];

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
export type UnaryOpCode = (typeof UnaryOp)[UnaryOpName];

/**
 * Sizes of an attention call. q: [batch, tq, hq, d]; k, v: [batch, tk, hkv, d]; scale multiplies q·k.
 */
export interface AttentionShape {
  batch: number;
  tq: number;
  tk: number;
  hq: number;
  hkv: number;
  d: number;
  scale: number;
  /**
   * Forward only, optional: real positions per sequence (each at most its kvLen); later ones are right padding.
   * A query at a real position then gets the numbers it would get if the input ended there: padding after
   * a sequence never changes its rows (batch invariance). Without it, every position counts as real.
   */
  validLens?: I32 | null;
}

/**
 * Bytes of one q8_0 row of k weights (k a multiple of 32): its k int8 quants, then its k/32 block scales as f16
 * bits (little-endian), so that a decoding kernel reads each row's scales in the same stream as its quants. The
 * q8_0 kernels below take a matrix [n, k] as n such rows (native/wgemm.cc, Q8RowBytes).
 */
export const q8RowBytes = (k: number): number => k + k / 16;

/**
 * Bytes of one of ggml's q8_0 blocks (a GGUF file's: the f16 scale, then 32 int8 quants), which q8FromBlocks reads.
 * (src/io/gguf/constants.ts has the same figure for the GGUF reader and writer, which this layer does not import.)
 */
export const GGML_Q8_BLOCK_BYTES = 34;

/** Weight formats of linearGroup (shared with C++: native/wgemm.cc). */
export const WeightFormat = { f32: 0, bf16: 1, f16: 2, q8: 3 } as const;
export type WeightFormatCode = (typeof WeightFormat)[keyof typeof WeightFormat];

/**
 * Weight matrices of one format that multiply the same x (linearGroup): weights[i] [rows[i], k] (q8_0: rows[i]
 * q8_0 rows, q8RowBytes(k) bytes each), each product written to outs[i] [m, rows[i]]. 1 to 64
 * matrices. `fast` asks for the format's fast mode (bf16: linearBf16Fast, q8_0: linearQ8Fast; f32 and f16 have
 * none). `inputs`, when given and not empty, holds one input [m, k] per matrix, which it multiplies instead of x
 * (an OLMoE token's experts' down projections, each on its own expert's activations).
 */
export interface WeightGroup {
  format: WeightFormatCode;
  fast: boolean;
  weights: readonly (F32 | Uint16Array | Int8Array)[];
  outs: readonly F32[];
  rows: readonly number[];
  inputs?: readonly F32[];
}

export const KERNEL_SIGNATURES = {
  gemm: {
    /**
     * Batched matrix multiply: for b in [0, batch): C_b = op(A_b) · op(B_b)  (C_b += … when accumulate).
     * op(A_b) is M×K: A_b stored M×K row-major, or K×M when transA (so op(A_b) = A_bᵀ).
     * op(B_b) is K×N: B_b stored K×N, or N×K when transB (the `x @ Wᵀ` of a Linear layer).
     * C_b is M×N. A_b starts at a[b·strideA], B_b at b[b·strideB], C_b at c[b·strideC]; a stride of 0
     * shares one matrix across the batch. Any of M, N, K, batch may be 0 (K = 0 gives C = 0, or C unchanged
     * when accumulating).
     */
    gemm: 'a:f32 b:f32 c:f32 batch:size m:size n:size k:size transA:bool transB:bool strideA:size strideB:size strideC:size accumulate:bool',
  },
  elementwise: {
    /**
     * out[i] = a[ia(i)] op b[ib(i)] over `shape` (out is contiguous with that shape). The input offsets
     * are ia(i) = Σ_d idx_d·aStrides[d] (likewise b); a stride of 0 broadcasts. `shape`, `aStrides`,
     * `bStrides` have the same length (rank ≥ 0; rank 0 is one element).
     */
    binary: 'op:binaryOp a:f32 aStrides:i32 b:f32 bStrides:i32 out:f32 shape:i32',
    /** out[i] = f(x[i]) for i < n (UnaryOp codes). out may be x (in place). */
    unary: 'op:unaryOp x:f32 out:f32 n:size p0:num p1:num',
    /**
     * gx[i] = gy[i] · f'(x[i]) for i < n, for the same op codes as `unary` (y = f(x) is passed too since
     * some derivatives are cheapest from it). clamp's derivative is 1 inside [p0, p1] inclusive, else 0;
     * abs'(0) = 0; relu'(0) = 0.
     */
    unaryBackward: 'op:unaryOp x:f32 y:f32 gy:f32 gx:f32 n:size p0:num p1:num',
    /** y[i] += alpha·x[i] for i < n. */
    axpy: 'x:f32 y:f32 n:size alpha:num',
    /**
     * Strided gather: out (contiguous over `shape`)[i] = x[offset + Σ_d idx_d·strides[d]]. Serves transpose,
     * permute, slice and broadcast-expand.
     */
    copyStrided: 'x:f32 offset:int strides:i32 out:f32 shape:i32',
    /**
     * Strided scatter, the adjoint of copyStrided: out[offset + Σ_d idx_d·strides[d]] (+)= x[i] for x contiguous
     * over `shape`. With accumulate=false it overwrites. (Strides may be 0 only when accumulating.)
     */
    scatterStrided: 'x:f32 out:f32 offset:int strides:i32 shape:i32 accumulate:bool',
    /**
     * SwiGLU's fused product: out[i] = silu(gate[i]) · up[i].
     */
    swiglu: 'gate:f32 up:f32 out:f32 n:size',
    /** Backward of swiglu: gGate[i] = gOut[i]·up[i]·silu'(gate[i]); gUp[i] = gOut[i]·silu(gate[i]). */
    swigluBackward: 'gate:f32 up:f32 gOut:f32 gGate:f32 gUp:f32 n:size',
  },
  reduce: {
    /** x viewed as [outer, len, inner]: out[o, i] = Σ_l x[o, l, i]. Sums in float64 for accuracy. */
    reduceSum: 'x:f32 out:f32 outer:size len:size inner:size',
    /**
     * x viewed as [outer, len, inner]: out[o, i] = max_l x[o, l, i], argmax[o, i] its first index (lowest l
     * on ties). len ≥ 1. NaN propagates (a NaN is the max, its index is taken).
     */
    reduceMax: 'x:f32 out:f32 argmax:i32 outer:size len:size inner:size',
    /** Σ x[i]² over i < n, accumulated in float64 (gradient norms). */
    sumSquares: 'x:f32 n:size -> num',
    /** Row softmax over the last axis: x, out are [rows, cols]. Subtracts the row max; stable on ±1e4. */
    softmax: 'x:f32 out:f32 rows:size cols:size',
    /** gx = y ⊙ (gy − Σ_j gy_j·y_j) per row, y the softmax output. */
    softmaxBackward: 'y:f32 gy:f32 gx:f32 rows:size cols:size',
    /** Row log-softmax: out = x − max − log Σ exp(x − max). */
    logSoftmax: 'x:f32 out:f32 rows:size cols:size',
    /** gx = gy − exp(y)·Σ_j gy_j per row, y the log-softmax output. */
    logSoftmaxBackward: 'y:f32 gy:f32 gx:f32 rows:size cols:size',
    /**
     * Top-k along the last axis of x [rows, cols]: values/indices [rows, k], largest first; equal values keep
     * ascending index order. 1 ≤ k ≤ cols.
     */
    topk: 'x:f32 values:f32 indices:i32 rows:size cols:size k:size',
  },
  norms: {
    /**
     * RMSNorm over the last axis of x [rows, cols]: rstd[r] = 1/sqrt(mean_j x[r,j]² + eps);
     * out[r,j] = x[r,j]·rstd[r]·w[j] (w null: no weight). Mean of squares in float32 as transformers does
     * (the reference may use float64 accumulation; the two agree to float32 rounding).
     */
    rmsNorm: 'x:f32 w:f32? out:f32 rstd:f32 rows:size cols:size eps:num',
    /**
     * res + rmsNorm(x) in one pass (a post-norm residual, OLMo 2's): out[r,j] = res[r,j] + x[r,j]·rstd[r]·w[j],
     * rstd as rmsNorm's. The bits of rmsNorm followed by an f32 add on the same backend.
     */
    residualRmsNorm: 'res:f32 x:f32 w:f32? out:f32 rstd:f32 rows:size cols:size eps:num',
    /**
     * Backward of rmsNorm. gx written; gw (when w is non-null) written as Σ_r gy[r,j]·x[r,j]·rstd[r].
     * With xhat = x·rstd and g = gy·w: gx = rstd·(g − xhat·mean_j(g·xhat)).
     */
    rmsNormBackward: 'x:f32 w:f32? rstd:f32 gy:f32 gx:f32 gw:f32? rows:size cols:size',
    /**
     * Non-parametric LayerNorm (OLMo 1) over the last axis: mean[r], rstd[r] = 1/sqrt(var + eps) with the
     * biased variance; out = (x − mean)·rstd.
     */
    layerNorm: 'x:f32 out:f32 mean:f32 rstd:f32 rows:size cols:size eps:num',
    /** Backward: with xhat = (x − mean)·rstd, gx = rstd·(gy − mean_j(gy) − xhat·mean_j(gy·xhat)). */
    layerNormBackward: 'x:f32 mean:f32 rstd:f32 gy:f32 gx:f32 rows:size cols:size',
  },
  rope: {
    /**
     * Rotary position embedding, half-split layout (transformers' rotate_half), on x [batch, seq, heads, dim]
     * (dim even). For row (b, t) the position is positions[b·seq + t]. invFreq holds dim/2 frequencies (the
     * caller computes them: 1 / theta^(2i/dim) in float32 as transformers does, see ops/rope-freq.ts, possibly
     * rounded to bf16 as transformers leaves them in a bf16 model); angle = position·invFreq[i] (float32);
     * out[…, i] = x_i·cos − x_{i+dim/2}·sin and out[…, i+dim/2] = x_{i+dim/2}·cos + x_i·sin.
     * With inverse = true it rotates by −angle (the exact adjoint: the backward pass). out may be x.
     */
    rope: 'x:f32 out:f32 positions:i32 batch:size seq:size heads:size dim:size invFreq:f32 inverse:bool',
  },
  attention: {
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
    attention: 'q:f32 k:f32 v:f32 out:f32 lse:f32 kvLens:i32? shape:AttentionShape',
    /**
     * Backward of `attention` from its saved out and lse: writes gq, gk, gv (same shapes as q, k, v; gk and
     * gv are fully overwritten, including rows beyond kvLens, which get 0). Recomputes scores per tile.
     */
    attentionBackward:
      'q:f32 k:f32 v:f32 out:f32 lse:f32 gOut:f32 gq:f32 gk:f32 gv:f32 kvLens:i32? shape:AttentionShape',
    /**
     * Forward attention over a packed batch (inference: no lse, no backward), as `attention` for each sequence
     * alone, in one call. Sequence p's queries are tokens starts[p] .. starts[p + 1] − 1 of q and out
     * ([tokens, hq, d], tokens = starts[pieces]); its keys and values are positions 0 .. kvLens[p] − 1 of row
     * slots[p] of k and v ([rows, tk, hkv, d]), its queries the last of them (kvLens[p] ≥ its tokens). starts has
     * pieces + 1 entries from 0, not decreasing.
     */
    packedAttention:
      'q:f32 k:f32 v:f32 out:f32 slots:i32 starts:i32 kvLens:i32 pieces:size tk:size hq:size hkv:size d:size scale:num',
  },
  losses: {
    /**
     * Cross-entropy from logits [rows, vocab] and targets [rows]: lse[r] = log Σ_j exp(logits[r,j]) (stable),
     * loss[r] = lse[r] − logits[r, targets[r]]. Rows whose target equals ignoreIndex get loss 0 (lse is still
     * computed). A target outside [0, vocab) that is not ignoreIndex is an error (native throws; js throws).
     */
    crossEntropy: 'logits:f32 targets:i32 loss:f32 lse:f32 rows:size vocab:size ignoreIndex:int',
    /**
     * Backward: with p = exp(logits − lse[r]), gLogits[r,j] = p·(gLoss[r] + gLse[r]) − [j = target]·gLoss[r];
     * for ignored rows the gLoss terms are dropped (only gLse flows). gLse null means zeros.
     */
    crossEntropyBackward:
      'logits:f32 targets:i32 lse:f32 gLoss:f32 gLse:f32? gLogits:f32 rows:size vocab:size ignoreIndex:int',
  },
  indexing: {
    /**
     * out[i, :] = src[idx[i], :] for i < n; src is [srcRows, rowSize]. An index outside [0, srcRows) is an
     * error naming the position and value. Embedding lookup and MoE dispatch.
     */
    gatherRows: 'src:f32 idx:i32 out:f32 n:size rowSize:size srcRows:size',
    /**
     * out[idx[i], :] += src[i, :] for i < n; out is [outRows, rowSize]. Repeated indices accumulate.
     * Embedding backward and MoE combine. Out-of-range indices are an error.
     */
    scatterAddRows: 'src:f32 idx:i32 out:f32 n:size rowSize:size outRows:size',
  },
  optim: {
    /**
     * One AdamW step in PyTorch's exact order (torch.optim.AdamW, foreach=False):
     *   g = grad·gradScale; p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
     *   denom = sqrt(v) / sqrt(1 − β2^step) + eps; p ← p − (lr / (1 − β1^step))·m / denom.
     * step counts from 1.
     */
    adamw:
      'param:f32 grad:f32 m:f32 v:f32 n:size lr:num beta1:num beta2:num eps:num weightDecay:num step:size gradScale:num',
  },
  wgemm: {
    /**
     * Weight-only GEMM for inference: out[m, n] = x[m, k] · Wᵀ with W [n, k] stored as bf16 bits, widened
     * exactly inside the kernel, f32 accumulation. Every out[i, j] sums in one fixed order, whatever m, the
     * row's position or the SIMD width: per 32-weight block (in increasing k), lane l (0..15) adds with fused
     * multiply-adds the product at offset 2l, then the one at 2l + 1 (the last block zero-padded), then the
     * lanes are added as a tree (l + l+8, then + l+4, + l+2, + l+1). So results are bit-identical across batch
     * sizes and paths. (Pairs, because a 32-bit lane widens two bf16 weights with one instruction each.)
     */
    linearBf16: 'x:f32 w:u16 out:f32 m:size n:size k:size',
    /**
     * linearBf16 with W in f32 (an inference model's f32 matrices): reads each weight row contiguously, so a
     * single x row streams W at memory bandwidth, where the training GEMM's order would transpose W first.
     * Its order: lane l (0..15) accumulates x·w over k ≡ l (mod 16) in increasing k with fused multiply-adds
     * (the last partial step zero-padded), then linearBf16's lane tree.
     */
    linearF32: 'x:f32 w:f32 out:f32 m:size n:size k:size',
    /**
     * linearBf16's bf16 fast mode (opt-in, OLMO_BF16_FAST=1): x rounded to bf16 (nearest even), products summed
     * with AVX512_BF16 dot products (native/wgemm_bf16dot.h). Batch-invariant on one machine, but its rounding is
     * the CPU's, so it is outside the cross-path bit identity; each output is within 2^-8·Σ|x·w| (plus f32
     * summation error) of linearBf16's. Returns true when the fast mode ran; false when it ran the exact
     * linearBf16 instead (no AVX512_BF16, a narrower path forced, or the js backend).
     */
    linearBf16Fast: 'x:f32 w:u16 out:f32 m:size n:size k:size -> bool',
    /** linearF32 with W stored as IEEE half bits, widened exactly: linearF32's order. */
    linearF16: 'x:f32 w:u16 out:f32 m:size n:size k:size',
    /**
     * linearF32 with W in q8_0: w holds n q8_0 rows (q8RowBytes: k int8 quants, then one half-bits scale per
     * 32-element block; k a multiple of 32). Each weight widens to q·scale_b, which is exact in f32, and the products sum in linearF32's
     * order: so the result is bit for bit linearF32's on the dequantised matrix, for any m, row position or SIMD
     * width.
     */
    linearQ8: 'x:f32 w:i8 out:f32 m:size n:size k:size',
    /**
     * linearQ8 in the int8 fast mode (opt-in, OLMO_INT8_FAST=1): x is quantised to q8_0 as well (per row and
     * 32-element block: dx = max|x|/127 in f32, xq = round(x/dx) half away from zero), as llama.cpp does for its
     * q8_0 matrices, so blocks multiply as integers (AVX512-VNNI where the CPU has it). Its fixed order, the same
     * on every path and for any m or row position (bit-identical everywhere): isum_b = Σ xq·q over block b
     * (exact), s_b = dx_b·scale_b (one f32 product); lane t (0..15) adds acc_t = fma(isum_b, s_b, acc_t) over
     * b ≡ t (mod 16) in increasing b; the lanes are added as in linearBf16. A block of x holding a non-finite
     * value makes its row's outputs NaN. Against linearQ8: |fast − exact| ≤ Σ_b (dx_b/2)·Σ_{k∈b}|w_k| plus
     * both orders' f32 summation errors (rounding x moves each value by at most dx_b/2). Returns true when the
     * AVX512-VNNI kernels ran, false for the reference loop (other paths, the js backend): the same results.
     */
    linearQ8Fast: 'x:f32 w:i8 out:f32 m:size n:size k:size -> bool',
    /**
     * Several weight matrices times the same x in one call (a layer's q/k/v or gate/up projections while
     * decoding), or each times its own input (group.inputs; x must still hold m·k values, and is not used): each
     * outs[i] gets exactly the bits its own kernel above (linearF32, linearBf16, linearF16, linearQ8 or their fast
     * modes) gives, but the matrices' rows are shared out between the threads as one job, and a shared x is
     * prepared (de-interleaved, rounded or quantised) once. Returns whether a fast mode ran.
     */
    linearGroup: 'x:f32 group:WeightGroup m:size k:size -> bool',
    /**
     * q8_0 quantisation of w [rows, cols] (cols a multiple of 32) into q, rows q8_0 rows (q8RowBytes): per block
     * d = max|w|/127, q = round(w·(1/d)) half away from zero (0 when d = 0), scale = half(d). Returns the number of blocks
     * whose scale is not a finite half (non-finite weights, or too large): callers refuse those.
     */
    quantizeQ8: 'w:f32 q:i8 rows:size cols:size -> size',
    /** quantizeQ8 of w stored as bf16 bits, read in place (no f32 copy). */
    quantizeQ8Bf16: 'w:u16 q:i8 rows:size cols:size -> size',
    /** quantizeQ8 of w stored as IEEE half bits, read in place (no f32 copy). */
    quantizeQ8F16: 'w:u16 q:i8 rows:size cols:size -> size',
    /**
     * ggml's q8_0 blocks (34 bytes each: the f16 scale, then 32 int8 quants), rows·cols/32 of them in row order,
     * into q, rows q8_0 rows (q8RowBytes); cols a multiple of 32. A copy: the values are not looked at.
     */
    q8FromBlocks: 'blocks:i8 q:i8 rows:size cols:size',
  },
  convert: {
    /** float32 → bfloat16 bits, round to nearest even; NaN stays NaN (quiet), ±Inf and ±0 exact. */
    f32ToBf16: 'src:f32 dst:u16 n:size',
    /** bfloat16 bits → float32 (exact). */
    bf16ToF32: 'src:u16 dst:f32 n:size',
    /** float32 → IEEE half bits, round to nearest even, overflow to ±Inf, subnormals kept. */
    f32ToF16: 'src:f32 dst:u16 n:size',
    /** IEEE half bits → float32 (exact, subnormals included). */
    f16ToF32: 'src:u16 dst:f32 n:size',
  },
} as const;

/** The TypeScript type of each kind. */
interface KindTypes {
  f32: F32;
  'f32?': F32 | null;
  i32: I32;
  'i32?': I32 | null;
  u16: Uint16Array;
  i8: Int8Array;
  size: number;
  int: number;
  num: number;
  bool: boolean;
  unaryOp: UnaryOpCode;
  binaryOp: BinaryOpCode;
  AttentionShape: AttentionShape;
  WeightGroup: WeightGroup;
}
export type ArgKind = keyof KindTypes;

type KindType<K extends string> = K extends ArgKind ? KindTypes[K] : never;
type ParseArgs<S extends string> = S extends `${string}:${infer K} ${infer Rest}`
  ? [KindType<K>, ...ParseArgs<Rest>]
  : S extends `${string}:${infer K}`
    ? [KindType<K>]
    : [];
/** The function type a signature string declares. */
export type KernelFn<S extends string> = S extends `${infer A} -> ${infer R}`
  ? (...args: ParseArgs<A>) => KindType<R>
  : (...args: ParseArgs<S>) => void;

type Families = typeof KERNEL_SIGNATURES;
export type FamilyName = keyof Families;
/** The kernels of one family, as functions. */
export type KernelFamily<F extends FamilyName> = {
  -readonly [K in keyof Families[F]]: KernelFn<Families[F][K] & string>;
};

export type GemmKernels = KernelFamily<'gemm'>;
export type ElementwiseKernels = KernelFamily<'elementwise'>;
export type ReduceKernels = KernelFamily<'reduce'>;
export type NormKernels = KernelFamily<'norms'>;
export type RopeKernels = KernelFamily<'rope'>;
export type AttentionKernels = KernelFamily<'attention'>;
export type LossKernels = KernelFamily<'losses'>;
export type IndexingKernels = KernelFamily<'indexing'>;
export type OptimKernels = KernelFamily<'optim'>;
export type ConvertKernels = KernelFamily<'convert'>;
export type WgemmKernels = KernelFamily<'wgemm'>;

export interface Kernels
  extends
    GemmKernels,
    ElementwiseKernels,
    ReduceKernels,
    NormKernels,
    RopeKernels,
    AttentionKernels,
    LossKernels,
    IndexingKernels,
    OptimKernels,
    ConvertKernels,
    WgemmKernels {
  readonly name: 'js' | 'native';
}
export type KernelName = Exclude<keyof Kernels, 'name'>;

/** Every kernel's signature string, by kernel name. */
export const kernelSignatures: Readonly<Record<KernelName, string>> = Object.freeze(
  Object.assign({}, ...Object.values(KERNEL_SIGNATURES)) as Record<KernelName, string>,
);
