// The AVX-512 micro-kernel of the GEMM: a 6×32 tile in twelve zmm accumulators, fed by the same A panels
// as the AVX2 kernel (gemm_avx2.h, MR = 6) and B panels 32 wide (PackB<32>). Each element of the tile is
// one FMA chain over k from 0, exactly as in the AVX2 kernel, so both paths give bit-identical results.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "gemm_avx2.h"
#include "simd.h"

namespace olmo {
namespace gemm {

// The 6×32 tile of Apanel · Bpanel over kc, into `tile` (row-major 6×32, 64-byte aligned). Each k step
// is two aligned loads of B, six broadcasts of A and twelve FMAs. Inline assembly, as the AVX2 tile, so
// the accumulators stay in registers.
OLMO_AVX512 inline void MicroTile512(int64_t kc, const float* A, const float* B, float* tile) {
  int64_t k4 = kc >> 2, k1 = kc & 3;
#define OLMO_STEP(q)                                   \
  "vmovaps " #q "*128(%[b]), %%zmm12\n\t"              \
  "vmovaps " #q "*128+64(%[b]), %%zmm13\n\t"           \
  "vbroadcastss " #q "*24(%[a]), %%zmm14\n\t"          \
  "vfmadd231ps %%zmm12, %%zmm14, %%zmm0\n\t"          \
  "vfmadd231ps %%zmm13, %%zmm14, %%zmm1\n\t"          \
  "vbroadcastss " #q "*24+4(%[a]), %%zmm15\n\t"        \
  "vfmadd231ps %%zmm12, %%zmm15, %%zmm2\n\t"          \
  "vfmadd231ps %%zmm13, %%zmm15, %%zmm3\n\t"          \
  "vbroadcastss " #q "*24+8(%[a]), %%zmm14\n\t"        \
  "vfmadd231ps %%zmm12, %%zmm14, %%zmm4\n\t"          \
  "vfmadd231ps %%zmm13, %%zmm14, %%zmm5\n\t"          \
  "vbroadcastss " #q "*24+12(%[a]), %%zmm15\n\t"       \
  "vfmadd231ps %%zmm12, %%zmm15, %%zmm6\n\t"          \
  "vfmadd231ps %%zmm13, %%zmm15, %%zmm7\n\t"          \
  "vbroadcastss " #q "*24+16(%[a]), %%zmm14\n\t"       \
  "vfmadd231ps %%zmm12, %%zmm14, %%zmm8\n\t"          \
  "vfmadd231ps %%zmm13, %%zmm14, %%zmm9\n\t"          \
  "vbroadcastss " #q "*24+20(%[a]), %%zmm15\n\t"       \
  "vfmadd231ps %%zmm12, %%zmm15, %%zmm10\n\t"         \
  "vfmadd231ps %%zmm13, %%zmm15, %%zmm11\n\t"
  __asm__ volatile(
      "vpxorq %%zmm0, %%zmm0, %%zmm0\n\t"
      "vpxorq %%zmm1, %%zmm1, %%zmm1\n\t"
      "vpxorq %%zmm2, %%zmm2, %%zmm2\n\t"
      "vpxorq %%zmm3, %%zmm3, %%zmm3\n\t"
      "vpxorq %%zmm4, %%zmm4, %%zmm4\n\t"
      "vpxorq %%zmm5, %%zmm5, %%zmm5\n\t"
      "vpxorq %%zmm6, %%zmm6, %%zmm6\n\t"
      "vpxorq %%zmm7, %%zmm7, %%zmm7\n\t"
      "vpxorq %%zmm8, %%zmm8, %%zmm8\n\t"
      "vpxorq %%zmm9, %%zmm9, %%zmm9\n\t"
      "vpxorq %%zmm10, %%zmm10, %%zmm10\n\t"
      "vpxorq %%zmm11, %%zmm11, %%zmm11\n\t"
      "test %[k4], %[k4]\n\t"
      "jz 2f\n\t"
      "1:\n\t"
      "prefetcht0 384(%[a])\n\t"
      "prefetcht0 1024(%[b])\n\t"
      OLMO_STEP(0) OLMO_STEP(1) OLMO_STEP(2) OLMO_STEP(3)
      "add $96, %[a]\n\t"
      "add $512, %[b]\n\t"
      "dec %[k4]\n\t"
      "jnz 1b\n\t"
      "2:\n\t"
      "test %[k1], %[k1]\n\t"
      "jz 4f\n\t"
      "3:\n\t"
      OLMO_STEP(0)
      "add $24, %[a]\n\t"
      "add $128, %[b]\n\t"
      "dec %[k1]\n\t"
      "jnz 3b\n\t"
      "4:\n\t"
      "vmovaps %%zmm0, 0(%[t])\n\t"
      "vmovaps %%zmm1, 64(%[t])\n\t"
      "vmovaps %%zmm2, 128(%[t])\n\t"
      "vmovaps %%zmm3, 192(%[t])\n\t"
      "vmovaps %%zmm4, 256(%[t])\n\t"
      "vmovaps %%zmm5, 320(%[t])\n\t"
      "vmovaps %%zmm6, 384(%[t])\n\t"
      "vmovaps %%zmm7, 448(%[t])\n\t"
      "vmovaps %%zmm8, 512(%[t])\n\t"
      "vmovaps %%zmm9, 576(%[t])\n\t"
      "vmovaps %%zmm10, 640(%[t])\n\t"
      "vmovaps %%zmm11, 704(%[t])\n\t"
      : [a] "+r"(A), [b] "+r"(B), [k4] "+r"(k4), [k1] "+r"(k1)
      : [t] "r"(tile)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
        "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
#undef OLMO_STEP
}

// C[0:mr, 0:nr] (+)= Apanel · Bpanel over kc (the AVX2 kernel's contract, 32 columns wide).
OLMO_AVX512 inline void MicroKernelAvx512(int64_t kc, const float* __restrict A, const float* __restrict B, float* C,
                                         int64_t ldc, bool acc, int mr, int nr) {
  constexpr int NR = 32;
  for (int i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc + 31), _MM_HINT_T0);
  }
  alignas(64) float tile[MR * NR];
  MicroTile512(kc, A, B, tile);
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; ++i) {
      float* ci = C + i * ldc;
      __m512 v0 = _mm512_load_ps(tile + i * NR), v1 = _mm512_load_ps(tile + i * NR + 16);
      if (acc) {
        v0 = _mm512_add_ps(v0, _mm512_loadu_ps(ci));
        v1 = _mm512_add_ps(v1, _mm512_loadu_ps(ci + 16));
      }
      _mm512_storeu_ps(ci, v0);
      _mm512_storeu_ps(ci + 16, v1);
    }
    return;
  }
  for (int i = 0; i < mr; ++i) {
    float* ci = C + i * ldc;
    const float* ti = tile + i * NR;
    if (acc)
      for (int j = 0; j < nr; ++j) ci[j] += ti[j];
    else
      for (int j = 0; j < nr; ++j) ci[j] = ti[j];
  }
}

}  // namespace gemm
}  // namespace olmo
