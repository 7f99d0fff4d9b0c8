// AdamW, one fused pass over param, grad, m and v in PyTorch's order of float32 operations
// (torch.optim.AdamW, single-tensor path). The scalars are formed in float64 as Python does, then rounded to
// float32 as PyTorch does when it applies a Python scalar to a float32 tensor. The element arithmetic uses
// separate multiplies and adds (no FMA contraction), so the AVX2 path, the scalar path and the js reference
// agree bit for bit.
#include <immintrin.h>
#include <napi.h>

#include <cmath>
#include <cstdlib>

#include "force_scalar.h"
#include "napi_args.h"
#include "simd.h"
#include "threadpool.h"

namespace olmo {
namespace {

ScalarSwitch g_paths{"_optimForceScalar"};

struct AdamScalars {
  float gradScale, decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, bc2Sqrt, eps, negStepSize;
};

inline void AdamStep(float* p, const float* gr, float* m, float* v, int64_t i, const AdamScalars& s) {
  const float g = gr[i] * s.gradScale;
  const float pd = p[i] * s.decay;
  const float mi = m[i] * s.beta1 + s.oneMinusBeta1 * g;
  const float vi = v[i] * s.beta2 + s.oneMinusBeta2 * g * g;
  const float denom = std::sqrt(vi) / s.bc2Sqrt + s.eps;
  m[i] = mi;
  v[i] = vi;
  p[i] = pd + s.negStepSize * mi / denom;
}

OLMO_AVX2 void AdamAvx2(float* p, const float* gr, float* m, float* v, int64_t b, int64_t e, const AdamScalars& s) {
  const __m256 gs = _mm256_set1_ps(s.gradScale), decay = _mm256_set1_ps(s.decay);
  const __m256 b1 = _mm256_set1_ps(s.beta1), omb1 = _mm256_set1_ps(s.oneMinusBeta1);
  const __m256 b2 = _mm256_set1_ps(s.beta2), omb2 = _mm256_set1_ps(s.oneMinusBeta2);
  const __m256 bc2 = _mm256_set1_ps(s.bc2Sqrt), eps = _mm256_set1_ps(s.eps), ns = _mm256_set1_ps(s.negStepSize);
  int64_t i = b;
  for (; i + 8 <= e; i += 8) {
    const __m256 g = _mm256_mul_ps(_mm256_loadu_ps(gr + i), gs);
    const __m256 pd = _mm256_mul_ps(_mm256_loadu_ps(p + i), decay);
    const __m256 mi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), b1), _mm256_mul_ps(omb1, g));
    const __m256 vi =
        _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), b2), _mm256_mul_ps(_mm256_mul_ps(omb2, g), g));
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc2), eps);
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    _mm256_storeu_ps(p + i, _mm256_add_ps(pd, _mm256_div_ps(_mm256_mul_ps(ns, mi), denom)));
  }
  for (; i < e; ++i) AdamStep(p, gr, m, v, i, s);
}

Napi::Value AdamW(const Napi::CallbackInfo& info) {
  const char* kOp = "adamw";
  const Args A(info);
  const int64_t n = A.Size("n");
  float* param = A.F32("param", n);
  const float* grad = A.F32("grad", n);
  float* m = A.F32("m", n);
  float* v = A.F32("v", n);
  const double lr = A.Num("lr");
  const double beta1 = A.Num("beta1");
  const double beta2 = A.Num("beta2");
  const double eps = A.Num("eps");
  const double wd = A.Num("weightDecay");
  const int64_t step = A.Size("step");
  const double gradScale = A.Num("gradScale");
  if (step < 1) throw ArgError(info, kOp, "argument 'step' must be ≥ 1 (steps count from 1)");
  if (!(beta1 >= 0 && beta1 < 1)) throw ArgError(info, kOp, "argument 'beta1' must be in [0, 1)");
  if (!(beta2 >= 0 && beta2 < 1)) throw ArgError(info, kOp, "argument 'beta2' must be in [0, 1)");
  const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bc2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  AdamScalars s;
  s.gradScale = static_cast<float>(gradScale);
  s.decay = static_cast<float>(1.0 - lr * wd);
  s.beta1 = static_cast<float>(beta1);
  s.oneMinusBeta1 = static_cast<float>(1.0 - beta1);
  s.beta2 = static_cast<float>(beta2);
  s.oneMinusBeta2 = static_cast<float>(1.0 - beta2);
  s.bc2Sqrt = static_cast<float>(std::sqrt(bc2));
  s.eps = static_cast<float>(eps);
  s.negStepSize = static_cast<float>(-(lr / bc1));
  const bool simd = g_paths.UseAvx2();
  parallel_for(n, 32768, [&](int64_t b, int64_t e) {
    if (simd) {
      AdamAvx2(param, grad, m, v, b, e, s);
    } else {
      for (int64_t i = b; i < e; ++i) AdamStep(param, grad, m, v, i, s);
    }
  });
  return info.Env().Undefined();
}

}  // namespace

void RegisterOptim(Napi::Env env, Napi::Object exports) {
  static const KernelDef kKernels[] = {
      {"adamw", "param:f32 grad:f32 m:f32 v:f32 n:size lr:num beta1:num beta2:num eps:num weightDecay:num step:size gradScale:num", AdamW},
  };
  RegisterKernels(env, exports, kKernels);
  g_paths.RegisterHook(env, exports);
}

}  // namespace olmo
