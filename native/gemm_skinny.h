// Skinny GEMMs (M of 1..~16 rows: decoding, small batches). These are bandwidth problems, not compute
// problems: B (a weight matrix, megabytes) must be streamed from memory exactly once, in order, and the
// few rows of A and C stay in L1/L2. They sum in the packed path's order (gemm_problem.h: one FMA chain
// per element and KC slice, slices added to C in order), so a row's result does not depend on M.
//
// SkinnyNN: B stored K×N. Each thread owns a column range of C. For every eight B rows, each row's block
// partial t (in L1/L2) is updated with t = fma(a7, b7, … fma(a0, b0, t)), so B is read row by row,
// contiguously, in eight concurrent streams; at the end of each KC slice t is added to C.
//
// SkinnyNT: B stored N×K (x @ Wᵀ). Each thread owns a range of B rows (= C columns). 64 B rows of a KC
// slice are transposed into four k-major panels (PackB<16>), then up to four rows of x run over each panel
// with the accumulators in registers (one row: over all four at once).
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "gemm_avx2.h"
#include "gemm_problem.h"
#include "gemm_scratch.h"
#include "simd.h"

namespace olmo {
namespace gemm {

// C[i, jc : jc+w] (+)= t[i] for the m rows: the end of a KC slice (acc: add to C, else overwrite).
OLMO_AVX2 inline void AddSlice(const Problem& P, const float* t, int64_t w, int64_t jc, bool acc) {
  for (int64_t i = 0; i < P.m; ++i) {
    float* c = P.c + i * P.n + jc;
    const float* ti = t + i * w;
    int64_t j = 0;
    if (acc) {
      for (; j + 8 <= w; j += 8) _mm256_storeu_ps(c + j, _mm256_add_ps(_mm256_loadu_ps(c + j), _mm256_loadu_ps(ti + j)));
      for (; j < w; ++j) c[j] += ti[j];
    } else {
      for (; j < w; ++j) c[j] = ti[j];
    }
  }
}

// t[i, 0:w] = fma chain over B rows [p0, p1) (columns jc…) for every row i, t starting at 0.
OLMO_AVX2 inline void SliceNN(const Problem& P, int64_t p0, int64_t p1, int64_t jc, int64_t w, float* t) {
  const int64_t m = P.m, n = P.n;
  const int64_t wv = w & ~int64_t(7);
  for (int64_t i = 0; i < m * w; ++i) t[i] = 0.0f;
  int64_t p = p0;
  for (; p + 8 <= p1; p += 8) {
    const float* b0 = P.b + p * n + jc;
    for (int64_t i = 0; i < m; ++i) {
      __m256 av[8];
      float as[8];
      for (int r = 0; r < 8; ++r) {
        as[r] = P.A(i, p + r);
        av[r] = _mm256_set1_ps(as[r]);
      }
      float* y = t + i * w;
      int64_t j = 0;
      for (; j < wv; j += 8) {
        __m256 s = _mm256_loadu_ps(y + j);
        for (int r = 0; r < 8; ++r) s = _mm256_fmadd_ps(av[r], _mm256_loadu_ps(b0 + r * n + j), s);
        _mm256_storeu_ps(y + j, s);
      }
      for (; j < w; ++j) {
        float s = y[j];
        for (int r = 0; r < 8; ++r) s = __builtin_fmaf(as[r], b0[r * n + j], s);
        y[j] = s;
      }
    }
  }
  for (; p < p1; ++p) {
    const float* b0 = P.b + p * n + jc;
    for (int64_t i = 0; i < m; ++i) {
      const float a0s = P.A(i, p);
      const __m256 a0 = _mm256_set1_ps(a0s);
      float* y = t + i * w;
      int64_t j = 0;
      for (; j < wv; j += 8) _mm256_storeu_ps(y + j, _mm256_fmadd_ps(a0, _mm256_loadu_ps(b0 + j), _mm256_loadu_ps(y + j)));
      for (; j < w; ++j) y[j] = __builtin_fmaf(a0s, b0[j], y[j]);
    }
  }
}

// Columns [j0, j1) of C for all rows, B not transposed.
OLMO_AVX2 inline void SkinnyNN(const Problem& P, int64_t j0, int64_t j1) {
  // Column chunk: long contiguous runs of each B row matter more than keeping all m partial rows in L1
  // (measured: 4096 columns beat 4096/m columns by 20-50% for m = 2..16).
  const int64_t chunk = 4096;
  float* t = ScratchT().get(P.m * chunk);
  for (int64_t jc = j0; jc < j1; jc += chunk) {
    const int64_t w = (j1 - jc < chunk) ? j1 - jc : chunk;
    for (int64_t pc = 0; pc < P.k; pc += KC) {
      SliceNN(P, pc, P.k - pc < KC ? P.k : pc + KC, jc, w, t);
      AddSlice(P, t, w, jc, P.acc || pc > 0);
    }
  }
}

// C[0:R, 0:nr] (+)= x[0:R, 0:kc] · panel (kc × 16, k-major); x rows have stride ldx.
template <int R>
OLMO_AVX2 inline void RowsTimesPanel(const float* x, int64_t ldx, const float* panel, int64_t kc, float* c,
                                     int64_t ldc, bool acc, int nr) {
  __m256 lo[R], hi[R];
  for (int r = 0; r < R; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(panel + p * 16), b1 = _mm256_load_ps(panel + p * 16 + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 a = _mm256_set1_ps(x[r * ldx + p]);
      lo[r] = _mm256_fmadd_ps(a, b0, lo[r]);
      hi[r] = _mm256_fmadd_ps(a, b1, hi[r]);
    }
  }
  alignas(32) float tile[16];
  for (int r = 0; r < R; ++r) {
    _mm256_store_ps(tile, lo[r]);
    _mm256_store_ps(tile + 8, hi[r]);
    float* ci = c + r * ldc;
    for (int j = 0; j < nr; ++j) ci[j] = acc ? ci[j] + tile[j] : tile[j];
  }
}

// C[0, 0:64] (+)= x[0:kc] · four consecutive 16-wide panels: one row, eight independent FMA chains (the
// latency of one chain per panel half would otherwise bound decoding).
OLMO_AVX2 inline void RowTimesFourPanels(const float* x, const float* panels, int64_t kc, float* c, bool acc) {
  __m256 s[8];
  for (int q = 0; q < 8; ++q) s[q] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 a = _mm256_set1_ps(x[p]);
    for (int q = 0; q < 8; ++q)
      s[q] = _mm256_fmadd_ps(a, _mm256_load_ps(panels + (q >> 1) * kc * 16 + p * 16 + (q & 1) * 8), s[q]);
  }
  for (int q = 0; q < 8; ++q) {
    float* cq = c + (q >> 1) * 16 + (q & 1) * 8;
    _mm256_storeu_ps(cq, acc ? _mm256_add_ps(_mm256_loadu_ps(cq), s[q]) : s[q]);
  }
}

// Columns [j0, j1) of C (rows [j0, j1) of B), B transposed. `x` is op(A) as m×k row-major (A itself when
// not transposed, else a copy made by the caller). 64 B rows per KC slice are packed at a time.
OLMO_AVX2 inline void SkinnyNT(const Problem& P, const float* x, int64_t j0, int64_t j1) {
  const int64_t m = P.m, n = P.n, k = P.k;
  float* panels = ScratchT().get(KC * 64);
  for (int64_t jg = j0; jg < j1; jg += 64) {
    const int64_t ng = j1 - jg < 64 ? j1 - jg : 64;
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = k - pc < KC ? k - pc : KC;
      const bool acc = P.acc || pc > 0;
      PackB<16>(P, pc, kc, jg, ng, panels);
      if (m == 1 && ng == 64) {
        RowTimesFourPanels(x + pc, panels, kc, P.c + jg, acc);
        continue;
      }
      for (int64_t jr = 0; jr < ng; jr += 16) {
        const int nr = static_cast<int>(ng - jr < 16 ? ng - jr : 16);
        const float* panel = panels + jr * kc;
        for (int64_t i = 0; i < m; i += 4) {
          const float* xi = x + i * k + pc;
          float* ci = P.c + i * n + jg + jr;
          switch (m - i < 4 ? m - i : 4) {
            case 1: RowsTimesPanel<1>(xi, k, panel, kc, ci, n, acc, nr); break;
            case 2: RowsTimesPanel<2>(xi, k, panel, kc, ci, n, acc, nr); break;
            case 3: RowsTimesPanel<3>(xi, k, panel, kc, ci, n, acc, nr); break;
            default: RowsTimesPanel<4>(xi, k, panel, kc, ci, n, acc, nr); break;
          }
        }
      }
    }
  }
}

}  // namespace gemm
}  // namespace olmo
