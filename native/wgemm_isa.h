// The weight-only GEMM's inner tiles for one instruction set, included once per path by wgemm.cc inside a
// namespace and a target pragma (see there). The includer defines:
//   V                  a vector of 16 f32 lanes (one zmm, or two ymm);
//   VZero(), VLoad(p), VStore(p, v)  (16 floats), VFma(a, b, c) = a·b + c per lane (one rounding), VReduce(v) -> float;
//   WidenBf16(p), WidenF16(p), WidenI8(p)   16 stored weights -> 16 floats, exact;
//   Bf16Even(p), Bf16Odd(p)   32 stored bf16 weights -> the 16 at even (odd) offsets as floats, exact;
//   AlignedBf16Tile<RN>(xp, rows, k, acc)   one x row's bf16 tile from aligned loads, or false where the path
//                      has none or the rows do not need one (wgemm_bf16lines.h);
//   ScaleToFloat(h)    an IEEE half (a q8_0 block scale) -> float, exact;
//   VMul(a, b) per lane, VSet1(s) -> s in every lane.
//
// Every output element out[i, j] = Σ_k x[i, k]·w[j, k] is computed the same way, whatever the tile it falls in:
// lane l accumulates x·w over k ≡ l (mod 16) in increasing k with FMA, a zero-padded last step covers k % 16,
// and VReduce adds the lanes in a fixed tree. So a row's result does not depend on how many rows share the
// call, where it sits among them, or on the vector width (the scalar path of wgemm.cc does the same sums).
// bf16 and q8_0 weights have orders of their own (their Tiles below), with the same properties.

// A weight format: Load(j, kk) gives w[j, kk .. kk+16) as floats.
// f32 rows decode as bf16 rows do (Bf16Rows below): tiles of rows far apart (`step`, StridedDecodeColumns in
// wgemm_columns.h), each load prefetching kDecodeAhead weights (1.5 KiB) further along its row.
struct F32Rows {
  const float* w;
  int64_t k;
  int64_t step = 1;                             // rows between a tile's consecutive weight rows
  static constexpr int64_t kDecodeStride = 16;  // as many bytes of a stream as bf16's 32 rows
  static constexpr int kDecodeRows = 4;
  static constexpr int64_t kDecodeAhead = 384;
  V Load(int64_t j, int64_t kk) const { return VLoad(w + j * k + kk); }
};
struct F16Rows {
  const uint16_t* w;
  int64_t k;
  int64_t step = 1;  // always 1: f16 rows decode in adjacent tiles
  V Load(int64_t j, int64_t kk) const { return WidenF16(w + j * k + kk); }
};
// out[i0..i0+RM) × weight rows j0 + c·step (c < RN) for x rows of length k (row stride k) and out's row stride n.
template <int RM, int RN, class W>
inline void Tile(const float* x, const W& w, float* out, int64_t i0, int64_t j0, int64_t n, int64_t k,
                 const float* wtail) {
  V acc[RM][RN];
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c) acc[r][c] = VZero();
  const int64_t k16 = k - k % 16;
  for (int64_t kk = 0; kk < k16; kk += 16) {
    V wv[RN];
    for (int c = 0; c < RN; ++c) {
      if constexpr (RM == 1 && std::is_same_v<W, F32Rows>)  // decoding f32 rows (F32Rows)
        __builtin_prefetch(w.w + (j0 + c * w.step) * k + kk + F32Rows::kDecodeAhead, 0, 3);
      wv[c] = w.Load(j0 + c * w.step, kk);
    }
    for (int r = 0; r < RM; ++r) {
      const V xv = VLoad(x + (i0 + r) * k + kk);
      for (int c = 0; c < RN; ++c) acc[r][c] = VFma(xv, wv[c], acc[r][c]);
    }
  }
  if (k16 < k) {  // the zero-padded last step; wtail holds w[j, k16..k) widened, 16 per row of the tile
    alignas(64) float xt[16];
    for (int r = 0; r < RM; ++r) {
      for (int l = 0; l < 16; ++l) xt[l] = k16 + l < k ? x[(i0 + r) * k + k16 + l] : 0.f;
      const V xv = VLoad(xt);
      for (int c = 0; c < RN; ++c) acc[r][c] = VFma(xv, VLoad(wtail + 16 * (j0 + c * w.step)), acc[r][c]);
    }
  }
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c) out[(i0 + r) * n + j0 + c * w.step] = VReduce(acc[r][c]);
}

// ---- bf16 weights: pairs ----
// A bf16 weight widens to f32 by a 16-bit shift, and a 32-bit lane holds two of them: the one at the odd
// offset (high half) needs only its low half cleared, the one at the even offset a shift. So 32 weights widen
// with two instructions, each reading the 64 bytes from memory itself, where widening 16 to their own lanes
// takes a cross-lane zero-extension and a shift (twice the instructions per weight; a single decoding row,
// which has nothing to amortise them over, then kept fewer loads in flight and read the weights more slowly).
// The order this gives every output element: per 32-weight block b, in increasing b, lane l (0..15)
//   acc = fma(x[32b + 2l], w[32b + 2l], acc), then acc = fma(x[32b + 2l + 1], w[32b + 2l + 1], acc),
// the last block zero-padded; then VReduce's tree. x comes de-interleaved to match (PairX in wgemm.cc: per
// block, its 16 even-offset values, then its 16 odd ones), rows of kx = k rounded up to 32, zero-padded.
//
// Decoding (one x row) streams the weights once, and reads them faster with a tile's rows far apart
// (StridedDecodeColumns, wgemm_columns.h): the weight rows of a tile are j0, j0 + step, ..., j0 + (RN-1)·step.
struct Bf16Rows {
  const uint16_t* w;
  int64_t k;
  int64_t step = 1;                             // rows between a tile's consecutive weight rows
  static constexpr int64_t kDecodeStride = 32;  // the step for one x row (StridedDecodeColumns): 128 KiB at k 2048
  static constexpr int kDecodeRows = 4;         // a decoding tile's weight rows
};

// out[i0..i0+RM) × weight rows j0 + c·step (c < RN) for bf16 weights in the pair order; xp is x de-interleaved,
// wtail holds each row's last k % 32 weights widened, zero-padded and de-interleaved as x (32 floats a row).
template <int RM, int RN>
inline void Tile(const float* xp, const Bf16Rows& w, float* out, int64_t i0, int64_t j0, int64_t n, int64_t k,
                 const float* wtail) {
  V acc[RM][RN];
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c) acc[r][c] = VZero();
  const int64_t kx = (k + 31) / 32 * 32, k32 = k - k % 32;
  const uint16_t* row[RN];  // the tile's weight rows
  for (int c = 0; c < RN; ++c) row[c] = w.w + (j0 + c * w.step) * k;
  // One x row (decoding) on rows off their cache lines: the path's aligned-load tile, where it has one (AVX-512:
  // wgemm_bf16lines.h), with the same products in the same order. It takes only rows of whole blocks.
  bool done = false;
  if constexpr (RM == 1) done = AlignedBf16Tile<RN>(xp + i0 * kx, row, k, acc[0]);
  // The even halves of the block for every row of the tile, then the odd halves: RN weight vectors live at a
  // time (6 x 4 tiles: 24 accumulators, 4 weights and an x vector in 32 registers). Fully unrolled, so that acc
  // stays in registers.
  for (int64_t kk = 0; !done && kk < k32; kk += 32) {
    V wv[RN];
#pragma GCC unroll 16
    for (int c = 0; c < RN; ++c) {
      if constexpr (RM == 1) __builtin_prefetch(row[c] + kk + kBf16DecodeAhead, 0, 3);  // decoding (kBf16DecodeAhead)
      wv[c] = Bf16Even(row[c] + kk);
    }
#pragma GCC unroll 16
    for (int r = 0; r < RM; ++r) {
      const V xv = VLoad(xp + (i0 + r) * kx + kk);
#pragma GCC unroll 16
      for (int c = 0; c < RN; ++c) acc[r][c] = VFma(xv, wv[c], acc[r][c]);
    }
#pragma GCC unroll 16
    for (int c = 0; c < RN; ++c) wv[c] = Bf16Odd(row[c] + kk);
#pragma GCC unroll 16
    for (int r = 0; r < RM; ++r) {
      const V xv = VLoad(xp + (i0 + r) * kx + kk + 16);
#pragma GCC unroll 16
      for (int c = 0; c < RN; ++c) acc[r][c] = VFma(xv, wv[c], acc[r][c]);
    }
  }
  if (k32 < k) {
    for (int r = 0; r < RM; ++r) {
      const V xe = VLoad(xp + (i0 + r) * kx + k32), xo = VLoad(xp + (i0 + r) * kx + k32 + 16);
      for (int c = 0; c < RN; ++c) {
        const float* t = wtail + 32 * (j0 + c * w.step);
        acc[r][c] = VFma(xo, VLoad(t + 16), VFma(xe, VLoad(t), acc[r][c]));
      }
    }
  }
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c) out[(i0 + r) * n + j0 + c * w.step] = VReduce(acc[r][c]);
}

// ---- q8_0 weights: 32-element blocks of int8 quants with one f16 scale each ----
// A matrix is stored as q8_0 rows (Q8Row, Q8RowScales in wgemm.cc: each row's quants, then its scales).
// A weight widens to q·scale in f32, and that product is exact (an int8 times a half has at most 8 + 11
// significant bits, and no product leaves f32's range), so the weights then sum as f32 weights do: F32Rows'
// order above, lane l accumulating fma(x, q·scale) over k ≡ l (mod 16). linearQ8 thus gives the bits linearF32
// gives on the dequantised matrix, and prefill runs the f32 panel path (wgemm_panel.h, which widens each weight
// once per panel through Load). Decoding takes tiles of rows far apart, as for bf16 weights (Bf16Rows).
// (An earlier order multiplied each block's partial sum by its scale instead of every weight: one operation
// fewer per 16 weights in decoding, but 3 operations per 2 products in every tile, which capped prefill at
// two thirds of the f32 rate.)
struct Q8Rows {
  const int8_t* w;                              // q8_0 rows (Q8RowBytes(k) bytes each)
  int64_t k;                                    // a multiple of 32
  int64_t step = 1;                             // rows between a tile's consecutive weight rows
  static constexpr int64_t kDecodeStride = 64;  // as many bytes of a stream as bf16's 32 rows
  static constexpr int kDecodeRows = 4;
  V Load(int64_t j, int64_t kk) const {
    return VMul(WidenI8(Q8Row(w, k, j) + kk), VSet1(ScaleToFloat(Q8RowScales(w, k, j)[kk / 32])));
  }
};

// out[i0..i0+RM, j0..j0+RN) for q8_0 weights in F32Rows' order (the generic Tile's sums); the block scales of each
// kChunk of the tile's rows are widened to f32 once, and the loads prefetch. (Chosen over the generic Tile by
// overload resolution; wtail is unused.)
template <int RM, int RN>
inline void Tile(const float* x, const Q8Rows& w, float* out, int64_t i0, int64_t j0, int64_t n, int64_t k,
                 const float*) {
  V acc[RM][RN];
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c) acc[r][c] = VZero();
  constexpr int64_t kChunk = 512;  // block scales widened per chunk of k
  alignas(64) float s[RN][kChunk / 32];
  // Decoding (one x row, or a batch of a few) streams the weights with little work per byte, so the loads alone
  // keep too few cache misses in flight, and the hardware prefetcher starts over on every row. Each load
  // prefetches: for rows up to 4 KiB, the same place in the next tile's rows (RN rows on, or with rows far apart,
  // decoding's strided tiles, the row after); for longer rows, 2 KiB ahead in the row.
  // A row's block scales (one f16 per 32 weights) follow its quants, outside the span the loads' prefetches cover:
  // each chunk of k prefetches the next tile's scales for the same chunk, so that they are in cache when that
  // tile widens them.
  const int64_t next = w.step > 1 ? 1 : RN, ahead = k <= 4096 ? next * Q8RowBytes(k) : 2048;
  for (int64_t kc = 0; kc < k; kc += kChunk) {
    const int64_t ke = kc + kChunk < k ? kc + kChunk : k, nb = (ke - kc) / 32;
    for (int c = 0; c < RN; ++c)
      __builtin_prefetch(Q8RowScales(w.w, k, j0 + next + c * w.step) + kc / 32, 0, 3);
    for (int c = 0; c < RN; ++c) {
      const uint16_t* h = Q8RowScales(w.w, k, j0 + c * w.step) + kc / 32;
      if (nb == kChunk / 32) {
        VStore(s[c], WidenF16(h));
      } else {
        for (int64_t b = 0; b < nb; ++b) s[c][b] = ScaleToFloat(h[b]);
      }
    }
    for (int64_t kk = kc; kk < ke; kk += 32) {
      // Fully unrolled, so that acc stays in registers (GCC keeps a loop this long rolled, acc on the stack).
#pragma GCC unroll 16
      for (int c = 0; c < RN; ++c) {
        const int8_t* p = Q8Row(w.w, k, j0 + c * w.step) + kk;
        __builtin_prefetch(p + ahead, 0, 3);
        const V sv = VSet1(s[c][(kk - kc) / 32]);
        const V w0 = VMul(WidenI8(p), sv), w1 = VMul(WidenI8(p + 16), sv);
#pragma GCC unroll 16
        for (int r = 0; r < RM; ++r) {
          const float* xr = x + (i0 + r) * k + kk;
          acc[r][c] = VFma(VLoad(xr + 16), w1, VFma(VLoad(xr), w0, acc[r][c]));
        }
      }
    }
  }
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c) out[(i0 + r) * n + j0 + c * w.step] = VReduce(acc[r][c]);
}

// ---- the int8 fast mode: q8_0 weights times x quantised to q8_0 as well (linearQ8Fast) ----
// x comes quantised per row and 32-element block (QuantizeX in wgemm.cc): int8 quants xq and an f32 scale dx.
// Every output element sums in one fixed order: with isum_b = Σ xq·q over block b (an exact integer) and
// s_b = dx_b · dw_b (one f32 product; dw_b the weight block's f16 scale, widened exactly), lane t (0..15) adds
//   acc_t = fma(float(isum_b), s_b, acc_t)   for the blocks b ≡ t (mod 16), in increasing b,
// then VReduce's tree adds the lanes. The integer sums are exact whatever instructions form them, so this tile
// (every path) and the AVX512-VNNI kernels (wgemm_q8dot.h) give the same bits for any batch and row position.
struct Q8DotRows {
  const int8_t* w;  // q8_0 rows (Q8RowBytes(k) bytes each)
  int64_t k;        // a multiple of 32
  const float* dx;  // x's block scales, rows of nbp (zeros past k / 32)
  int64_t kq, nbp;  // xq's row stride (nbp · 32) and its blocks per row, k / 32 rounded up to 16
};

// out[i0..i0+RM, j0..j0+RN) in the order above, one element at a time (the integer sums left to the compiler's
// vectoriser): the reference every path can run. (Overload resolution picks it for int8 x; wtail is unused.)
template <int RM, int RN>
inline void Tile(const int8_t* xq, const Q8DotRows& w, float* out, int64_t i0, int64_t j0, int64_t n, int64_t k,
                 const float*) {
  const int64_t nb = k / 32;
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c) {
      const int8_t* xr = xq + (i0 + r) * w.kq;
      const int8_t* wr = Q8Row(w.w, k, j0 + c);
      V acc = VZero();
      for (int64_t b0 = 0; b0 < nb; b0 += 16) {
        alignas(64) float f[16], s[16];
        for (int t = 0; t < 16; ++t) {
          const int64_t b = b0 + t;
          f[t] = s[t] = 0.f;  // past the last block: fma(0, 0, acc) leaves acc as it is
          if (b >= nb) continue;
          int32_t sum = 0;
          for (int e = 0; e < 32; ++e) sum += xr[32 * b + e] * wr[32 * b + e];
          f[t] = static_cast<float>(sum);  // |sum| <= 32·127·127 < 2^24: exact
          s[t] = w.dx[(i0 + r) * w.nbp + b] * ScaleToFloat(Q8RowScales(w.w, k, j0 + c)[b]);
        }
        acc = VFma(VLoad(f), VLoad(s), acc);
      }
      out[(i0 + r) * n + j0 + c] = VReduce(acc);
    }
}

#include "wgemm_columns.h"

// ---- q8_0 quantisation (weights as stored -> int8 quants and f16 block scales) ----
// The includer also defines VAbsMax(a, b) (the largest |lane| of two vectors), VAllFinite(a, b), and
// VQuantize(v, id, out): 16 int8 quants round(v·id), half away from zero, clamped to ±127.
// A source format: Block(b, lo, hi) widens weights [32·b, 32·b + 32) to floats, exactly; Prefetch(b) asks for
// block b's cache lines ahead of use.
struct F32Source {
  const float* w;
  void Prefetch(int64_t b) const {
    __builtin_prefetch(w + 32 * b);
    __builtin_prefetch(w + 32 * b + 16);
  }
  void Block(int64_t b, V& lo, V& hi) const {
    lo = VLoad(w + 32 * b);
    hi = VLoad(w + 32 * b + 16);
  }
};
struct Bf16Source {
  const uint16_t* w;
  void Prefetch(int64_t b) const { __builtin_prefetch(w + 32 * b); }
  void Block(int64_t b, V& lo, V& hi) const {
    lo = WidenBf16(w + 32 * b);
    hi = WidenBf16(w + 32 * b + 16);
  }
};
struct F16Source {
  const uint16_t* w;
  void Prefetch(int64_t b) const { __builtin_prefetch(w + 32 * b); }
  void Block(int64_t b, V& lo, V& hi) const {
    lo = WidenF16(w + 32 * b);
    hi = WidenF16(w + 32 * b + 16);
  }
};

// Blocks [b0, b1) of the source (one q8_0 row's) into q (block b0's quants at q) and scales (block b0's at
// scales): d = max|w| / 127, q = round(w · (1/d)) half away from zero, clamped to ±127 (0 when d = 0),
// the scale stored as half(d). Besides the f32 quotients and products of the definition every step is exact
// (max, trunc, the remainder's comparison with 1/2), so every path gives the same bits. Returns the number of
// blocks whose scale is not a finite half (non-finite weights, or max|w| ≥ 127·65520); their quants and scales
// are unspecified, as the caller refuses the matrix.
template <class Src>
inline int64_t QuantizeBlocks(const Src& src, int8_t* q, uint16_t* scales, int64_t b0, int64_t b1,
                              int64_t source_end) {
  int64_t bad = 0;
  // The source is read once, straight from a mapped checkpoint: the hardware prefetcher stops at every 4 KiB page,
  // so each block asks for the one kPrefetchBlocks on (into the next rows, up to source_end, the caller's last
  // block + 1).
  constexpr int64_t kPrefetchBlocks = 64;
  for (int64_t b = b0; b < b1; ++b) {
    if (b + kPrefetchBlocks < source_end) src.Prefetch(b + kPrefetchBlocks);
    V lo, hi;
    src.Block(b, lo, hi);
    const float amax = VAbsMax(lo, hi);
    const float d = amax / 127.f, id = d != 0.f ? 1.f / d : 0.f;
    const uint16_t h = FloatToHalf(d);
    if (!VAllFinite(lo, hi) || (h & 0x7c00u) == 0x7c00u) ++bad;
    scales[b - b0] = h;
    VQuantize(lo, id, q + 32 * (b - b0));
    VQuantize(hi, id, q + 32 * (b - b0) + 16);
  }
  return bad;
}

// x rows [i0, i1) of length k quantised for the int8 fast mode (QuantizeX in wgemm.cc, which documents the
// layout): each block as QuantizeBlocks quantises weights, its scale kept in f32, and the sum of its quants.
inline void QuantizeXRows(const float* x, int64_t k, int64_t nbp, int8_t* xq, float* dx, int32_t* sx, int64_t i0,
                          int64_t i1) {
  for (int64_t i = i0; i < i1; ++i)
    for (int64_t b = 0; b < k / 32; ++b) {
      const V lo = VLoad(x + i * k + 32 * b), hi = VLoad(x + i * k + 32 * b + 16);
      int8_t* q = xq + i * nbp * 32 + 32 * b;
      if (!VAllFinite(lo, hi)) {
        std::memset(q, 0, 32);
        dx[i * nbp + b] = std::nanf("");
        sx[i * nbp + b] = 0;
        continue;
      }
      const float d = VAbsMax(lo, hi) / 127.f, id = d != 0.f ? 1.f / d : 0.f;
      VQuantize(lo, id, q);
      VQuantize(hi, id, q + 16);
      int32_t sum = 0;
      for (int e = 0; e < 32; ++e) sum += q[e];
      dx[i * nbp + b] = d;
      sx[i * nbp + b] = sum;
    }
  for (int64_t i = i0; i < i1 && nbp * 32 > k; ++i) {  // past k: zeros
    std::memset(xq + i * nbp * 32 + k, 0, static_cast<size_t>(nbp * 32 - k));
    for (int64_t b = k / 32; b < nbp; ++b) {
      dx[i * nbp + b] = 0.f;
      sx[i * nbp + b] = 0;
    }
  }
}
