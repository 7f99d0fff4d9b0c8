// One GEMM of the batch, as the kernels see it: C = op(A)·op(B) (C += … when accumulating), all row-major.
// Leading dimensions follow from the storage: A is M×K (lda = K) or, transposed, K×M (lda = M); B is K×N
// (ldb = N) or, transposed, N×K (ldb = K); C is M×N (ldc = N).
#pragma once
#include <cstdint>

namespace olmo {
namespace gemm {

// The order of every SIMD path (both micro-kernels and the skinny paths): each element of C is summed as
// one FMA chain over k, from 0, within each KC-deep slice of K; the slices are added to C in order. The
// order depends on neither the vector width nor M, so a row's result is the same on every SIMD path and
// whatever other rows share its GEMM. Chosen by measurement (KC 256..512 within ~3% on square sizes).
constexpr int64_t KC = 512;

struct Problem {
  const float* a;
  const float* b;
  float* c;
  int64_t m, n, k;
  bool ta, tb;
  bool acc;

  int64_t lda() const { return ta ? m : k; }
  int64_t ldb() const { return tb ? k : n; }
  // op(A)(i, p) and op(B)(p, j), for the simple paths.
  float A(int64_t i, int64_t p) const { return ta ? a[p * m + i] : a[i * k + p]; }
  float B(int64_t p, int64_t j) const { return tb ? b[j * k + p] : b[p * n + j]; }
};

// The portable path (CPUs without AVX2/FMA, and a test hook): plain loops, i-p-j order so B and C are
// walked along rows when B is not transposed; a dot product per element when it is.
inline void ScalarGemm(const Problem& P) {
  const int64_t m = P.m, n = P.n, k = P.k;
  for (int64_t i = 0; i < m; ++i) {
    float* crow = P.c + i * n;
    if (!P.acc)
      for (int64_t j = 0; j < n; ++j) crow[j] = 0.0f;
    if (P.tb) {
      for (int64_t j = 0; j < n; ++j) {
        float s = 0.0f;
        for (int64_t p = 0; p < k; ++p) s += P.A(i, p) * P.b[j * k + p];
        crow[j] += s;
      }
    } else {
      for (int64_t p = 0; p < k; ++p) {
        const float av = P.A(i, p);
        const float* brow = P.b + p * n;
        for (int64_t j = 0; j < n; ++j) crow[j] += av * brow[j];
      }
    }
  }
}

}  // namespace gemm
}  // namespace olmo
