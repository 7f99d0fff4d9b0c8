// AVX2/FMA building blocks of the GEMM: the 6×16 register-blocked micro-kernel and the packing routines
// that feed it, structured as BLIS does it (BLIS's Zen configuration: a 6×16 f32 micro-kernel on packed A and B
// panels). Packing turns any storage order
// (transA/transB) into contiguous, 32-byte-aligned panels, so the micro-kernel never sees a stride:
//   A panel: MR rows × kc, stored k-major (MR consecutive floats per k),
//   B panel: kc × NR columns, stored k-major (NR consecutive floats per k).
// Rows/columns past the matrix edge are zero in the panels; the micro-kernel writes only the valid part of
// its tile, so user buffers are never padded.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gemm_problem.h"
#include "simd.h"
#include "vmath.h"

namespace olmo {
namespace gemm {

constexpr int MR = 6;  // rows of a micro-tile, on every path (PackA's layout)

// Packs op(A)[i0 : i0+mc, p0 : p0+kc] into ceil(mc/MR) panels of MR×kc at dst.
OLMO_AVX2 inline void PackA(const Problem& P, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) {
  const int64_t lda = P.lda();
  for (int64_t ir = 0; ir < mc; ir += MR, dst += MR * kc) {
    const int mr = static_cast<int>(mc - ir < MR ? mc - ir : MR);
    if (P.ta) {
      // A stored K×M: the MR values of one k are contiguous.
      const float* src = P.a + p0 * lda + i0 + ir;
      if (mr == MR) {
        for (int64_t p = 0; p < kc; ++p, src += lda) {
          float* d = dst + p * MR;
          d[0] = src[0]; d[1] = src[1]; d[2] = src[2]; d[3] = src[3]; d[4] = src[4]; d[5] = src[5];
        }
      } else {
        for (int64_t p = 0; p < kc; ++p, src += lda) {
          float* d = dst + p * MR;
          for (int i = 0; i < MR; ++i) d[i] = i < mr ? src[i] : 0.0f;
        }
      }
    } else {
      // A stored M×K: MR rows, each contiguous in k; interleave them.
      const float* rows[MR];
      for (int i = 0; i < MR; ++i) rows[i] = P.a + (i0 + ir + (i < mr ? i : 0)) * lda + p0;
      if (mr == MR) {
        int64_t p = 0;
        // 8 k at a time: load 8 floats of each row (6 rows + 2 dummies), transpose, store 8 × 6.
        for (; p + 8 <= kc; p += 8) {
          __m256 r0 = _mm256_loadu_ps(rows[0] + p), r1 = _mm256_loadu_ps(rows[1] + p);
          __m256 r2 = _mm256_loadu_ps(rows[2] + p), r3 = _mm256_loadu_ps(rows[3] + p);
          __m256 r4 = _mm256_loadu_ps(rows[4] + p), r5 = _mm256_loadu_ps(rows[5] + p);
          __m256 r6 = _mm256_setzero_ps(), r7 = _mm256_setzero_ps();
          Transpose8x8(r0, r1, r2, r3, r4, r5, r6, r7);
          // Row q of the transpose holds (A[0..7][p+q]); the first 6 lanes are the panel's values.
          // Store 8 lanes (the 2 extra are overwritten by the next k), except for the last one.
          float* d = dst + p * MR;
          _mm256_storeu_ps(d + 0 * MR, r0);
          _mm256_storeu_ps(d + 1 * MR, r1);
          _mm256_storeu_ps(d + 2 * MR, r2);
          _mm256_storeu_ps(d + 3 * MR, r3);
          _mm256_storeu_ps(d + 4 * MR, r4);
          _mm256_storeu_ps(d + 5 * MR, r5);
          _mm256_storeu_ps(d + 6 * MR, r6);
          // The last store may only write 6 lanes: it could run past the panel.
          _mm_storeu_ps(d + 7 * MR, _mm256_castps256_ps128(r7));
          _mm_storel_pi(reinterpret_cast<__m64*>(d + 7 * MR + 4), _mm256_extractf128_ps(r7, 1));
        }
        for (; p < kc; ++p) {
          float* d = dst + p * MR;
          for (int i = 0; i < MR; ++i) d[i] = rows[i][p];
        }
      } else {
        for (int64_t p = 0; p < kc; ++p) {
          float* d = dst + p * MR;
          for (int i = 0; i < MR; ++i) d[i] = i < mr ? rows[i][p] : 0.0f;
        }
      }
    }
  }
}

// Packs op(B)[p0 : p0+kc, j0 : j0+nc] into ceil(nc/W) panels of kc×W at dst (W = 16 for the AVX2
// micro-kernel, 32 for the AVX-512 one; a multiple of 8).
template <int W>
OLMO_AVX2 inline void PackB(const Problem& P, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst) {
  static_assert(W % 8 == 0, "panel width is a multiple of 8");
  const int64_t ldb = P.ldb();
  for (int64_t jr = 0; jr < nc; jr += W, dst += W * kc) {
    const int nr = static_cast<int>(nc - jr < W ? nc - jr : W);
    if (!P.tb) {
      // B stored K×N: each k row of the panel is a contiguous run of nr floats.
      const float* src = P.b + p0 * ldb + j0 + jr;
      if (nr == W) {
        for (int64_t p = 0; p < kc; ++p, src += ldb)
          for (int q = 0; q < W; q += 8) _mm256_store_ps(dst + p * W + q, _mm256_loadu_ps(src + q));
      } else {
        for (int64_t p = 0; p < kc; ++p, src += ldb) {
          float* d = dst + p * W;
          for (int j = 0; j < W; ++j) d[j] = j < nr ? src[j] : 0.0f;
        }
      }
    } else {
      // B stored N×K: column j of op(B) is row j of storage. Transpose 8×8 blocks.
      const float* src = P.b + (j0 + jr) * ldb + p0;
      if (nr == W) {
        int64_t p = 0;
        for (; p + 8 <= kc; p += 8) {
          for (int h = 0; h < W / 8; ++h) {
            const float* s = src + h * 8 * ldb + p;
            __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ldb);
            __m256 r2 = _mm256_loadu_ps(s + 2 * ldb), r3 = _mm256_loadu_ps(s + 3 * ldb);
            __m256 r4 = _mm256_loadu_ps(s + 4 * ldb), r5 = _mm256_loadu_ps(s + 5 * ldb);
            __m256 r6 = _mm256_loadu_ps(s + 6 * ldb), r7 = _mm256_loadu_ps(s + 7 * ldb);
            Transpose8x8(r0, r1, r2, r3, r4, r5, r6, r7);
            float* d = dst + p * W + h * 8;
            _mm256_store_ps(d + 0 * W, r0);
            _mm256_store_ps(d + 1 * W, r1);
            _mm256_store_ps(d + 2 * W, r2);
            _mm256_store_ps(d + 3 * W, r3);
            _mm256_store_ps(d + 4 * W, r4);
            _mm256_store_ps(d + 5 * W, r5);
            _mm256_store_ps(d + 6 * W, r6);
            _mm256_store_ps(d + 7 * W, r7);
          }
        }
        for (; p < kc; ++p) {
          float* d = dst + p * W;
          for (int j = 0; j < W; ++j) d[j] = src[j * ldb + p];
        }
      } else {
        for (int64_t p = 0; p < kc; ++p) {
          float* d = dst + p * W;
          for (int j = 0; j < W; ++j) d[j] = j < nr ? src[j * ldb + p] : 0.0f;
        }
      }
    }
  }
}

// The 6×16 tile of Apanel · Bpanel over kc, into `tile` (row-major 6×16). Twelve ymm accumulators hold
// the tile; each k step is two aligned loads of B, six broadcasts of A and twelve FMAs. Written as inline
// assembly because GCC's allocation of the 15 live registers spills one accumulator per k step.
OLMO_AVX2 inline void MicroTile(int64_t kc, const float* A, const float* B, float* tile) {
  int64_t k4 = kc >> 2, k1 = kc & 3;
#define OLMO_STEP(q)                                   \
  "vmovaps " #q "*64(%[b]), %%ymm12\n\t"               \
  "vmovaps " #q "*64+32(%[b]), %%ymm13\n\t"            \
  "vbroadcastss " #q "*24(%[a]), %%ymm14\n\t"          \
  "vfmadd231ps %%ymm12, %%ymm14, %%ymm0\n\t"          \
  "vfmadd231ps %%ymm13, %%ymm14, %%ymm1\n\t"          \
  "vbroadcastss " #q "*24+4(%[a]), %%ymm15\n\t"        \
  "vfmadd231ps %%ymm12, %%ymm15, %%ymm2\n\t"          \
  "vfmadd231ps %%ymm13, %%ymm15, %%ymm3\n\t"          \
  "vbroadcastss " #q "*24+8(%[a]), %%ymm14\n\t"        \
  "vfmadd231ps %%ymm12, %%ymm14, %%ymm4\n\t"          \
  "vfmadd231ps %%ymm13, %%ymm14, %%ymm5\n\t"          \
  "vbroadcastss " #q "*24+12(%[a]), %%ymm15\n\t"       \
  "vfmadd231ps %%ymm12, %%ymm15, %%ymm6\n\t"          \
  "vfmadd231ps %%ymm13, %%ymm15, %%ymm7\n\t"          \
  "vbroadcastss " #q "*24+16(%[a]), %%ymm14\n\t"       \
  "vfmadd231ps %%ymm12, %%ymm14, %%ymm8\n\t"          \
  "vfmadd231ps %%ymm13, %%ymm14, %%ymm9\n\t"          \
  "vbroadcastss " #q "*24+20(%[a]), %%ymm15\n\t"       \
  "vfmadd231ps %%ymm12, %%ymm15, %%ymm10\n\t"         \
  "vfmadd231ps %%ymm13, %%ymm15, %%ymm11\n\t"
  __asm__ volatile(
      "vxorps %%ymm0, %%ymm0, %%ymm0\n\t"
      "vxorps %%ymm1, %%ymm1, %%ymm1\n\t"
      "vxorps %%ymm2, %%ymm2, %%ymm2\n\t"
      "vxorps %%ymm3, %%ymm3, %%ymm3\n\t"
      "vxorps %%ymm4, %%ymm4, %%ymm4\n\t"
      "vxorps %%ymm5, %%ymm5, %%ymm5\n\t"
      "vxorps %%ymm6, %%ymm6, %%ymm6\n\t"
      "vxorps %%ymm7, %%ymm7, %%ymm7\n\t"
      "vxorps %%ymm8, %%ymm8, %%ymm8\n\t"
      "vxorps %%ymm9, %%ymm9, %%ymm9\n\t"
      "vxorps %%ymm10, %%ymm10, %%ymm10\n\t"
      "vxorps %%ymm11, %%ymm11, %%ymm11\n\t"
      "test %[k4], %[k4]\n\t"
      "jz 2f\n\t"
      "1:\n\t"
      "prefetcht0 384(%[a])\n\t"
      OLMO_STEP(0) OLMO_STEP(1) OLMO_STEP(2) OLMO_STEP(3)
      "add $96, %[a]\n\t"
      "add $256, %[b]\n\t"
      "dec %[k4]\n\t"
      "jnz 1b\n\t"
      "2:\n\t"
      "test %[k1], %[k1]\n\t"
      "jz 4f\n\t"
      "3:\n\t"
      OLMO_STEP(0)
      "add $24, %[a]\n\t"
      "add $64, %[b]\n\t"
      "dec %[k1]\n\t"
      "jnz 3b\n\t"
      "4:\n\t"
      "vmovaps %%ymm0, 0(%[t])\n\t"
      "vmovaps %%ymm1, 32(%[t])\n\t"
      "vmovaps %%ymm2, 64(%[t])\n\t"
      "vmovaps %%ymm3, 96(%[t])\n\t"
      "vmovaps %%ymm4, 128(%[t])\n\t"
      "vmovaps %%ymm5, 160(%[t])\n\t"
      "vmovaps %%ymm6, 192(%[t])\n\t"
      "vmovaps %%ymm7, 224(%[t])\n\t"
      "vmovaps %%ymm8, 256(%[t])\n\t"
      "vmovaps %%ymm9, 288(%[t])\n\t"
      "vmovaps %%ymm10, 320(%[t])\n\t"
      "vmovaps %%ymm11, 352(%[t])\n\t"
      : [a] "+r"(A), [b] "+r"(B), [k4] "+r"(k4), [k1] "+r"(k1)
      : [t] "r"(tile)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
        "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
#undef OLMO_STEP
}

// C[0:mr, 0:nr] (+)= Apanel · Bpanel over kc; only the mr×nr part of the tile that exists is written.
// Every element of the tile is one FMA chain over k from 0, added to C afterwards: the order that every
// GEMM path (AVX-512, the skinny paths) reproduces, so results do not depend on the path or on M.
OLMO_AVX2 inline void MicroKernelAvx2(int64_t kc, const float* __restrict A, const float* __restrict B, float* C,
                                  int64_t ldc, bool acc, int mr, int nr) {
  // Bring the C tile towards L1 while the products are computed.
  for (int i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc + 15), _MM_HINT_T0);
  }
  constexpr int NR = 16;
  alignas(32) float tile[MR * NR];
  MicroTile(kc, A, B, tile);
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; ++i) {
      float* ci = C + i * ldc;
      __m256 v0 = _mm256_load_ps(tile + i * NR), v1 = _mm256_load_ps(tile + i * NR + 8);
      if (acc) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(ci));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(ci + 8));
      }
      _mm256_storeu_ps(ci, v0);
      _mm256_storeu_ps(ci + 8, v1);
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
