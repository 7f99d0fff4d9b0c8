// The int8 fast mode's kernels for AVX512-VNNI (linearQ8Fast; opt-in, OLMO_INT8_FAST=1,
// src/tensor/ops/weight-linear.ts): q8_0 weights times x quantised to q8_0 as well, as llama.cpp multiplies its
// q8_0 weights. vpdpbusd multiplies 64 unsigned by 64 signed bytes and adds each group of four products to a
// 32-bit lane, so the weights go in unsigned as q + 128 (a sign-bit flip) and the sum is corrected by
// 128·Σxq, which QuantizeX computes per block of x.
//
// Both kernels keep the fixed order of wgemm_isa.h's Q8DotRows tile (block sums exact integers; lane t of 16
// adds fma(float(isum_b), dx_b·dw_b, acc_t) over the blocks b ≡ t mod 16; VReduce's tree), so they give the bits
// every other path gives:
//  - Tile (few x rows: decoding) takes 16 blocks (512 weights) of a weight row at a time: eight vpdpbusd leave
//    the 16 block sums spread over eight registers' lanes, and a tree of unpacks and adds (Reduce8) gathers
//    them into one register, in the lane order kPerm. x's scales come permuted to match (dxp, sxp) and the
//    weights' scales are permuted as loaded, so lane i holds block kPerm[i]; the accumulator is put back in
//    block order before the lanes are added.
//  - PackedColumns (many x rows: prefill) packs 48 weight rows so that one vector holds four consecutive bytes
//    of 16 rows: one vpdpbusd then adds four products to 16 outputs of an x row (its four bytes broadcast), and
//    a block's sum is complete after eight, with no reduction across lanes.
//
// Included by wgemm.cc after its avx512 namespace (V, VReduce, Q8DotRows and wgemm_columns.h come from there).
#pragma once

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")
// GCC 12 flags the deliberately undefined upper halves inside its own AVX-512 conversion intrinsics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace avx512vnni {
using avx512::Q8DotRows;

// Lane i of Reduce8's result holds block kPerm[i] of its 16; kUnperm puts block-ordered lanes back.
alignas(64) constexpr int32_t kPerm[16] = {0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15};
alignas(64) constexpr int32_t kUnperm[16] = {0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15};

// Q8DotRows plus x's block scales and sums permuted to kPerm within each 16 (Tile's lane order).
struct VnniRows {
  Q8DotRows rows;
  const float* dxp;
  const int32_t* sxp;
  int64_t step = 1;                             // rows between a tile's consecutive weight rows
  static constexpr int64_t kDecodeStride = 64;  // decoding's strided tiles, as the exact q8_0 kernel's
  static constexpr int kDecodeRows = 4;
};

// v[p] holds in lanes 0-7 the partial sums of block 2p (four products each), in lanes 8-15 those of block 2p + 1.
// Returns the 16 block sums in kPerm order: the first two levels add within 128-bit lanes (block-pair registers
// interleaved by unpacks), the last adds the 128-bit halves of each block.
inline __m512i Reduce8(const __m512i (&v)[8]) {
  __m512i w[4];
  for (int p = 0; p < 4; ++p)
    w[p] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * p], v[2 * p + 1]),
                            _mm512_unpackhi_epi32(v[2 * p], v[2 * p + 1]));
  const __m512i y0 = _mm512_add_epi32(_mm512_unpacklo_epi64(w[0], w[1]), _mm512_unpackhi_epi64(w[0], w[1]));
  const __m512i y1 = _mm512_add_epi32(_mm512_unpacklo_epi64(w[2], w[3]), _mm512_unpackhi_epi64(w[2], w[3]));
  return _mm512_add_epi32(_mm512_shuffle_i32x4(y0, y1, _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_i32x4(y0, y1, _MM_SHUFFLE(3, 1, 3, 1)));
}

// out[i0..i0+RM, j0..j0+RN) for a few x rows: 16 blocks of every weight row of the tile at a time.
template <int RM, int RN>
inline void Tile(const int8_t* xq, const VnniRows& vr, float* out, int64_t i0, int64_t j0, int64_t n, int64_t k,
                 const float*) {
  const Q8DotRows& w = vr.rows;
  const int64_t nb = k / 32;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80)), perm = _mm512_load_si512(kPerm);
  __m512 acc[RM][RN];
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c) acc[r][c] = _mm512_setzero_ps();
  // As the exact q8_0 tile: decoding streams the weights, so each load prefetches the next tile's rows (with rows
  // far apart, decoding's strided tiles, each row's next).
  const int64_t ahead = k <= 4096 ? (vr.step > 1 ? 1 : RN) * Q8RowBytes(k) : 2048;
  for (int64_t b0 = 0; b0 < nb; b0 += 16) {
    const int64_t left = nb - b0;  // blocks in this step, 16 but for the last
#pragma GCC unroll 8
    for (int c = 0; c < RN; ++c) {
      const uint16_t* h = Q8RowScales(w.w, k, j0 + c * vr.step) + b0;
      const __m256i hv = left >= 16 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h))
                                    : _mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << left) - 1), h);
      const __m512 dw = _mm512_permutexvar_ps(perm, _mm512_cvtph_ps(hv));  // zeros past the last block
      const int8_t* wp = Q8Row(w.w, k, j0 + c * vr.step) + 32 * b0;
      __m512i wv[8];
#pragma GCC unroll 8
      for (int p = 0; p < 8; ++p) {
        const int64_t bytes = 32 * left - 64 * p;  // of this row's step left from p's vector on
        __builtin_prefetch(wp + 64 * p + ahead, 0, 3);
        const __m512i raw = bytes >= 64   ? _mm512_loadu_si512(wp + 64 * p)
                            : bytes <= 0 ? _mm512_setzero_si512()
                                         : _mm512_maskz_loadu_epi8(0xffffffffull, wp + 64 * p);  // one block
        wv[p] = _mm512_xor_si512(raw, flip);  // zeros past the row meet zero quants of x
      }
#pragma GCC unroll 8
      for (int r = 0; r < RM; ++r) {
        const int8_t* xp = xq + (i0 + r) * w.kq + 32 * b0;
        __m512i v[8];
#pragma GCC unroll 8
        for (int p = 0; p < 8; ++p)
          v[p] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wv[p], _mm512_loadu_si512(xp + 64 * p));
        const int64_t xo = (i0 + r) * w.nbp + b0;
        const __m512i isum = _mm512_sub_epi32(Reduce8(v), _mm512_slli_epi32(_mm512_loadu_si512(vr.sxp + xo), 7));
        const __m512 s = _mm512_mul_ps(_mm512_loadu_ps(vr.dxp + xo), dw);
        acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), s, acc[r][c]);
      }
    }
  }
  const __m512i unperm = _mm512_load_si512(kUnperm);
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c)
      out[(i0 + r) * n + j0 + c * vr.step] = avx512::VReduce(_mm512_permutexvar_ps(unperm, acc[r][c]));
}

#include "wgemm_columns.h"
constexpr int kRM = 4, kRN = 2, kRN1 = 8;  // one x row: strided tiles of VnniRows::kDecodeRows

// ---- many x rows: packed weights ----
constexpr int64_t kPackCols = 48;  // weight rows per pack: three vectors of 16 outputs
constexpr int kPackRM = 4;         // x rows per tile: 12 integer and 12 float accumulators

// The 16 x 16 transpose of 32-bit elements: r[i] holds row i, o[c] receives column c. Unpacks pair the rows
// within 128-bit lanes (two levels), then lane shuffles gather each column's four lanes.
inline void Transpose16(const __m512i (&r)[16], __m512i (&o)[16]) {
  __m512i t[16], u[16];
  for (int a = 0; a < 8; ++a) {
    t[2 * a] = _mm512_unpacklo_epi32(r[2 * a], r[2 * a + 1]);
    t[2 * a + 1] = _mm512_unpackhi_epi32(r[2 * a], r[2 * a + 1]);
  }
  for (int b = 0; b < 4; ++b) {  // u[4b + j], lane L: column 4L + j of rows 4b .. 4b + 3
    u[4 * b] = _mm512_unpacklo_epi64(t[4 * b], t[4 * b + 2]);
    u[4 * b + 1] = _mm512_unpackhi_epi64(t[4 * b], t[4 * b + 2]);
    u[4 * b + 2] = _mm512_unpacklo_epi64(t[4 * b + 1], t[4 * b + 3]);
    u[4 * b + 3] = _mm512_unpackhi_epi64(t[4 * b + 1], t[4 * b + 3]);
  }
  for (int j = 0; j < 4; ++j) {
    const __m512i p0 = _mm512_shuffle_i32x4(u[j], u[4 + j], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512i p1 = _mm512_shuffle_i32x4(u[j], u[4 + j], _MM_SHUFFLE(3, 1, 3, 1));
    const __m512i q0 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512i q1 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], _MM_SHUFFLE(3, 1, 3, 1));
    o[j] = _mm512_shuffle_i32x4(p0, q0, _MM_SHUFFLE(2, 0, 2, 0));
    o[8 + j] = _mm512_shuffle_i32x4(p0, q0, _MM_SHUFFLE(3, 1, 3, 1));
    o[4 + j] = _mm512_shuffle_i32x4(p1, q1, _MM_SHUFFLE(2, 0, 2, 0));
    o[12 + j] = _mm512_shuffle_i32x4(p1, q1, _MM_SHUFFLE(3, 1, 3, 1));
  }
}

// Packs weight rows [j0, j0 + kPackCols) (rows past n as zeros, which give zero sums) into pw: for each 4-byte
// group q of k (q = 8b + g for block b), the rows' 4 bytes [4q, 4q + 4), sign bits flipped, row after row
// (u32 index q·kPackCols + row); and pd: per block, the rows' scales as f32 (index b·kPackCols + row). Sixteen
// rows by 64 bytes at a time, transposed in registers.
inline void Pack(const Q8DotRows& w, int64_t n, int64_t j0, uint32_t* pw, float* pd) {
  const int64_t k = w.k, nb = k / 32, groups = k / 4;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t v = 0; v < kPackCols / 16; ++v)
    for (int64_t q0 = 0; q0 < groups; q0 += 16) {
      const int64_t left = std::min<int64_t>(16, groups - q0);  // 16, or 8 at the end of a row
      const __mmask16 mask = static_cast<__mmask16>((1u << left) - 1);
      __m512i r[16], o[16];
      for (int i = 0; i < 16; ++i) {
        const int64_t j = j0 + 16 * v + i;
        const int8_t* p = Q8Row(w.w, k, j) + 4 * q0;
        if (j >= n) {
          r[i] = _mm512_setzero_si512();
          continue;
        }
        r[i] = left == 16 ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi32(mask, p);
      }
      Transpose16(r, o);
      for (int64_t c = 0; c < left; ++c)
        _mm512_storeu_si512(pw + (q0 + c) * kPackCols + 16 * v, _mm512_xor_si512(o[c], flip));
    }
  for (int64_t c = 0; c < kPackCols; ++c) {
    const int64_t j = j0 + c;
    for (int64_t b = 0; b < nb; ++b) pd[b * kPackCols + c] = j < n ? _cvtsh_ss(Q8RowScales(w.w, k, j)[b]) : 0.f;
  }
}

// out[i0..i0+RM, j0..j0+48) (columns up to `cols`) from a pack. Lane t's blocks b ≡ t (mod 16) are summed one t
// at a time, each in a register; the 16 partial results then meet in VReduce's tree, vector by vector.
template <int RM>
inline void PackedTile(const int8_t* xq, const int32_t* sx, const Q8DotRows& w, const uint32_t* pw, const float* pd,
                       float* out, int64_t i0, int64_t j0, int64_t cols, int64_t n) {
  constexpr int RN = kPackCols / 16;
  const int64_t nb = w.k / 32;
  alignas(64) __m512 part[16][RM][RN];
  for (int t = 0; t < 16; ++t) {
    __m512 acc[RM][RN];
    for (int r = 0; r < RM; ++r)
      for (int c = 0; c < RN; ++c) acc[r][c] = _mm512_setzero_ps();
    for (int64_t b = t; b < nb; b += 16) {
      __m512i ia[RM][RN];
#pragma GCC unroll 8
      for (int r = 0; r < RM; ++r) {
        const __m512i init = _mm512_set1_epi32(-128 * sx[(i0 + r) * w.nbp + b]);  // the sign-bit flip's correction
#pragma GCC unroll 8
        for (int c = 0; c < RN; ++c) ia[r][c] = init;
      }
      const uint32_t* pb = pw + b * 8 * kPackCols;
#pragma GCC unroll 8
      for (int g = 0; g < 8; ++g) {
        __m512i wv[RN];
#pragma GCC unroll 8
        for (int c = 0; c < RN; ++c) wv[c] = _mm512_loadu_si512(pb + g * kPackCols + 16 * c);
#pragma GCC unroll 8
        for (int r = 0; r < RM; ++r) {
          int32_t four;
          std::memcpy(&four, xq + (i0 + r) * w.kq + 32 * b + 4 * g, 4);
          const __m512i xb = _mm512_set1_epi32(four);
#pragma GCC unroll 8
          for (int c = 0; c < RN; ++c) ia[r][c] = _mm512_dpbusd_epi32(ia[r][c], wv[c], xb);
        }
      }
#pragma GCC unroll 8
      for (int r = 0; r < RM; ++r) {
        const __m512 dxb = _mm512_set1_ps(w.dx[(i0 + r) * w.nbp + b]);
#pragma GCC unroll 8
        for (int c = 0; c < RN; ++c) {
          const __m512 s = _mm512_mul_ps(dxb, _mm512_loadu_ps(pd + b * kPackCols + 16 * c));
          acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[r][c]), s, acc[r][c]);
        }
      }
    }
    for (int r = 0; r < RM; ++r)
      for (int c = 0; c < RN; ++c) part[t][r][c] = acc[r][c];
  }
  for (int width = 8; width >= 1; width /= 2)  // VReduce's tree: lane l + lane l + width
    for (int l = 0; l < width; ++l)
      for (int r = 0; r < RM; ++r)
        for (int c = 0; c < RN; ++c) part[l][r][c] = _mm512_add_ps(part[l][r][c], part[l + width][r][c]);
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c) {
      const int64_t left = cols - 16 * c;
      if (left <= 0) break;
      const __mmask16 mask = left >= 16 ? 0xffff : static_cast<__mmask16>((1u << left) - 1);
      _mm512_mask_storeu_ps(out + (i0 + r) * n + j0 + 16 * c, mask, part[0][r][c]);
    }
}

// PackedTile<g> for 1 <= g <= kPackRM known only at run time.
template <int RM = kPackRM>
inline void PackedGroup(int g, const int8_t* xq, const int32_t* sx, const Q8DotRows& w, const uint32_t* pw,
                        const float* pd, float* out, int64_t i0, int64_t j0, int64_t cols, int64_t n) {
  if constexpr (RM > 1) {
    if (g < RM) return PackedGroup<RM - 1>(g, xq, sx, w, pw, pd, out, i0, j0, cols, n);
  }
  PackedTile<RM>(xq, sx, w, pw, pd, out, i0, j0, cols, n);
}

// Output columns [j0, j1) (a multiple of kPackCols from j0) for all m x rows, one pack of 48 weight rows at a time;
// pw and pd are this thread's pack buffers (k / 4 · 48 words, k / 32 · 48 floats).
inline void PackedColumns(const int8_t* xq, const int32_t* sx, const Q8DotRows& w, float* out, int64_t m,
                          int64_t n, int64_t j0, int64_t j1, uint32_t* pw, float* pd) {
  for (int64_t jp = j0; jp < j1; jp += kPackCols) {
    Pack(w, n, jp, pw, pd);
    const int64_t cols = std::min(kPackCols, n - jp);
    for (int64_t i = 0; i < m; i += kPackRM)
      PackedGroup(static_cast<int>(std::min<int64_t>(kPackRM, m - i)), xq, sx, w, pw, pd, out, i, jp, cols, n);
  }
}
}  // namespace avx512vnni
#pragma GCC diagnostic pop
#pragma GCC pop_options
