// float32 ↔ bfloat16 / IEEE half conversions (checkpoint loading and saving).
//
// Rounding is to nearest even; NaNs stay quiet NaNs with their top payload bits, infinities and signed zeros
// are exact, half subnormals are exact both ways. The bit recipes here are the same as the js reference's,
// and the F16C instructions (used when the CPU has them) produce identical bits, which the tests check.
#include <immintrin.h>
#include <napi.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "force_scalar.h"
#include "napi_args.h"
#include "simd.h"
#include "threadpool.h"

namespace olmo {
namespace {

constexpr int64_t kGrain = 65536;

ScalarSwitch g_paths{"_convertForceScalar"};
bool UseF16c() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("f16c") != 0;
  }();
  return has && g_paths.UseAvx2();
}

// ---- scalar recipes ----

inline uint16_t F32ToBf16(uint32_t x) {
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x0040u);  // quiet NaN
  // Adding 0x7fff plus the lowest kept bit rounds to nearest even; a carry may ripple into the exponent,
  // which is right (it also takes the largest finite values that round up to infinity).
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

inline uint16_t F32ToF16(uint32_t x) {
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7e00u | static_cast<uint16_t>((a & 0x7fffffu) >> 13);  // quiet NaN
  if (a >= 0x477ff000u) return sign | 0x7c00u;  // ≥ 65520 rounds to infinity (ties go to the even 2^16)
  if (a >= 0x38800000u) {                       // normal half (≥ 2^-14): rebias, round the low 13 bits
    const uint32_t r = a - (112u << 23);
    return sign | static_cast<uint16_t>((r + 0x0fffu + ((r >> 13) & 1u)) >> 13);
  }
  // Subnormal half: value / 2^-24 = mant·2^(e−126), rounded to nearest even integer.
  const uint32_t e = a >> 23;
  const int shift = 126 - static_cast<int>(e);
  if (shift > 24) return sign;  // below half the smallest subnormal (f32 subnormals included)
  const uint32_t m = (a & 0x7fffffu) | 0x800000u;
  uint32_t q = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return sign | static_cast<uint16_t>(q);
}

inline uint32_t F16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1f) return sign | 0x7f800000u | (m ? 0x400000u : 0u) | (m << 13);  // Inf, or NaN made quiet
  if (e != 0) return sign | ((e + 112u) << 23) | (m << 13);
  if (m == 0) return sign;
  // Subnormal: normalise the mantissa.
  int shift = 0;
  uint32_t mm = m;
  while (!(mm & 0x400u)) {
    mm <<= 1;
    ++shift;
  }
  return sign | ((113u - static_cast<uint32_t>(shift)) << 23) | ((mm & 0x3ffu) << 13);
}

// ---- whole ranges on the scalar path (also the vector paths' tails) ----

void F32ToBf16Scalar(const uint32_t* src, uint16_t* dst, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) dst[i] = F32ToBf16(src[i]);
}

void Bf16ToF32Scalar(const uint16_t* src, uint32_t* dst, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) dst[i] = static_cast<uint32_t>(src[i]) << 16;
}

void F32ToF16Scalar(const float* src, uint16_t* dst, int64_t b, int64_t e) {
  uint32_t bits;
  for (int64_t i = b; i < e; ++i) {
    std::memcpy(&bits, src + i, 4);
    dst[i] = F32ToF16(bits);
  }
}

void F16ToF32Scalar(const uint16_t* src, float* dst, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) {
    const uint32_t bits = F16ToF32(src[i]);
    std::memcpy(dst + i, &bits, 4);
  }
}

// ---- vector paths ----

OLMO_AVX2 void F32ToBf16Avx2(const uint32_t* src, uint16_t* dst, int64_t b, int64_t e) {
  const __m256i absMask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
  const __m256i bias = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1), quiet = _mm256_set1_epi32(0x400000);
  int64_t i = b;
  for (; i + 16 <= e; i += 16) {
    __m256i out[2];
    for (int h = 0; h < 2; ++h) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 8 * h));
      const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, absMask), inf);
      const __m256i rounded = _mm256_add_epi32(_mm256_add_epi32(x, bias), _mm256_and_si256(_mm256_srli_epi32(x, 16), one));
      out[h] = _mm256_srli_epi32(_mm256_blendv_epi8(rounded, _mm256_or_si256(x, quiet), nan), 16);
    }
    // packus works within 128-bit lanes; the permute restores element order.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(out[0], out[1]), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), packed);
  }
  F32ToBf16Scalar(src, dst, i, e);
}

OLMO_AVX2 void Bf16ToF32Avx2(const uint16_t* src, uint32_t* dst, int64_t b, int64_t e) {
  int64_t i = b;
  for (; i + 8 <= e; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  Bf16ToF32Scalar(src, dst, i, e);
}

__attribute__((target("avx2,f16c"))) void F32ToF16F16c(const float* src, uint16_t* dst, int64_t b, int64_t e) {
  int64_t i = b;
  for (; i + 8 <= e; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  F32ToF16Scalar(src, dst, i, e);
}

__attribute__((target("avx2,f16c"))) void F16ToF32F16c(const uint16_t* src, float* dst, int64_t b, int64_t e) {
  int64_t i = b;
  for (; i + 8 <= e; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  F16ToF32Scalar(src, dst, i, e);
}

// ---- exported functions: (src, dst, n) ----

// The typed-array argument behind each element type: float32 data (as floats or as their bits) lives in a
// Float32Array, bf16/half in a Uint16Array.
template <class T>
T* ElemArg(const Args& A, const char* name, int64_t need);
template <>
float* ElemArg<float>(const Args& A, const char* name, int64_t need) {
  return A.F32(name, need);
}
template <>
uint32_t* ElemArg<uint32_t>(const Args& A, const char* name, int64_t need) {
  return reinterpret_cast<uint32_t*>(A.F32(name, need));
}
template <>
uint16_t* ElemArg<uint16_t>(const Args& A, const char* name, int64_t need) {
  return A.U16(name, need);
}

template <class S, class D>
using RangeFn = void (*)(const S*, D*, int64_t, int64_t);

// Validates (src, dst, n), then converts [0, n) on the pool: the vector routine when use_vec.
template <class S, class D>
Napi::Value Convert(const Napi::CallbackInfo& info, bool use_vec, RangeFn<S, D> vec,
                    RangeFn<S, D> scalar) {
  const Args A(info);
  const int64_t n = A.Size("n");
  const S* src = ElemArg<S>(A, "src", n);
  D* dst = ElemArg<D>(A, "dst", n);
  const RangeFn<S, D> run = use_vec ? vec : scalar;
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { run(src, dst, b, e); });
  return info.Env().Undefined();
}

Napi::Value F32ToBf16Fn(const Napi::CallbackInfo& info) {
  return Convert<uint32_t, uint16_t>(info, g_paths.UseAvx2(), F32ToBf16Avx2, F32ToBf16Scalar);
}

Napi::Value Bf16ToF32Fn(const Napi::CallbackInfo& info) {
  return Convert<uint16_t, uint32_t>(info, g_paths.UseAvx2(), Bf16ToF32Avx2, Bf16ToF32Scalar);
}

Napi::Value F32ToF16Fn(const Napi::CallbackInfo& info) {
  return Convert<float, uint16_t>(info, UseF16c(), F32ToF16F16c, F32ToF16Scalar);
}

Napi::Value F16ToF32Fn(const Napi::CallbackInfo& info) {
  return Convert<uint16_t, float>(info, UseF16c(), F16ToF32F16c, F16ToF32Scalar);
}

}  // namespace

void RegisterConvert(Napi::Env env, Napi::Object exports) {
  g_paths.RegisterHook(env, exports);
  static const KernelDef kKernels[] = {
      {"f32ToBf16", "src:f32 dst:u16 n:size", F32ToBf16Fn},
      {"bf16ToF32", "src:u16 dst:f32 n:size", Bf16ToF32Fn},
      {"f32ToF16", "src:f32 dst:u16 n:size", F32ToF16Fn},
      {"f16ToF32", "src:u16 dst:f32 n:size", F16ToF32Fn},
  };
  RegisterKernels(env, exports, kKernels);
}

}  // namespace olmo
