// Cross-entropy from logits, fused: forward computes lse and the loss per row without materialising
// probabilities; backward recomputes p = exp(logits − lse) and writes the gradient in one pass.
//
// Sized for language-model vocabularies (50k–100k) and thousands of rows: rows go to the thread pool, and
// the forward reads each row once with an online log-sum-exp (per-lane running max; the running sums are
// rescaled only when a lane's max grows, so about one exp per element). Sums are carried in float64.
//
// exp: vmath.h's Exp256, as in reduce.cc (degree-7 polynomial, ~1 ulp float32); only called with arguments
// ≤ ~0 (x − max, x − lse).
#include <immintrin.h>
#include <napi.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

#include "force_scalar.h"
#include "napi_args.h"
#include "row_parallel.h"
#include "simd.h"
#include "threadpool.h"
#include "vmath.h"

namespace olmo {
namespace {

ScalarSwitch g_paths{"_lossesForceScalar"};

// log Σ_j exp(x[j]) in float64, reading x once. -Inf entries contribute 0; an all -Inf row gives -Inf;
// a NaN anywhere gives NaN.
OLMO_AVX2 double LseRowAvx2(const float* x, int64_t n) {
  double M = -FLT_MAX, S = 0;
  int64_t j = 0;
  if (n >= 32) {
    __m256 m = _mm256_set1_ps(-FLT_MAX);
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (; j + 32 <= n; j += 32) {
      __m256 v0 = _mm256_loadu_ps(x + j), v1 = _mm256_loadu_ps(x + j + 8);
      __m256 v2 = _mm256_loadu_ps(x + j + 16), v3 = _mm256_loadu_ps(x + j + 24);
      __m256 nm = _mm256_max_ps(_mm256_max_ps(_mm256_max_ps(v0, v1), _mm256_max_ps(v2, v3)), m);
      if (_mm256_movemask_ps(_mm256_cmp_ps(nm, m, _CMP_GT_OQ)) != 0) {
        // Some lane's max grew: rescale that lane's sum by exp(old − new) (1 elsewhere).
        __m256 f = Exp256(_mm256_sub_ps(m, nm));
        s0 = _mm256_mul_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(f)));
        s1 = _mm256_mul_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1)));
        m = nm;
      }
      __m256 e = _mm256_add_ps(_mm256_add_ps(Exp256(_mm256_sub_ps(v0, m)), Exp256(_mm256_sub_ps(v1, m))),
                               _mm256_add_ps(Exp256(_mm256_sub_ps(v2, m)), Exp256(_mm256_sub_ps(v3, m))));
      AddToD(s0, s1, e);
    }
    alignas(32) float ml[8];
    alignas(32) double sl[8];
    _mm256_store_ps(ml, m);
    _mm256_store_pd(sl, s0);
    _mm256_store_pd(sl + 4, s1);
    for (int l = 0; l < 8; ++l) M = std::max(M, static_cast<double>(ml[l]));
    for (int l = 0; l < 8; ++l) S += sl[l] * std::exp(static_cast<double>(ml[l]) - M);
  }
  for (; j < n; ++j) {
    const double v = x[j];
    if (v > M) {
      S *= std::exp(M - v);
      M = v;
    }
    S += std::exp(v - M);
  }
  return M + std::log(S);
}

double LseRowScalar(const float* x, int64_t n) {
  double M = -FLT_MAX, S = 0;
  for (int64_t j = 0; j < n; ++j) M = std::max(M, static_cast<double>(x[j]));
  for (int64_t j = 0; j < n; ++j) S += std::exp(static_cast<double>(x[j]) - M);
  return M + std::log(S);
}

// g[j] = exp(x[j] − lse)·c.
OLMO_AVX2 void ScaledProbAvx2(const float* x, float lse, float c, float* g, int64_t n) {
  const __m256 vl = _mm256_set1_ps(lse), vc = _mm256_set1_ps(c);
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256 p0 = Exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j), vl));
    __m256 p1 = Exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), vl));
    _mm256_storeu_ps(g + j, _mm256_mul_ps(p0, vc));
    _mm256_storeu_ps(g + j + 8, _mm256_mul_ps(p1, vc));
  }
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(g + j, _mm256_mul_ps(Exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j), vl)), vc));
  for (; j < n; ++j) g[j] = std::exp(x[j] - lse) * c;
}

void ScaledProbScalar(const float* x, float lse, float c, float* g, int64_t n) {
  for (int64_t j = 0; j < n; ++j) g[j] = std::exp(x[j] - lse) * c;
}

// Throws unless every target is ignoreIndex or in [0, vocab); names the row and the value.
void CheckTargets(const Napi::CallbackInfo& info, const char* op, const int32_t* t, int64_t rows, int64_t vocab,
                  int64_t ignore) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t v = t[r];
    if (v != ignore && (v < 0 || v >= vocab))
      throw Napi::RangeError::New(info.Env(), std::string("olmo native ") + op + ": targets[" + std::to_string(r) +
                                                  "] = " + std::to_string(v) + " is outside [0, vocab=" +
                                                  std::to_string(vocab) + ") and is not ignoreIndex (" +
                                                  std::to_string(ignore) + ")");
  }
}

Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  const char* op = "crossEntropy";
  const Args A(info);
  int64_t rows = A.Size("rows"), vocab = A.Size("vocab");
  int64_t ignore = A.Int("ignoreIndex");
  const float* logits = A.F32("logits", CheckedMul(info, op, rows, vocab));
  const int32_t* targets = A.I32("targets", rows);
  float* loss = A.F32("loss", rows);
  float* lse = A.F32("lse", rows);
  CheckTargets(info, op, targets, rows, vocab, ignore);
  const bool avx = g_paths.UseAvx2();
  ForEachRow(rows, vocab, [&](int64_t r) {
    const float* x = logits + r * vocab;
    const double l = avx ? LseRowAvx2(x, vocab) : LseRowScalar(x, vocab);
    lse[r] = static_cast<float>(l);
    loss[r] = targets[r] == ignore ? 0.0f : static_cast<float>(l - x[targets[r]]);
  });
  return info.Env().Undefined();
}

Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  const char* op = "crossEntropyBackward";
  const Args A(info);
  int64_t rows = A.Size("rows"), vocab = A.Size("vocab");
  int64_t ignore = A.Int("ignoreIndex");
  int64_t n = CheckedMul(info, op, rows, vocab);
  const float* logits = A.F32("logits", n);
  const int32_t* targets = A.I32("targets", rows);
  const float* lse = A.F32("lse", rows);
  const float* gLoss = A.F32("gLoss", rows);
  const float* gLse = A.OptF32("gLse", rows);
  float* g = A.F32("gLogits", n);
  CheckTargets(info, op, targets, rows, vocab, ignore);
  const bool avx = g_paths.UseAvx2();
  ForEachRow(rows, vocab, [&](int64_t r) {
    const float* x = logits + r * vocab;
    float* gr = g + r * vocab;
    const bool ignored = targets[r] == ignore;
    const float gl = ignored ? 0.0f : gLoss[r];
    const float c = gl + (gLse != nullptr ? gLse[r] : 0.0f);
    // Read the target logit before the row is written: gLogits may alias logits.
    const float xt = ignored ? 0.0f : x[targets[r]];
    if (avx)
      ScaledProbAvx2(x, lse[r], c, gr, vocab);
    else
      ScaledProbScalar(x, lse[r], c, gr, vocab);
    if (!ignored) gr[targets[r]] = std::exp(xt - lse[r]) * c - gl;
  });
  return info.Env().Undefined();
}

}  // namespace

void RegisterLosses(Napi::Env env, Napi::Object exports) {
  static const KernelDef kKernels[] = {
      {"crossEntropy", "logits:f32 targets:i32 loss:f32 lse:f32 rows:size vocab:size ignoreIndex:int", CrossEntropy},
      {"crossEntropyBackward", "logits:f32 targets:i32 lse:f32 gLoss:f32 gLse:f32? gLogits:f32 rows:size vocab:size ignoreIndex:int", CrossEntropyBackward},
  };
  RegisterKernels(env, exports, kKernels);
  g_paths.RegisterHook(env, exports);
}

}  // namespace olmo
