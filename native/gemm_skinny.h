// Skinny GEMMs (M of 1..~16 rows: decoding, small batches). These are bandwidth problems, not compute
// problems: B (a weight matrix, megabytes) must be streamed from memory exactly once, in order, and the
// few rows of A and C stay in L1. No packing.
//
// SkinnyNN: B stored K×N. Each thread owns a column range [j0, j1) of C. For every 4 rows of B, each C row
// segment is updated with y += a0·b0 + … + a7·b7 (an axpy over eight B rows at once), so B is read row by
// row, contiguously, and C is read and written once per eight B rows from L1.
//
// SkinnyNT: B stored N×K (x @ Wᵀ). Each thread owns a range of B rows (= C columns); C[i, j] is the dot
// product of row i of op(A) with row j of B, four B rows × up to three A rows at a time.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "gemm_problem.h"
#include "simd.h"
#include "vmath.h"

namespace olmo {
namespace gemm {

// Columns [j0, j1) of C for all rows, B not transposed.
OLMO_AVX2 inline void SkinnyNN(const Problem& P, int64_t j0, int64_t j1) {
  const int64_t m = P.m, n = P.n, k = P.k;
  // Column chunk: long contiguous runs of each B row matter more than keeping all m C-row segments in L1
  // (measured: 4096 columns beat 4096/m columns by 20-50% for m = 2..16).
  const int64_t chunk = 4096;
  for (int64_t jc = j0; jc < j1; jc += chunk) {
    const int64_t w = (j1 - jc < chunk) ? j1 - jc : chunk;
    const int64_t wv = w & ~int64_t(7);
    if (!P.acc)
      for (int64_t i = 0; i < m; ++i) {
        float* y = P.c + i * n + jc;
        for (int64_t j = 0; j < w; ++j) y[j] = 0.0f;
      }
    int64_t p = 0;
    // Eight B rows per pass: eight concurrent streams keep more memory requests in flight than four
    // (measured ~31 vs ~25 GB/s on one core), and C is read and written once per eight rows.
    for (; p + 8 <= k; p += 8) {
      const float* b0 = P.b + p * n + jc;
      for (int64_t i = 0; i < m; ++i) {
        __m256 av[8];
        float as[8];
        for (int r = 0; r < 8; ++r) {
          as[r] = P.A(i, p + r);
          av[r] = _mm256_set1_ps(as[r]);
        }
        float* y = P.c + i * n + jc;
        int64_t j = 0;
        for (; j < wv; j += 8) {
          __m256 s = _mm256_fmadd_ps(av[0], _mm256_loadu_ps(b0 + j), _mm256_loadu_ps(y + j));
          __m256 t = _mm256_mul_ps(av[1], _mm256_loadu_ps(b0 + n + j));
          s = _mm256_fmadd_ps(av[2], _mm256_loadu_ps(b0 + 2 * n + j), s);
          t = _mm256_fmadd_ps(av[3], _mm256_loadu_ps(b0 + 3 * n + j), t);
          s = _mm256_fmadd_ps(av[4], _mm256_loadu_ps(b0 + 4 * n + j), s);
          t = _mm256_fmadd_ps(av[5], _mm256_loadu_ps(b0 + 5 * n + j), t);
          s = _mm256_fmadd_ps(av[6], _mm256_loadu_ps(b0 + 6 * n + j), s);
          t = _mm256_fmadd_ps(av[7], _mm256_loadu_ps(b0 + 7 * n + j), t);
          _mm256_storeu_ps(y + j, _mm256_add_ps(s, t));
        }
        for (; j < w; ++j) {
          float s = y[j];
          for (int r = 0; r < 8; ++r) s += as[r] * b0[r * n + j];
          y[j] = s;
        }
      }
    }
    for (; p < k; ++p) {
      const float* b0 = P.b + p * n + jc;
      for (int64_t i = 0; i < m; ++i) {
        const float a0s = P.A(i, p);
        const __m256 a0 = _mm256_set1_ps(a0s);
        float* y = P.c + i * n + jc;
        int64_t j = 0;
        for (; j < wv; j += 8)
          _mm256_storeu_ps(y + j, _mm256_fmadd_ps(a0, _mm256_loadu_ps(b0 + j), _mm256_loadu_ps(y + j)));
        for (; j < w; ++j) y[j] += a0s * b0[j];
      }
    }
  }
}

// Dot products of R rows of x (row stride k) with Q rows of W (row stride k), over k; out[r][q].
template <int R, int Q>
OLMO_AVX2 inline void Dots(const float* x, const float* w, int64_t k, float out[][Q]) {
  __m256 acc[R][Q];
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < Q; ++q) acc[r][q] = _mm256_setzero_ps();
  const int64_t kv = k & ~int64_t(7);
  for (int64_t p = 0; p < kv; p += 8) {
    __m256 wv[Q];
    for (int q = 0; q < Q; ++q) wv[q] = _mm256_loadu_ps(w + q * k + p);
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_loadu_ps(x + r * k + p);
      for (int q = 0; q < Q; ++q) acc[r][q] = _mm256_fmadd_ps(xv, wv[q], acc[r][q]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < Q; ++q) {
      float s = HSum(acc[r][q]);
      for (int64_t p = kv; p < k; ++p) s += x[r * k + p] * w[q * k + p];
      out[r][q] = s;
    }
}

template <int R>
OLMO_AVX2 inline void Dots1(const float* x, const float* w, int64_t k, float out[]) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  const int64_t kv = k & ~int64_t(7);
  for (int64_t p = 0; p < kv; p += 8) {
    const __m256 w0 = _mm256_loadu_ps(w + p);
    for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x + r * k + p), w0, acc[r]);
  }
  for (int r = 0; r < R; ++r) {
    float s = HSum(acc[r]);
    for (int64_t p = kv; p < k; ++p) s += x[r * k + p] * w[p];
    out[r] = s;
  }
}

// Columns [j0, j1) of C (rows [j0, j1) of B), B transposed. `x` is op(A) as m×k row-major (A itself when
// not transposed, else a copy made by the caller).
OLMO_AVX2 inline void SkinnyNT(const Problem& P, const float* x, int64_t j0, int64_t j1) {
  const int64_t m = P.m, n = P.n, k = P.k;
  auto put = [&](int64_t i, int64_t j, float v) {
    float* c = P.c + i * n + j;
    *c = P.acc ? *c + v : v;
  };
  int64_t j = j0;
  if (m == 1) {
    // One row: eight W rows at a time, eight independent streams and accumulators.
    for (; j + 8 <= j1; j += 8) {
      float out[1][8];
      Dots<1, 8>(x, P.b + j * k, k, out);
      for (int q = 0; q < 8; ++q) put(0, j + q, out[0][q]);
    }
  }
  for (; j + 4 <= j1; j += 4) {
    const float* w = P.b + j * k;
    int64_t i = 0;
    for (; i + 3 <= m; i += 3) {
      float out[3][4];
      Dots<3, 4>(x + i * k, w, k, out);
      for (int r = 0; r < 3; ++r)
        for (int q = 0; q < 4; ++q) put(i + r, j + q, out[r][q]);
    }
    if (m - i == 2) {
      float out[2][4];
      Dots<2, 4>(x + i * k, w, k, out);
      for (int r = 0; r < 2; ++r)
        for (int q = 0; q < 4; ++q) put(i + r, j + q, out[r][q]);
    } else if (m - i == 1) {
      float out[1][4];
      Dots<1, 4>(x + i * k, w, k, out);
      for (int q = 0; q < 4; ++q) put(i, j + q, out[0][q]);
    }
  }
  for (; j < j1; ++j) {
    const float* w = P.b + j * k;
    int64_t i = 0;
    for (; i + 4 <= m; i += 4) {
      float out[4];
      Dots1<4>(x + i * k, w, k, out);
      for (int r = 0; r < 4; ++r) put(i + r, j, out[r]);
    }
    for (; i < m; ++i) {
      float out[1];
      Dots1<1>(x + i * k, w, k, out);
      put(i, j, out[0]);
    }
  }
}

}  // namespace gemm
}  // namespace olmo
