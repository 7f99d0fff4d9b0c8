// bf16 fast mode of the weight-only GEMM (opt-in: OLMO_BF16_FAST=1, src/tensor/ops/weight-linear.ts): x is
// rounded to bf16 (to nearest even) once per call, and each output element is a sum of vdpbf16ps dot products
// (AVX512_BF16: per f32 lane, two bf16 products added to the accumulator) over 32-element steps of k, the last
// one zero-padded, with the lanes added in VReduce's tree at the end.
//
// Every element takes the same sequence of instructions whatever its tile, so results do not depend on the
// batch or a row's position in it. They do depend on the instruction (its rounding of the two-product sum, its
// flushing of subnormals to zero, both left to the CPU), so this mode is not part of the cross-path bit
// identity of the exact kernels: it runs only where the CPU has AVX512_BF16 and the AVX-512 path is in use, and
// the caller falls back to the exact linearBf16 elsewhere. Its error against the exact mode: rounding x to bf16
// moves each product by at most 2^-8 of |x·w| (the products of two bf16 are exact in f32), so
// |fast - exact| <= 2^-8 Σ|x·w| plus both modes' f32 summation errors and a subnormal term; the tests check it.
//
// Included by wgemm.cc after its avx512 namespace, whose VReduce this reuses.
#pragma once

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")
namespace avx512bf16 {
// Not inlined: GCC vectorises the inlined lane trees of a tile across its elements, which reads the accumulators
// from memory and so keeps them on the stack through the whole loop over k.
__attribute__((noinline)) float Reduce(__m512 v) { return avx512::VReduce(v); }

// W [n, k] as stored (bf16 bits); x as bf16 in rows of kx (k rounded up to 32, zero-padded). Decoding takes tiles
// of rows far apart, as the exact kernels (StridedDecodeColumns, wgemm_columns.h).
struct Bf16DotRows {
  const uint16_t* w;
  int64_t kx;
  int64_t step = 1;                             // rows between a tile's consecutive weight rows
  static constexpr int64_t kDecodeStride = 32;  // as the exact bf16 kernel's
  static constexpr int kDecodeRows = 4;
};

inline __m512bh Bh(__m512i v) {  // the same 32 bf16, typed for vdpbf16ps
  __m512bh b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// One 32-element step at kk of an RM x RN tile; Masked, the last step of a row (k % 32 weights, the rest zeros:
// a masked load reads nothing past the row's end). Masked loads are slower, so only that step uses one.
template <int RM, int RN, bool Masked>
inline void DotStep(const uint16_t* xb, const Bf16DotRows& w, int64_t i0, int64_t j0, int64_t k, int64_t kk,
                    __mmask32 mask, __m512 (&acc)[RM][RN]) {
  __m512i wv[RN];
  // Fully unrolled, so that acc stays in registers (rolled, GCC keeps acc on the stack).
#pragma GCC unroll 16
  for (int c = 0; c < RN; ++c) {
    const uint16_t* p = w.w + (j0 + c * w.step) * k + kk;
    if constexpr (RM == 1) __builtin_prefetch(p + kBf16DecodeAhead, 0, 3);  // decoding, as the exact kernels
    wv[c] = Masked ? _mm512_maskz_loadu_epi16(mask, p) : _mm512_loadu_si512(p);
  }
#pragma GCC unroll 16
  for (int r = 0; r < RM; ++r) {
    const __m512i xv = _mm512_loadu_si512(xb + (i0 + r) * w.kx + kk);
#pragma GCC unroll 16
    for (int c = 0; c < RN; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], Bh(xv), Bh(wv[c]));
  }
}

template <int RM, int RN>
inline void Tile(const uint16_t* xb, const Bf16DotRows& w, float* out, int64_t i0, int64_t j0, int64_t n, int64_t k,
                 const float*) {
  __m512 acc[RM][RN] = {};  // zeros
  const int64_t k32 = k - k % 32;
  for (int64_t kk = 0; kk < k32; kk += 32) DotStep<RM, RN, false>(xb, w, i0, j0, k, kk, 0, acc);
  if (k32 < k) DotStep<RM, RN, true>(xb, w, i0, j0, k, k32, static_cast<__mmask32>((1u << (k - k32)) - 1), acc);
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c) out[(i0 + r) * n + j0 + c * w.step] = Reduce(acc[r][c]);
}

#include "wgemm_columns.h"
// Prefill tiles of 6 x rows by 4 weight rows (24 accumulators, 4 weight vectors and one x vector in the 32 zmm
// registers) reuse each load more than 4 by 4; one x row (decoding) takes strided tiles of 4 weight rows, as the
// exact kernels.
constexpr int kRM = 6, kRN = 4, kRN1 = 8;
}  // namespace avx512bf16
#pragma GCC pop_options
