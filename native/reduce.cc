// Reductions along one axis (sum, max/argmax, sum of squares), the row-wise softmax family and top-k.
//
// Each kernel has an AVX2/FMA path (chosen at run time) and a plain scalar path. Rows are split over the
// thread pool when a call touches at least kParallelMin elements; smaller calls run inline, since fork/join
// costs more than they take. Sums that feed a result directly are carried in float64 (short float32 vector
// partial sums are flushed into float64 every 32 elements), so the native results track the float64 js
// reference to float32 rounding.
//
// exp: vmath.h's Exp256 (degree-7 polynomial, ~1 ulp float32), only called with arguments ≤ ~0 here
// (x − rowmax, log-probabilities); inputs below ln(FLT_MIN) give 0, NaN gives NaN.
#include <immintrin.h>
#include <napi.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "force_scalar.h"
#include "napi_args.h"
#include "row_parallel.h"
#include "simd.h"
#include "threadpool.h"
#include "vmath.h"

namespace olmo {
namespace {

ScalarSwitch g_paths{"_reduceForceScalar"};

// ---------------------------------------------------------------------------------------------------
// AVX2 building blocks

OLMO_AVX2 float RowMaxAvx2(const float* x, int64_t n) {
  int64_t j = 0;
  float m = -std::numeric_limits<float>::infinity();
  if (n >= 8) {
    __m256 m0 = _mm256_loadu_ps(x), m1 = m0, m2 = m0, m3 = m0;
    for (; j + 32 <= n; j += 32) {
      m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + j));
      m1 = _mm256_max_ps(m1, _mm256_loadu_ps(x + j + 8));
      m2 = _mm256_max_ps(m2, _mm256_loadu_ps(x + j + 16));
      m3 = _mm256_max_ps(m3, _mm256_loadu_ps(x + j + 24));
    }
    for (; j + 8 <= n; j += 8) m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + j));
    m = HMax(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
  }
  for (; j < n; ++j) m = std::max(m, x[j]);
  return m;
}

// out[j] = exp(x[j] − m) when Store; returns Σ_j exp(x[j] − m) in float64.
template <bool Store>
OLMO_AVX2 double ExpSumAvx2(const float* x, float* out, int64_t n, float m) {
  const __m256 vm = _mm256_set1_ps(m);
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    __m256 e0 = Exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm));
    __m256 e1 = Exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), vm));
    __m256 e2 = Exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j + 16), vm));
    __m256 e3 = Exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j + 24), vm));
    if (Store) {
      _mm256_storeu_ps(out + j, e0);
      _mm256_storeu_ps(out + j + 8, e1);
      _mm256_storeu_ps(out + j + 16, e2);
      _mm256_storeu_ps(out + j + 24, e3);
    }
    AddToD(a0, a1, _mm256_add_ps(_mm256_add_ps(e0, e1), _mm256_add_ps(e2, e3)));
  }
  for (; j + 8 <= n; j += 8) {
    __m256 e = Exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm));
    if (Store) _mm256_storeu_ps(out + j, e);
    AddToD(a0, a1, e);
  }
  double s = HSumD(_mm256_add_pd(a0, a1));
  for (; j < n; ++j) {
    float e = std::exp(x[j] - m);
    if (Store) out[j] = e;
    s += e;
  }
  return s;
}

// Σ_j a[j]·b[j] (b null: Σ_j a[j]) with float32 products in blocks of 32 flushed into float64.
OLMO_AVX2 double DotAvx2(const float* a, const float* b, int64_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  int64_t j = 0;
  if (b != nullptr) {
    for (; j + 32 <= n; j += 32) {
      __m256 p0 = _mm256_mul_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j));
      __m256 p1 = _mm256_mul_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8));
      p0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 16), _mm256_loadu_ps(b + j + 16), p0);
      p1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 24), _mm256_loadu_ps(b + j + 24), p1);
      AddToD(a0, a1, _mm256_add_ps(p0, p1));
    }
    for (; j + 8 <= n; j += 8) AddToD(a0, a1, _mm256_mul_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j)));
  } else {
    for (; j + 32 <= n; j += 32) {
      __m256 p0 = _mm256_add_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(a + j + 8));
      __m256 p1 = _mm256_add_ps(_mm256_loadu_ps(a + j + 16), _mm256_loadu_ps(a + j + 24));
      AddToD(a0, a1, _mm256_add_ps(p0, p1));
    }
    for (; j + 8 <= n; j += 8) AddToD(a0, a1, _mm256_loadu_ps(a + j));
  }
  double s = HSumD(_mm256_add_pd(a0, a1));
  for (; j < n; ++j) s += b != nullptr ? static_cast<double>(a[j] * b[j]) : static_cast<double>(a[j]);
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Softmax family: one row at a time.

OLMO_AVX2 void SoftmaxRowAvx2(const float* x, float* out, int64_t n) {
  float m = RowMaxAvx2(x, n);
  double s = ExpSumAvx2<true>(x, out, n, m);
  const float inv = static_cast<float>(1.0 / s);
  const __m256 vi = _mm256_set1_ps(inv);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(out + j, _mm256_mul_ps(_mm256_loadu_ps(out + j), vi));
  for (; j < n; ++j) out[j] *= inv;
}

void SoftmaxRowScalar(const float* x, float* out, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) m = std::max(m, x[j]);
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += (out[j] = std::exp(x[j] - m));
  const float inv = static_cast<float>(1.0 / s);
  for (int64_t j = 0; j < n; ++j) out[j] *= inv;
}

OLMO_AVX2 void LogSoftmaxRowAvx2(const float* x, float* out, int64_t n) {
  float m = RowMaxAvx2(x, n);
  const float ls = static_cast<float>(std::log(ExpSumAvx2<false>(x, nullptr, n, m)));
  const __m256 vm = _mm256_set1_ps(m), vl = _mm256_set1_ps(ls);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(out + j, _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm), vl));
  for (; j < n; ++j) out[j] = (x[j] - m) - ls;
}

void LogSoftmaxRowScalar(const float* x, float* out, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) m = std::max(m, x[j]);
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += std::exp(x[j] - m);
  const float ls = static_cast<float>(std::log(s));
  for (int64_t j = 0; j < n; ++j) out[j] = (x[j] - m) - ls;
}

// gx = y ⊙ (gy − Σ gy·y)
OLMO_AVX2 void SoftmaxBackwardRowAvx2(const float* y, const float* gy, float* gx, int64_t n) {
  const float d = static_cast<float>(DotAvx2(gy, y, n));
  const __m256 vd = _mm256_set1_ps(d);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(gx + j, _mm256_mul_ps(_mm256_loadu_ps(y + j), _mm256_sub_ps(_mm256_loadu_ps(gy + j), vd)));
  for (; j < n; ++j) gx[j] = y[j] * (gy[j] - d);
}

void SoftmaxBackwardRowScalar(const float* y, const float* gy, float* gx, int64_t n) {
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += static_cast<double>(gy[j]) * y[j];
  const float d = static_cast<float>(s);
  for (int64_t j = 0; j < n; ++j) gx[j] = y[j] * (gy[j] - d);
}

// gx = gy − exp(y)·Σ gy
OLMO_AVX2 void LogSoftmaxBackwardRowAvx2(const float* y, const float* gy, float* gx, int64_t n) {
  const float s = static_cast<float>(DotAvx2(gy, nullptr, n));
  const __m256 vs = _mm256_set1_ps(s);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(gx + j, _mm256_fnmadd_ps(Exp256(_mm256_loadu_ps(y + j)), vs, _mm256_loadu_ps(gy + j)));
  for (; j < n; ++j) gx[j] = gy[j] - std::exp(y[j]) * s;
}

void LogSoftmaxBackwardRowScalar(const float* y, const float* gy, float* gx, int64_t n) {
  double acc = 0;
  for (int64_t j = 0; j < n; ++j) acc += gy[j];
  const float s = static_cast<float>(acc);
  for (int64_t j = 0; j < n; ++j) gx[j] = gy[j] - std::exp(y[j]) * s;
}

// ---------------------------------------------------------------------------------------------------
// reduceSum over [outer, len, inner] in float64.

OLMO_AVX2 double SumRowAvx2(const float* x, int64_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), a2 = _mm256_setzero_pd(),
          a3 = _mm256_setzero_pd();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256 v0 = _mm256_loadu_ps(x + j), v1 = _mm256_loadu_ps(x + j + 8);
    a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(v0)));
    a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(v0, 1)));
    a2 = _mm256_add_pd(a2, _mm256_cvtps_pd(_mm256_castps256_ps128(v1)));
    a3 = _mm256_add_pd(a3, _mm256_cvtps_pd(_mm256_extractf128_ps(v1, 1)));
  }
  double s = HSumD(_mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  for (; j < n; ++j) s += x[j];
  return s;
}

// acc[i] += x[i] for i < n (acc float64).
OLMO_AVX2 void AccumulateAvx2(double* acc, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    _mm256_storeu_pd(acc + i, _mm256_add_pd(_mm256_loadu_pd(acc + i), _mm256_cvtps_pd(_mm256_castps256_ps128(v))));
    _mm256_storeu_pd(acc + i + 4,
                     _mm256_add_pd(_mm256_loadu_pd(acc + i + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
  }
  for (; i < n; ++i) acc[i] += x[i];
}

// acc[i] += x[i] + x[s+i] + x[2s+i] + x[3s+i] (each converted to float64 first): four rows per pass over
// acc, so the float64 tile is loaded and stored a quarter as often.
OLMO_AVX2 void Accumulate4Avx2(double* acc, const float* x, int64_t s, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256d lo = _mm256_loadu_pd(acc + i), hi = _mm256_loadu_pd(acc + i + 4);
    for (int r = 0; r < 4; ++r) {
      __m256 v = _mm256_loadu_ps(x + r * s + i);
      lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
      hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    _mm256_storeu_pd(acc + i, lo);
    _mm256_storeu_pd(acc + i + 4, hi);
  }
  for (; i < n; ++i)
    acc[i] = (((acc[i] + x[i]) + x[s + i]) + x[2 * s + i]) + static_cast<double>(x[3 * s + i]);
}

double SumRow(const float* x, int64_t n) {
  if (g_paths.UseAvx2()) return SumRowAvx2(x, n);
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += x[j];
  return s;
}

void Accumulate(double* acc, const float* x, int64_t n) {
  if (g_paths.UseAvx2()) return AccumulateAvx2(acc, x, n);
  for (int64_t i = 0; i < n; ++i) acc[i] += x[i];
}

constexpr int64_t kSumChunk = 65536;  // contiguous sums are split into fixed chunks (deterministic)
constexpr int64_t kInnerTile = 512;   // strided sums accumulate this many outputs at a time

void ReduceSumImpl(const float* x, float* out, int64_t outer, int64_t len, int64_t inner) {
  const int64_t total = outer * len * inner;
  if (inner == 1) {
    // Contiguous: fixed chunks of len, partial sums combined in chunk order, whatever the thread count.
    const int64_t nchunk = std::max<int64_t>(1, (len + kSumChunk - 1) / kSumChunk);
    std::vector<double> part(static_cast<size_t>(outer * nchunk), 0.0);
    auto task = [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        int64_t o = t / nchunk, c = t % nchunk;
        int64_t b = c * kSumChunk, e = std::min(len, b + kSumChunk);
        part[t] = SumRow(x + o * len + b, e - b);
      }
    };
    const int64_t tasks = outer * nchunk;
    if (total < kParallelMin) {
      task(0, tasks);
    } else {
      int64_t per = std::max<int64_t>(1, len / nchunk);
      parallel_for(tasks, std::max<int64_t>(1, (kParallelMin / 2) / per), task);
    }
    for (int64_t o = 0; o < outer; ++o) {
      double s = 0;
      for (int64_t c = 0; c < nchunk; ++c) s += part[o * nchunk + c];
      out[o] = static_cast<float>(s);
    }
    return;
  }
  // Strided: tiles of (o, inner block), each summing over len into a float64 tile.
  const int64_t ntile = (inner + kInnerTile - 1) / kInnerTile;
  auto task = [&](int64_t t0, int64_t t1) {
    double acc[kInnerTile];
    for (int64_t t = t0; t < t1; ++t) {
      int64_t o = t / ntile, i0 = (t % ntile) * kInnerTile, ni = std::min(kInnerTile, inner - i0);
      std::fill(acc, acc + ni, 0.0);
      const float* base = x + o * len * inner + i0;
      int64_t l = 0;
      if (g_paths.UseAvx2())
        for (; l + 4 <= len; l += 4) Accumulate4Avx2(acc, base + l * inner, inner, ni);
      for (; l < len; ++l) Accumulate(acc, base + l * inner, ni);
      float* dst = out + o * inner + i0;
      for (int64_t i = 0; i < ni; ++i) dst[i] = static_cast<float>(acc[i]);
    }
  };
  const int64_t tasks = outer * ntile;
  if (total < kParallelMin) {
    task(0, tasks);
  } else {
    int64_t per = std::max<int64_t>(1, len * std::min(inner, kInnerTile));
    parallel_for(tasks, std::max<int64_t>(1, (kParallelMin / 2) / per), task);
  }
}

// ---------------------------------------------------------------------------------------------------
// reduceMax with argmax: first index of the max; a NaN is the max (first NaN's index).

// v replaces the running max m when strictly greater, or when v is the first NaN.
inline bool Beats(float v, float m) { return v > m || (std::isnan(v) && !std::isnan(m)); }

OLMO_AVX2 inline __m256 BeatsMask(__m256 v, __m256 m) {
  return _mm256_or_ps(_mm256_cmp_ps(v, m, _CMP_GT_OQ),
                      _mm256_andnot_ps(_mm256_cmp_ps(m, m, _CMP_UNORD_Q), _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
}

// Max/argmax over l of x[l·inner + i] for each i < ni.
void MaxScalar(const float* x, int64_t len, int64_t inner, int64_t ni, float* outv, int32_t* outi) {
  for (int64_t i = 0; i < ni; ++i) {
    float m = x[i];
    int32_t mi = 0;
    for (int64_t l = 1; l < len; ++l) {
      float v = x[l * inner + i];
      if (Beats(v, m)) m = v, mi = static_cast<int32_t>(l);
    }
    outv[i] = m;
    outi[i] = mi;
  }
}

// Contiguous row: per-lane running max/index (strictly greater replaces, so each lane keeps its first
// index), then lanes merged by (NaN first, larger value, lower index).
OLMO_AVX2 void MaxRowAvx2(const float* x, int64_t n, float* outv, int32_t* outi) {
  __m256 best = _mm256_loadu_ps(x);
  __m256i bidx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i idx = bidx;
  const __m256i eight = _mm256_set1_epi32(8);
  int64_t j = 8;
  for (; j + 8 <= n; j += 8) {
    idx = _mm256_add_epi32(idx, eight);
    __m256 v = _mm256_loadu_ps(x + j);
    __m256 take = BeatsMask(v, best);
    best = _mm256_blendv_ps(best, v, take);
    bidx = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bidx), _mm256_castsi256_ps(idx), take));
  }
  alignas(32) float bv[8];
  alignas(32) int32_t bi[8];
  _mm256_store_ps(bv, best);
  _mm256_store_si256(reinterpret_cast<__m256i*>(bi), bidx);
  float m = bv[0];
  int32_t mi = bi[0];
  for (int l = 1; l < 8; ++l) {
    bool mn = std::isnan(m), vn = std::isnan(bv[l]);
    bool better = vn ? (!mn || bi[l] < mi) : (!mn && (bv[l] > m || (bv[l] == m && bi[l] < mi)));
    if (better) m = bv[l], mi = bi[l];
  }
  for (; j < n; ++j) {
    if (Beats(x[j], m)) m = x[j], mi = static_cast<int32_t>(j);
  }
  *outv = m;
  *outi = mi;
}

// Strided: for one o, update an inner tile of running max/index with each l.
OLMO_AVX2 void MaxStridedAvx2(const float* x, int64_t len, int64_t inner, int64_t ni, float* outv, int32_t* outi) {
  int64_t i = 0;
  for (; i + 8 <= ni; i += 8) {
    __m256 best = _mm256_loadu_ps(x + i);
    __m256i bidx = _mm256_setzero_si256();
    for (int64_t l = 1; l < len; ++l) {
      __m256 v = _mm256_loadu_ps(x + l * inner + i);
      __m256 take = BeatsMask(v, best);
      best = _mm256_blendv_ps(best, v, take);
      bidx = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bidx),
                                                  _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int32_t>(l))),
                                                  take));
    }
    _mm256_storeu_ps(outv + i, best);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(outi + i), bidx);
  }
  MaxScalar(x + i, len, inner, ni - i, outv + i, outi + i);
}

void ReduceMaxImpl(const float* x, float* out, int32_t* arg, int64_t outer, int64_t len, int64_t inner) {
  const bool avx = g_paths.UseAvx2();
  if (inner == 1) {
    ForEachRow(outer, len, [&](int64_t o) {
      if (avx && len >= 8)
        MaxRowAvx2(x + o * len, len, out + o, arg + o);
      else
        MaxScalar(x + o * len, len, 1, 1, out + o, arg + o);
    });
    return;
  }
  const int64_t ntile = (inner + kInnerTile - 1) / kInnerTile;
  const int64_t tileElems = len * std::min(inner, kInnerTile);
  ForRows(outer * ntile, tileElems, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      int64_t o = t / ntile, i0 = (t % ntile) * kInnerTile, ni = std::min(kInnerTile, inner - i0);
      const float* base = x + o * len * inner + i0;
      if (avx)
        MaxStridedAvx2(base, len, inner, ni, out + o * inner + i0, arg + o * inner + i0);
      else
        MaxScalar(base, len, inner, ni, out + o * inner + i0, arg + o * inner + i0);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// sumSquares in float64 (fixed chunks combined in order: the same result for any thread count).

OLMO_AVX2 double SumSquaresAvx2(const float* x, int64_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), a2 = _mm256_setzero_pd(),
          a3 = _mm256_setzero_pd();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256 v0 = _mm256_loadu_ps(x + j), v1 = _mm256_loadu_ps(x + j + 8);
    __m256d d0 = _mm256_cvtps_pd(_mm256_castps256_ps128(v0)), d1 = _mm256_cvtps_pd(_mm256_extractf128_ps(v0, 1));
    __m256d d2 = _mm256_cvtps_pd(_mm256_castps256_ps128(v1)), d3 = _mm256_cvtps_pd(_mm256_extractf128_ps(v1, 1));
    a0 = _mm256_fmadd_pd(d0, d0, a0);
    a1 = _mm256_fmadd_pd(d1, d1, a1);
    a2 = _mm256_fmadd_pd(d2, d2, a2);
    a3 = _mm256_fmadd_pd(d3, d3, a3);
  }
  double s = HSumD(_mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  for (; j < n; ++j) s += static_cast<double>(x[j]) * x[j];
  return s;
}

double SumSquaresImpl(const float* x, int64_t n) {
  const bool avx = g_paths.UseAvx2();
  auto chunk = [&](const float* p, int64_t m) {
    if (avx) return SumSquaresAvx2(p, m);
    double s = 0;
    for (int64_t j = 0; j < m; ++j) s += static_cast<double>(p[j]) * p[j];
    return s;
  };
  const int64_t nchunk = std::max<int64_t>(1, (n + kSumChunk - 1) / kSumChunk);
  std::vector<double> part(static_cast<size_t>(nchunk), 0.0);
  auto task = [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t b = c * kSumChunk;
      part[c] = chunk(x + b, std::min(n, b + kSumChunk) - b);
    }
  };
  if (n < kParallelMin)
    task(0, nchunk);
  else
    parallel_for(nchunk, 1, task);
  double s = 0;
  for (double p : part) s += p;
  return s;
}

// ---------------------------------------------------------------------------------------------------
// topk: a bounded heap per row whose front is the worst kept element; "better" = larger value, NaN above
// every number, lower index on ties. Sorted best first at the end.

struct Cand {
  float v;
  int32_t i;
};

inline bool Better(const Cand& a, const Cand& b) {
  bool an = std::isnan(a.v), bn = std::isnan(b.v);
  if (an || bn) return an && (!bn || a.i < b.i);
  if (a.v != b.v) return a.v > b.v;
  return a.i < b.i;
}

// Later indices lose ties, so only a strictly larger value (or a NaN, while the worst kept is a number)
// can enter the heap. Returns the first such index ≥ j, or n.
int64_t NextCandidateScalar(const float* x, int64_t j, int64_t n, float worst) {
  if (std::isnan(worst)) return n;
  for (; j < n; ++j)
    if (x[j] > worst || std::isnan(x[j])) return j;
  return n;
}

OLMO_AVX2 int64_t NextCandidateAvx2(const float* x, int64_t j, int64_t n, float worst) {
  if (std::isnan(worst)) return n;
  const __m256 w = _mm256_set1_ps(worst);
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_loadu_ps(x + j);
    int m = _mm256_movemask_ps(_mm256_or_ps(_mm256_cmp_ps(v, w, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    if (m != 0) return j + __builtin_ctz(static_cast<unsigned>(m));
  }
  return NextCandidateScalar(x, j, n, worst);
}

void TopkRow(const float* x, int64_t n, int64_t k, float* vals, int32_t* idx, std::vector<Cand>& heap) {
  heap.clear();
  for (int64_t j = 0; j < k; ++j) heap.push_back({x[j], static_cast<int32_t>(j)});
  std::make_heap(heap.begin(), heap.end(), Better);
  const auto next = g_paths.UseAvx2() ? NextCandidateAvx2 : NextCandidateScalar;
  for (int64_t j = next(x, k, n, heap.front().v); j < n; j = next(x, j + 1, n, heap.front().v)) {
    const float v = x[j];
    std::pop_heap(heap.begin(), heap.end(), Better);
    heap.back() = {v, static_cast<int32_t>(j)};
    std::push_heap(heap.begin(), heap.end(), Better);
  }
  std::sort_heap(heap.begin(), heap.end(), Better);
  for (int64_t j = 0; j < k; ++j) {
    vals[j] = heap[j].v;
    idx[j] = heap[j].i;
  }
}

// ---------------------------------------------------------------------------------------------------
// N-API entry points

using RowFn = void (*)(const float*, float*, int64_t);
using RowFn2 = void (*)(const float*, const float*, float*, int64_t);

// (x, out, rows, cols): out row r = row(x row r).
Napi::Value RowForward(const Napi::CallbackInfo& info, const char* op, RowFn avx, RowFn scalar) {
  const Args A(info);
  int64_t rows = A.Size("rows"), cols = A.Size("cols");
  int64_t n = CheckedMul(info, op, rows, cols);
  const float* x = A.F32("x", n);
  float* out = A.F32("out", n);
  RowFn row = g_paths.UseAvx2() ? avx : scalar;
  if (cols > 0) ForEachRow(rows, cols, [&](int64_t r) { row(x + r * cols, out + r * cols, cols); });
  return info.Env().Undefined();
}

// (y, gy, gx, rows, cols): gx row r = row(y row r, gy row r).
Napi::Value RowBackward(const Napi::CallbackInfo& info, const char* op, RowFn2 avx, RowFn2 scalar) {
  const Args A(info);
  int64_t rows = A.Size("rows"), cols = A.Size("cols");
  int64_t n = CheckedMul(info, op, rows, cols);
  const float* y = A.F32("y", n);
  const float* gy = A.F32("gy", n);
  float* gx = A.F32("gx", n);
  RowFn2 row = g_paths.UseAvx2() ? avx : scalar;
  if (cols > 0)
    ForEachRow(rows, cols, [&](int64_t r) { row(y + r * cols, gy + r * cols, gx + r * cols, cols); });
  return info.Env().Undefined();
}

Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return RowForward(info, "softmax", SoftmaxRowAvx2, SoftmaxRowScalar);
}

Napi::Value LogSoftmax(const Napi::CallbackInfo& info) {
  return RowForward(info, "logSoftmax", LogSoftmaxRowAvx2, LogSoftmaxRowScalar);
}

Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  return RowBackward(info, "softmaxBackward", SoftmaxBackwardRowAvx2, SoftmaxBackwardRowScalar);
}

Napi::Value LogSoftmaxBackward(const Napi::CallbackInfo& info) {
  return RowBackward(info, "logSoftmaxBackward", LogSoftmaxBackwardRowAvx2, LogSoftmaxBackwardRowScalar);
}

Napi::Value ReduceSum(const Napi::CallbackInfo& info) {
  const char* op = "reduceSum";
  const Args A(info);
  int64_t outer = A.Size("outer"), len = A.Size("len");
  int64_t inner = A.Size("inner");
  int64_t nOut = CheckedMul(info, op, outer, inner);
  const float* x = A.F32("x", CheckedMul(info, op, nOut, len));
  float* out = A.F32("out", nOut);
  if (nOut > 0) ReduceSumImpl(x, out, outer, len, inner);
  return info.Env().Undefined();
}

Napi::Value ReduceMax(const Napi::CallbackInfo& info) {
  const char* op = "reduceMax";
  const Args A(info);
  int64_t outer = A.Size("outer"), len = A.Size("len");
  int64_t inner = A.Size("inner");
  if (len < 1) throw ArgError(info, op, "argument 'len' must be at least 1 (max over an empty axis)");
  if (len > INT32_MAX) throw ArgError(info, op, "argument 'len' does not fit an Int32 index");
  int64_t nOut = CheckedMul(info, op, outer, inner);
  const float* x = A.F32("x", CheckedMul(info, op, nOut, len));
  float* out = A.F32("out", nOut);
  int32_t* arg = A.I32("argmax", nOut);
  if (nOut > 0) ReduceMaxImpl(x, out, arg, outer, len, inner);
  return info.Env().Undefined();
}

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  const Args A(info);
  int64_t n = A.Size("n");
  const float* x = A.F32("x", n);
  return Napi::Number::New(info.Env(), SumSquaresImpl(x, n));
}

Napi::Value Topk(const Napi::CallbackInfo& info) {
  const char* op = "topk";
  const Args A(info);
  int64_t rows = A.Size("rows"), cols = A.Size("cols");
  int64_t k = A.Size("k");
  if (k < 1 || k > cols)
    throw ArgError(info, op, "argument 'k' must be in [1, cols=" + std::to_string(cols) + "], got " + std::to_string(k));
  if (cols > INT32_MAX) throw ArgError(info, op, "argument 'cols' does not fit an Int32 index");
  const float* x = A.F32("x", CheckedMul(info, op, rows, cols));
  float* vals = A.F32("values", CheckedMul(info, op, rows, k));
  int32_t* idx = A.I32("indices", CheckedMul(info, op, rows, k));
  ForRows(rows, cols, [&](int64_t r0, int64_t r1) {
    std::vector<Cand> heap;
    heap.reserve(static_cast<size_t>(k));
    for (int64_t r = r0; r < r1; ++r) TopkRow(x + r * cols, cols, k, vals + r * k, idx + r * k, heap);
  });
  return info.Env().Undefined();
}

}  // namespace

void RegisterReduce(Napi::Env env, Napi::Object exports) {
  static const KernelDef kKernels[] = {
      {"reduceSum", "x:f32 out:f32 outer:size len:size inner:size", ReduceSum},
      {"reduceMax", "x:f32 out:f32 argmax:i32 outer:size len:size inner:size", ReduceMax},
      {"sumSquares", "x:f32 n:size -> num", SumSquares},
      {"softmax", "x:f32 out:f32 rows:size cols:size", Softmax},
      {"softmaxBackward", "y:f32 gy:f32 gx:f32 rows:size cols:size", SoftmaxBackward},
      {"logSoftmax", "x:f32 out:f32 rows:size cols:size", LogSoftmax},
      {"logSoftmaxBackward", "y:f32 gy:f32 gx:f32 rows:size cols:size", LogSoftmaxBackward},
      {"topk", "x:f32 values:f32 indices:i32 rows:size cols:size k:size", Topk},
  };
  RegisterKernels(env, exports, kKernels);
  g_paths.RegisterHook(env, exports);
}

}  // namespace olmo
