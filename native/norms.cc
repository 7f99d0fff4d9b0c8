// RMSNorm (weighted or not) and non-parametric LayerNorm, forward and backward, over the last axis.
//
// One row at a time: a reduction pass then a write pass over a row that is still in L1/L2. AVX2/FMA paths
// are chosen at run time, with scalar fallbacks. Rows go to the thread pool when a call touches at least
// kParallelMin elements.
//
// rmsNormBackward's gw = Σ_r gy·x·rstd is a reduction over rows. It is made deterministic and independent
// of the thread count: rows are cut into a fixed number of blocks (depending on rows only), each block
// sums its rows in order into its own float64 partial vector, and the partials are added in block order.
#include <immintrin.h>
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "force_scalar.h"
#include "napi_args.h"
#include "row_parallel.h"
#include "simd.h"
#include "threadpool.h"
#include "vmath.h"

namespace olmo {
namespace {

ScalarSwitch g_paths{"_normsForceScalar"};

constexpr int64_t kGwBlocks = 16;  // fixed row blocks for the gw reduction

// ---------------------------------------------------------------------------------------------------
// RMSNorm forward: rstd = 1/sqrt(mean(x²) + eps) with the mean of squares in float32 (as transformers);
// out = (x·rstd)·w, or with a residual (residualRmsNorm) out = res + (x·rstd)·w: the same products, then the add
// rmsNorm's caller would make, so the bits of the two ops.

OLMO_AVX2 void RmsRowAvx2(const float* x, const float* w, const float* res, float* out, float* rstd, int64_t n,
                          float eps) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + 8);
    __m256 c = _mm256_loadu_ps(x + j + 16), d = _mm256_loadu_ps(x + j + 24);
    s0 = _mm256_fmadd_ps(a, a, s0);
    s1 = _mm256_fmadd_ps(b, b, s1);
    s2 = _mm256_fmadd_ps(c, c, s2);
    s3 = _mm256_fmadd_ps(d, d, s3);
  }
  for (; j + 8 <= n; j += 8) {
    __m256 a = _mm256_loadu_ps(x + j);
    s0 = _mm256_fmadd_ps(a, a, s0);
  }
  float ss = HSum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; j < n; ++j) ss += x[j] * x[j];
  const float r = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  *rstd = r;
  const __m256 vr = _mm256_set1_ps(r);
  j = 0;
  if (w != nullptr) {
    for (; j + 8 <= n; j += 8) {
      const __m256 y = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j), vr), _mm256_loadu_ps(w + j));
      _mm256_storeu_ps(out + j, res != nullptr ? _mm256_add_ps(_mm256_loadu_ps(res + j), y) : y);
    }
    for (; j < n; ++j) {
      const float y = (x[j] * r) * w[j];
      out[j] = res != nullptr ? res[j] + y : y;
    }
  } else {
    for (; j + 8 <= n; j += 8) {
      const __m256 y = _mm256_mul_ps(_mm256_loadu_ps(x + j), vr);
      _mm256_storeu_ps(out + j, res != nullptr ? _mm256_add_ps(_mm256_loadu_ps(res + j), y) : y);
    }
    for (; j < n; ++j) {
      const float y = x[j] * r;
      out[j] = res != nullptr ? res[j] + y : y;
    }
  }
}

void RmsRowScalar(const float* x, const float* w, const float* res, float* out, float* rstd, int64_t n, float eps) {
  float ss = 0;
  for (int64_t j = 0; j < n; ++j) ss += x[j] * x[j];
  const float r = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  *rstd = r;
  for (int64_t j = 0; j < n; ++j) {
    const float y = w != nullptr ? (x[j] * r) * w[j] : x[j] * r;
    out[j] = res != nullptr ? res[j] + y : y;
  }
}

// ---------------------------------------------------------------------------------------------------
// RMSNorm backward for one row: g = gy·w, xhat = x·rstd, gx = rstd·(g − xhat·mean(g·xhat));
// gwAcc[j] += gy·xhat (float64) when gwAcc is non-null. gx may alias gy or x.

OLMO_AVX2 void RmsBackRowAvx2(const float* x, const float* w, float r, const float* gy, float* gx, double* gwAcc,
                              int64_t n) {
  const __m256 vr = _mm256_set1_ps(r);
  __m256d d0 = _mm256_setzero_pd(), d1 = _mm256_setzero_pd();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256 g0 = _mm256_loadu_ps(gy + j), g1 = _mm256_loadu_ps(gy + j + 8);
    if (w != nullptr) g0 = _mm256_mul_ps(g0, _mm256_loadu_ps(w + j)), g1 = _mm256_mul_ps(g1, _mm256_loadu_ps(w + j + 8));
    __m256 p = _mm256_mul_ps(g0, _mm256_mul_ps(_mm256_loadu_ps(x + j), vr));
    p = _mm256_fmadd_ps(g1, _mm256_mul_ps(_mm256_loadu_ps(x + j + 8), vr), p);
    AddToD(d0, d1, p);
  }
  for (; j + 8 <= n; j += 8) {
    __m256 g = _mm256_loadu_ps(gy + j);
    if (w != nullptr) g = _mm256_mul_ps(g, _mm256_loadu_ps(w + j));
    AddToD(d0, d1, _mm256_mul_ps(g, _mm256_mul_ps(_mm256_loadu_ps(x + j), vr)));
  }
  double dot = HSumD(_mm256_add_pd(d0, d1));
  for (; j < n; ++j) dot += static_cast<double>((w != nullptr ? gy[j] * w[j] : gy[j]) * (x[j] * r));
  const float c = static_cast<float>(dot / static_cast<double>(n));
  const __m256 vc = _mm256_set1_ps(c);
  j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 gyv = _mm256_loadu_ps(gy + j);
    __m256 xh = _mm256_mul_ps(_mm256_loadu_ps(x + j), vr);
    __m256 g = w != nullptr ? _mm256_mul_ps(gyv, _mm256_loadu_ps(w + j)) : gyv;
    if (gwAcc != nullptr) {
      __m256 t = _mm256_mul_ps(gyv, xh);
      _mm256_storeu_pd(gwAcc + j, _mm256_add_pd(_mm256_loadu_pd(gwAcc + j), _mm256_cvtps_pd(_mm256_castps256_ps128(t))));
      _mm256_storeu_pd(gwAcc + j + 4,
                       _mm256_add_pd(_mm256_loadu_pd(gwAcc + j + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(t, 1))));
    }
    _mm256_storeu_ps(gx + j, _mm256_mul_ps(vr, _mm256_fnmadd_ps(xh, vc, g)));
  }
  for (; j < n; ++j) {
    const float xh = x[j] * r, gyj = gy[j];
    const float g = w != nullptr ? gyj * w[j] : gyj;
    if (gwAcc != nullptr) gwAcc[j] += gyj * xh;
    gx[j] = r * (g - xh * c);
  }
}

void RmsBackRowScalar(const float* x, const float* w, float r, const float* gy, float* gx, double* gwAcc, int64_t n) {
  double dot = 0;
  for (int64_t j = 0; j < n; ++j) dot += static_cast<double>((w != nullptr ? gy[j] * w[j] : gy[j]) * (x[j] * r));
  const float c = static_cast<float>(dot / static_cast<double>(n));
  for (int64_t j = 0; j < n; ++j) {
    const float xh = x[j] * r, gyj = gy[j];
    const float g = w != nullptr ? gyj * w[j] : gyj;
    if (gwAcc != nullptr) gwAcc[j] += gyj * xh;
    gx[j] = r * (g - xh * c);
  }
}

// ---------------------------------------------------------------------------------------------------
// LayerNorm (non-parametric, biased variance). The mean is kept as a float pair (hi + lo) so x − mean is
// centred almost exactly in float32, as the float64 reference does.

OLMO_AVX2 double SumAvx2(const float* x, int64_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  int64_t j = 0;
  // Each float goes straight into float64 (no float32 pre-adds): the mean is as exact as the reference's.
  for (; j + 8 <= n; j += 8) AddToD(a0, a1, _mm256_loadu_ps(x + j));
  double s = HSumD(_mm256_add_pd(a0, a1));
  for (; j < n; ++j) s += x[j];
  return s;
}

OLMO_AVX2 void LayerRowAvx2(const float* x, float* out, float* meanOut, float* rstdOut, int64_t n, double eps) {
  const double mean = SumAvx2(x, n) / static_cast<double>(n);
  const float mh = static_cast<float>(mean), ml = static_cast<float>(mean - mh);
  const __m256 vmh = _mm256_set1_ps(mh), vml = _mm256_set1_ps(ml);
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256 c0 = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmh), vml);
    __m256 c1 = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), vmh), vml);
    AddToD(a0, a1, _mm256_fmadd_ps(c1, c1, _mm256_mul_ps(c0, c0)));
  }
  for (; j + 8 <= n; j += 8) {
    __m256 c0 = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmh), vml);
    AddToD(a0, a1, _mm256_mul_ps(c0, c0));
  }
  double var = HSumD(_mm256_add_pd(a0, a1));
  for (; j < n; ++j) {
    const float c = (x[j] - mh) - ml;
    var += c * c;
  }
  var /= static_cast<double>(n);
  const float r = static_cast<float>(1.0 / std::sqrt(var + eps));
  *meanOut = mh;
  *rstdOut = r;
  const __m256 vr = _mm256_set1_ps(r);
  j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(out + j, _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmh), vml), vr));
  for (; j < n; ++j) out[j] = ((x[j] - mh) - ml) * r;
}

void LayerRowScalar(const float* x, float* out, float* meanOut, float* rstdOut, int64_t n, double eps) {
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += x[j];
  const double mean = s / static_cast<double>(n);
  const float mh = static_cast<float>(mean), ml = static_cast<float>(mean - mh);
  double var = 0;
  for (int64_t j = 0; j < n; ++j) {
    const float c = (x[j] - mh) - ml;
    var += c * c;
  }
  var /= static_cast<double>(n);
  const float r = static_cast<float>(1.0 / std::sqrt(var + eps));
  *meanOut = mh;
  *rstdOut = r;
  for (int64_t j = 0; j < n; ++j) out[j] = ((x[j] - mh) - ml) * r;
}

// gx = rstd·(gy − mean(gy) − xhat·mean(gy·xhat)), xhat = (x − mean)·rstd. gx may alias gy or x.
OLMO_AVX2 void LayerBackRowAvx2(const float* x, float m, float r, const float* gy, float* gx, int64_t n) {
  const __m256 vm = _mm256_set1_ps(m), vr = _mm256_set1_ps(r);
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd(), d0 = _mm256_setzero_pd(), d1 = _mm256_setzero_pd();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 g = _mm256_loadu_ps(gy + j);
    __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm), vr);
    AddToD(s0, s1, g);
    AddToD(d0, d1, _mm256_mul_ps(g, xh));
  }
  double sg = HSumD(_mm256_add_pd(s0, s1)), sgx = HSumD(_mm256_add_pd(d0, d1));
  for (; j < n; ++j) {
    const float xh = (x[j] - m) * r;
    sg += gy[j];
    sgx += gy[j] * xh;
  }
  const float a = static_cast<float>(sg / static_cast<double>(n));
  const float b = static_cast<float>(sgx / static_cast<double>(n));
  const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
  j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm), vr);
    __m256 t = _mm256_fnmadd_ps(xh, vb, _mm256_sub_ps(_mm256_loadu_ps(gy + j), va));
    _mm256_storeu_ps(gx + j, _mm256_mul_ps(vr, t));
  }
  for (; j < n; ++j) {
    const float xh = (x[j] - m) * r;
    gx[j] = r * ((gy[j] - a) - xh * b);
  }
}

void LayerBackRowScalar(const float* x, float m, float r, const float* gy, float* gx, int64_t n) {
  double sg = 0, sgx = 0;
  for (int64_t j = 0; j < n; ++j) {
    const float xh = (x[j] - m) * r;
    sg += gy[j];
    sgx += gy[j] * xh;
  }
  const float a = static_cast<float>(sg / static_cast<double>(n));
  const float b = static_cast<float>(sgx / static_cast<double>(n));
  for (int64_t j = 0; j < n; ++j) {
    const float xh = (x[j] - m) * r;
    gx[j] = r * ((gy[j] - a) - xh * b);
  }
}

// ---------------------------------------------------------------------------------------------------
// N-API entry points

double EpsArg(const Args& A) {
  double eps = A.Num("eps");
  if (!(eps >= 0) || !std::isfinite(eps))
    throw ArgError(A.info(), A.op(), "argument 'eps' must be a finite non-negative number, got " + std::to_string(eps));
  return eps;
}

// rmsNorm, and residualRmsNorm (with `res`): the same rows, plus the residual.
Napi::Value RmsNormRows(const Napi::CallbackInfo& info, const char* op, bool residual) {
  const Args A(info);
  int64_t rows = A.Size("rows"), cols = A.Size("cols");
  const float eps = static_cast<float>(EpsArg(A));
  int64_t n = CheckedMul(info, op, rows, cols);
  const float* res = residual ? A.F32("res", n) : nullptr;
  const float* x = A.F32("x", n);
  const float* w = A.OptF32("w", cols);
  float* out = A.F32("out", n);
  float* rstd = A.F32("rstd", rows);
  const bool avx = g_paths.UseAvx2();
  ForEachRow(rows, cols, [&](int64_t r) {
    const float* rr = res != nullptr ? res + r * cols : nullptr;
    if (avx)
      RmsRowAvx2(x + r * cols, w, rr, out + r * cols, rstd + r, cols, eps);
    else
      RmsRowScalar(x + r * cols, w, rr, out + r * cols, rstd + r, cols, eps);
  });
  return info.Env().Undefined();
}

Napi::Value RmsNorm(const Napi::CallbackInfo& info) { return RmsNormRows(info, "rmsNorm", false); }
Napi::Value ResidualRmsNorm(const Napi::CallbackInfo& info) { return RmsNormRows(info, "residualRmsNorm", true); }

Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  const char* op = "rmsNormBackward";
  const Args A(info);
  int64_t rows = A.Size("rows"), cols = A.Size("cols");
  int64_t n = CheckedMul(info, op, rows, cols);
  const float* x = A.F32("x", n);
  const float* w = A.OptF32("w", cols);
  const float* rstd = A.F32("rstd", rows);
  const float* gy = A.F32("gy", n);
  float* gx = A.F32("gx", n);
  // gw is only meaningful with a weight; with w null it is ignored (not written).
  float* gw = A.OptF32("gw", w != nullptr ? cols : 0);
  if (w == nullptr) gw = nullptr;
  const bool avx = g_paths.UseAvx2();
  auto rowRange = [&](int64_t r0, int64_t r1, double* acc) {
    for (int64_t r = r0; r < r1; ++r) {
      if (avx)
        RmsBackRowAvx2(x + r * cols, w, rstd[r], gy + r * cols, gx + r * cols, acc, cols);
      else
        RmsBackRowScalar(x + r * cols, w, rstd[r], gy + r * cols, gx + r * cols, acc, cols);
    }
  };
  if (gw == nullptr) {
    ForRows(rows, cols, [&](int64_t r0, int64_t r1) { rowRange(r0, r1, nullptr); });
    return info.Env().Undefined();
  }
  // Fixed row blocks → per-block float64 partials → summed in block order (deterministic for any threads).
  const int64_t nb = std::max<int64_t>(1, std::min(rows, kGwBlocks));
  std::vector<double> part(static_cast<size_t>(nb * cols), 0.0);
  auto blocks = [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) rowRange(rows * b / nb, rows * (b + 1) / nb, part.data() + b * cols);
  };
  if (n < kParallelMin)
    blocks(0, nb);
  else
    parallel_for(nb, 1, blocks);
  for (int64_t j = 0; j < cols; ++j) {
    double s = 0;
    for (int64_t b = 0; b < nb; ++b) s += part[b * cols + j];
    gw[j] = static_cast<float>(s);
  }
  return info.Env().Undefined();
}

Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  const char* op = "layerNorm";
  const Args A(info);
  int64_t rows = A.Size("rows"), cols = A.Size("cols");
  const double eps = EpsArg(A);
  int64_t n = CheckedMul(info, op, rows, cols);
  const float* x = A.F32("x", n);
  float* out = A.F32("out", n);
  float* mean = A.F32("mean", rows);
  float* rstd = A.F32("rstd", rows);
  const bool avx = g_paths.UseAvx2();
  ForEachRow(rows, cols, [&](int64_t r) {
    if (avx)
      LayerRowAvx2(x + r * cols, out + r * cols, mean + r, rstd + r, cols, eps);
    else
      LayerRowScalar(x + r * cols, out + r * cols, mean + r, rstd + r, cols, eps);
  });
  return info.Env().Undefined();
}

Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  const char* op = "layerNormBackward";
  const Args A(info);
  int64_t rows = A.Size("rows"), cols = A.Size("cols");
  int64_t n = CheckedMul(info, op, rows, cols);
  const float* x = A.F32("x", n);
  const float* mean = A.F32("mean", rows);
  const float* rstd = A.F32("rstd", rows);
  const float* gy = A.F32("gy", n);
  float* gx = A.F32("gx", n);
  const bool avx = g_paths.UseAvx2();
  ForEachRow(rows, cols, [&](int64_t r) {
    if (avx)
      LayerBackRowAvx2(x + r * cols, mean[r], rstd[r], gy + r * cols, gx + r * cols, cols);
    else
      LayerBackRowScalar(x + r * cols, mean[r], rstd[r], gy + r * cols, gx + r * cols, cols);
  });
  return info.Env().Undefined();
}

}  // namespace

void RegisterNorms(Napi::Env env, Napi::Object exports) {
  static const KernelDef kKernels[] = {
      {"rmsNorm", "x:f32 w:f32? out:f32 rstd:f32 rows:size cols:size eps:num", RmsNorm},
      {"residualRmsNorm", "res:f32 x:f32 w:f32? out:f32 rstd:f32 rows:size cols:size eps:num", ResidualRmsNorm},
      {"rmsNormBackward", "x:f32 w:f32? rstd:f32 gy:f32 gx:f32 gw:f32? rows:size cols:size", RmsNormBackward},
      {"layerNorm", "x:f32 out:f32 mean:f32 rstd:f32 rows:size cols:size eps:num", LayerNorm},
      {"layerNormBackward", "x:f32 mean:f32 rstd:f32 gy:f32 gx:f32 rows:size cols:size", LayerNormBackward},
  };
  RegisterKernels(env, exports, kKernels);
  g_paths.RegisterHook(env, exports);
}

}  // namespace olmo
