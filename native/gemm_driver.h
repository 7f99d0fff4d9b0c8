// The GEMM driver: cache blocking around the micro-kernel, the choice between the packed path and the
// skinny path, and the split of the work over threads.
//
// Blocking (BLIS order): for each NC-wide column block of C, for each KC-deep slice of K, pack the KC×NC
// block of op(B) once; then for each MC-tall row block pack MC×KC of op(A) (it stays in L2) and sweep the
// micro-kernel over it, one KC×NR micro-panel of B (in L1) at a time.
//
// Threads: each thread computes disjoint blocks of C (column ranges, or row ranges when C is tall and
// narrow) with its own pack buffers, so threads never wait on each other. The pack buffers are allocated
// once per thread and reused by every later call.
#pragma once
#include <atomic>
#include <cstdint>
#include <cstring>

#include "gemm_avx2.h"
#include "gemm_avx512.h"
#include "gemm_problem.h"
#include "gemm_scratch.h"
#include "gemm_skinny.h"
#include "threadpool.h"

namespace olmo {
namespace gemm {

// Chosen by single-thread measurement on the 2-core Zen machine (square 256..2048): KC from 256 to 512 and
// MC from 72 to 144 were all within ~3%, KC = 512 / MC = 144 at the top (fewer passes over C for large K).
// KC (gemm_problem.h) fixes the results; MC and NC only move work.
constexpr int64_t MC = 144;   // multiple of MR; MC×KC floats of A = 288 KiB, inside the 1 MiB L2
constexpr int64_t NC = 4064;  // multiple of both panel widths (16, 32)
// Below this many multiply-adds a GEMM runs on the calling thread (fork/join costs microseconds).
constexpr int64_t kParallelMacs = 1 << 18;
// At most this many rows of op(A) take the skinny (unpacked, streaming) paths.
constexpr int64_t kSkinnyRowsNN = 16;
constexpr int64_t kSkinnyRowsNT = 8;

// The two micro-kernels with their B panel width; the driver below is written once for both.
struct Avx2Kernel {
  static constexpr int NR = 16;
  OLMO_AVX2 static void Micro(int64_t kc, const float* A, const float* B, float* C, int64_t ldc, bool acc, int mr,
                              int nr) {
    MicroKernelAvx2(kc, A, B, C, ldc, acc, mr, nr);
  }
};
struct Avx512Kernel {
  static constexpr int NR = 32;
  OLMO_AVX512 static void Micro(int64_t kc, const float* A, const float* B, float* C, int64_t ldc, bool acc,
                                int mr, int nr) {
    MicroKernelAvx512(kc, A, B, C, ldc, acc, mr, nr);
  }
};

// C[i0:i1, j0:j1] of one problem, on the calling thread, through packing and the micro-kernel.
template <class K>
OLMO_AVX2 inline void PackedBlock(const Problem& P, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  constexpr int NR = K::NR;
  if (i0 >= i1 || j0 >= j1) return;
  const int64_t k = P.k, ldc = P.n;
  const int64_t ncMax = j1 - j0 < NC ? j1 - j0 : NC;
  const int64_t kcMax = k < KC ? k : KC;
  const int64_t mcMax = i1 - i0 < MC ? i1 - i0 : MC;
  float* bufB = ScratchB().get(kcMax * ((ncMax + NR - 1) / NR) * NR);
  float* bufA = ScratchA().get(kcMax * ((mcMax + MR - 1) / MR) * MR);
  for (int64_t jc = j0; jc < j1; jc += NC) {
    const int64_t nc = j1 - jc < NC ? j1 - jc : NC;
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = k - pc < KC ? k - pc : KC;
      const bool acc = P.acc || pc > 0;
      PackB<NR>(P, pc, kc, jc, nc, bufB);
      for (int64_t ic = i0; ic < i1; ic += MC) {
        const int64_t mc = i1 - ic < MC ? i1 - ic : MC;
        PackA(P, ic, mc, pc, kc, bufA);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int nr = static_cast<int>(nc - jr < NR ? nc - jr : NR);
          const float* bp = bufB + jr * kc;
          float* cBase = P.c + jc + jr;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int mr = static_cast<int>(mc - ir < MR ? mc - ir : MR);
            K::Micro(kc, bufA + ir * kc, bp, cBase + (ic + ir) * ldc, ldc, acc, mr, nr);
          }
        }
      }
    }
  }
}

// Splits [0, n) into nt ranges whose boundaries are multiples of `align`; range t is [lo, hi).
inline void SplitRange(int64_t n, int64_t align, int t, int nt, int64_t* lo, int64_t* hi) {
  const int64_t units = (n + align - 1) / align;
  int64_t a = units * t / nt * align, b = units * (t + 1) / nt * align;
  *lo = a < n ? a : n;
  *hi = b < n ? b : n;
}

// One GEMM of the batch with up to `maxThreads` threads.
template <class K>
OLMO_AVX2 inline void GemmOne(const Problem& P, int maxThreads) {
  constexpr int NR = K::NR;
  const int64_t m = P.m, n = P.n, k = P.k;
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!P.acc)
      for (int64_t i = 0; i < m; ++i) std::memset(P.c + i * n, 0, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  const int64_t macs = m * n * k;
  int nt = macs >= kParallelMacs ? maxThreads : 1;

  if (P.tb && m <= kSkinnyRowsNT) {
    // x @ Wᵀ with few rows: dot products against rows of W, threads on disjoint rows of W.
    const float* x = P.a;
    if (P.ta) {
      float* xs = ScratchX().get(m * k);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t p = 0; p < k; ++p) xs[i * k + p] = P.a[p * m + i];
      x = xs;
    }
    if (n < 8 * nt) nt = 1;
    if (nt <= 1) {
      SkinnyNT(P, x, 0, n);
    } else {
      parallel_run(nt, [&](int t, int tn) {
        int64_t lo, hi;
        SplitRange(n, 64, t, tn, &lo, &hi);
        SkinnyNT(P, x, lo, hi);
      });
    }
    return;
  }
  if (!P.tb && m <= kSkinnyRowsNN) {
    // Few rows, B stored K×N: stream B's rows, threads on disjoint column ranges (16-float aligned).
    if (n < 32 * nt) nt = 1;
    if (nt <= 1) {
      SkinnyNN(P, 0, n);
    } else {
      parallel_run(nt, [&](int t, int tn) {
        int64_t lo, hi;
        SplitRange(n, 16, t, tn, &lo, &hi);
        SkinnyNN(P, lo, hi);
      });
    }
    return;
  }
  if (nt <= 1) {
    PackedBlock<K>(P, 0, m, 0, n);
    return;
  }
  // Split the dimension with more micro-tiles into two chunks per thread, handed out in order from a
  // shared counter: a thread slowed by another process (or by the JS main thread's work) takes fewer
  // chunks instead of making the whole call wait for it. Each chunk repacks all of the other operand:
  // measured by CPU time at 2048³, 1 chunk per thread 102.9, 2 chunks 101 and 4 chunks 96.5 GFLOP/s/core.
  const bool splitN = (n + NR - 1) / NR >= (m + MR - 1) / MR;
  const int64_t extent = splitN ? n : m;
  const int64_t align = splitN ? NR : MR;
  int64_t chunk = (extent + 2 * nt - 1) / (2 * nt);
  const int64_t minChunk = splitN ? 256 : MC;
  if (chunk < minChunk) chunk = (extent + nt - 1) / nt;  // small: one static share per thread
  chunk = (chunk + align - 1) / align * align;
  std::atomic<int64_t> next{0};
  parallel_run(nt, [&](int, int) {
    for (;;) {
      const int64_t lo = next.fetch_add(chunk, std::memory_order_relaxed);
      if (lo >= extent) break;
      const int64_t hi = lo + chunk < extent ? lo + chunk : extent;
      if (splitN)
        PackedBlock<K>(P, 0, m, lo, hi);
      else
        PackedBlock<K>(P, lo, hi, 0, n);
    }
  });
}

struct Batch {
  Problem p;  // the first problem; the others are offset by the strides
  int64_t count, strideA, strideB, strideC;
  Problem at(int64_t i) const {
    Problem q = p;
    q.a = p.a + i * strideA;
    q.b = p.b + i * strideB;
    q.c = p.c + i * strideC;
    return q;
  }
};

template <class K>
OLMO_AVX2 inline void GemmBatchSimd(const Batch& B) {
  const Problem& P = B.p;
  if (B.count == 0 || P.m == 0 || P.n == 0) return;
  const int nt = num_threads();
  const int64_t macs = P.m * P.n * (P.k > 0 ? P.k : 1);
  // Many small, independent problems: one thread per problem group. Only when the outputs are disjoint
  // (a shared or overlapping C must be updated in batch order).
  const bool disjointC = B.count == 1 || B.strideC >= P.m * P.n;
  if (B.count > 1 && nt > 1 && disjointC && macs < 64 * kParallelMacs) {
    int64_t grain = kParallelMacs / macs;
    if (grain < 1) grain = 1;
    parallel_for(B.count, grain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) GemmOne<K>(B.at(i), 1);
    });
    return;
  }
  for (int64_t i = 0; i < B.count; ++i) GemmOne<K>(B.at(i), nt);
}

inline void GemmBatchScalar(const Batch& B) {
  for (int64_t i = 0; i < B.count; ++i) {
    const Problem q = B.at(i);
    if (q.m == 0 || q.n == 0) continue;
    ScalarGemm(q);
  }
}

}  // namespace gemm
}  // namespace olmo
