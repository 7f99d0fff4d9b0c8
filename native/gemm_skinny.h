// Skinny GEMMs (M of 1..~16 rows: decoding, small batches). These are bandwidth problems, not compute
// problems: B (a weight matrix, megabytes) must be streamed from memory exactly once, in order, and the
// few rows of A and C stay in L1. No packing.
//
// SkinnyNN: B stored K×N. Each thread owns a column range [j0, j1) of C. For every 4 rows of B, each C row
// segment is updated with y += a0·b0 + a1·b1 + a2·b2 + a3·b3 (an axpy over four B rows at once), so B is
// read row by row, contiguously, and C is read and written once per four B rows from L1.
//
// SkinnyNT: B stored N×K (x @ Wᵀ). Each thread owns a range of B rows (= C columns); C[i, j] is the dot
// product of row i of op(A) with row j of B, four B rows × up to three A rows at a time.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "gemm_problem.h"
#include "simd.h"

namespace olmo {
namespace gemm {

// Columns [j0, j1) of C for all rows, B not transposed.
OLMO_AVX2 inline void SkinnyNN(const Problem& P, int64_t j0, int64_t j1) {
  const int64_t m = P.m, n = P.n, k = P.k;
  // Column chunk: keep the m C-row segments within ~16 KiB of L1.
  int64_t chunk = (4096 / (m > 0 ? m : 1)) & ~int64_t(63);
  if (chunk < 64) chunk = 64;
  for (int64_t jc = j0; jc < j1; jc += chunk) {
    const int64_t w = (j1 - jc < chunk) ? j1 - jc : chunk;
    const int64_t wv = w & ~int64_t(7);
    if (!P.acc)
      for (int64_t i = 0; i < m; ++i) {
        float* y = P.c + i * n + jc;
        for (int64_t j = 0; j < w; ++j) y[j] = 0.0f;
      }
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float* b0 = P.b + p * n + jc;
      const float* b1 = b0 + n;
      const float* b2 = b1 + n;
      const float* b3 = b2 + n;
      for (int64_t i = 0; i < m; ++i) {
        const float a0s = P.A(i, p), a1s = P.A(i, p + 1), a2s = P.A(i, p + 2), a3s = P.A(i, p + 3);
        const __m256 a0 = _mm256_set1_ps(a0s), a1 = _mm256_set1_ps(a1s);
        const __m256 a2 = _mm256_set1_ps(a2s), a3 = _mm256_set1_ps(a3s);
        float* y = P.c + i * n + jc;
        int64_t j = 0;
        for (; j < wv; j += 8) {
          __m256 s = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b0 + j), _mm256_loadu_ps(y + j));
          __m256 t = _mm256_mul_ps(a1, _mm256_loadu_ps(b1 + j));
          s = _mm256_fmadd_ps(a2, _mm256_loadu_ps(b2 + j), s);
          t = _mm256_fmadd_ps(a3, _mm256_loadu_ps(b3 + j), t);
          _mm256_storeu_ps(y + j, _mm256_add_ps(s, t));
        }
        for (; j < w; ++j) y[j] += a0s * b0[j] + a1s * b1[j] + a2s * b2[j] + a3s * b3[j];
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

OLMO_AVX2 inline float HSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Dot products of R rows of x (row stride k) with 4 rows of W (row stride k), over k; out[r][q].
template <int R>
OLMO_AVX2 inline void Dots4(const float* x, const float* w, int64_t k, float out[][4]) {
  __m256 acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < 4; ++q) acc[r][q] = _mm256_setzero_ps();
  const int64_t kv = k & ~int64_t(7);
  for (int64_t p = 0; p < kv; p += 8) {
    const __m256 w0 = _mm256_loadu_ps(w + p), w1 = _mm256_loadu_ps(w + k + p);
    const __m256 w2 = _mm256_loadu_ps(w + 2 * k + p), w3 = _mm256_loadu_ps(w + 3 * k + p);
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_loadu_ps(x + r * k + p);
      acc[r][0] = _mm256_fmadd_ps(xv, w0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(xv, w1, acc[r][1]);
      acc[r][2] = _mm256_fmadd_ps(xv, w2, acc[r][2]);
      acc[r][3] = _mm256_fmadd_ps(xv, w3, acc[r][3]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < 4; ++q) {
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
  for (; j + 4 <= j1; j += 4) {
    const float* w = P.b + j * k;
    int64_t i = 0;
    for (; i + 3 <= m; i += 3) {
      float out[3][4];
      Dots4<3>(x + i * k, w, k, out);
      for (int r = 0; r < 3; ++r)
        for (int q = 0; q < 4; ++q) put(i + r, j + q, out[r][q]);
    }
    if (m - i == 2) {
      float out[2][4];
      Dots4<2>(x + i * k, w, k, out);
      for (int r = 0; r < 2; ++r)
        for (int q = 0; q < 4; ++q) put(i + r, j + q, out[r][q]);
    } else if (m - i == 1) {
      float out[1][4];
      Dots4<1>(x + i * k, w, k, out);
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
