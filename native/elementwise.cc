// Elementwise kernels: broadcast binary ops, unary ops and their backward, axpy, strided copy/scatter and
// SwiGLU. Every op has a scalar definition (used for loop tails, lanes out of the fast range, and as the whole
// path on CPUs without AVX2) and, where it pays, an 8-wide AVX2 version with the same semantics.
//
// Semantics follow the js reference (src/tensor/kernels/js/elementwise.ts): op parameters are rounded to
// float32 first (as PyTorch does for a float32 tensor), maximum/minimum propagate NaN and prefer +0 / −0 like
// Math.max / Math.min, so add/sub/mul/div/neg/abs/relu/clamp/maximum/minimum/scale agree bit for bit.
#include <immintrin.h>
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "force_scalar.h"
#include "napi_args.h"
#include "simd.h"
#include "threadpool.h"
#include "vmath.h"

namespace olmo {
namespace {

// Below these sizes an op runs inline: fork/join costs microseconds, more than a cheap pass over 64 KiB.
constexpr int64_t kGrainCheap = 32768;
constexpr int64_t kGrainMath = 8192;

ScalarSwitch g_paths{"_elementwiseForceScalar"};

inline uint32_t Bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
inline float FromBits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

// Math.max / Math.min semantics: NaN wins, max(−0, +0) = +0, min(−0, +0) = −0.
inline float MaxS(float a, float b) {
  if (a != a) return a;
  if (b != b) return b;
  if (a > b) return a;
  if (b > a) return b;
  return FromBits(Bits(a) & Bits(b));
}
inline float MinS(float a, float b) {
  if (a != a) return a;
  if (b != b) return b;
  if (a < b) return a;
  if (b < a) return b;
  return FromBits(Bits(a) | Bits(b));
}

OLMO_AVX2 inline __m256 MaxV(__m256 a, __m256 b) {
  __m256 r = _mm256_max_ps(a, b);  // b when equal or when either is NaN
  r = _mm256_blendv_ps(r, _mm256_and_ps(a, b), _mm256_cmp_ps(a, b, _CMP_EQ_OQ));
  return _mm256_blendv_ps(r, a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}
OLMO_AVX2 inline __m256 MinV(__m256 a, __m256 b) {
  __m256 r = _mm256_min_ps(a, b);
  r = _mm256_blendv_ps(r, _mm256_or_ps(a, b), _mm256_cmp_ps(a, b, _CMP_EQ_OQ));
  return _mm256_blendv_ps(r, a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

// Applies a scalar function to each lane (for lanes outside a vector routine's range).
template <class F>
OLMO_AVX2 inline __m256 PerLane(__m256 x, F f) {
  alignas(32) float t[8];
  _mm256_store_ps(t, x);
  for (int k = 0; k < 8; ++k) t[k] = f(t[k]);
  return _mm256_load_ps(t);
}

OLMO_AVX2 inline bool AllIn(__m256 x, float lo, float hi) {
  const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(x, _mm256_set1_ps(lo), _CMP_GE_OQ),
                                  _mm256_cmp_ps(x, _mm256_set1_ps(hi), _CMP_LE_OQ));
  return _mm256_movemask_ps(ok) == 0xff;
}

inline float SigmoidS(float x) {
  const float t = std::exp(-std::fabs(x));  // in (0, 1]: never overflows
  return x >= 0 ? 1.f / (1.f + t) : t / (1.f + t);
}
// Caller guarantees |x| ≤ 87 in every lane.
OLMO_AVX2 inline __m256 SigmoidCore(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.f);
  const __m256 t = ExpCore(_mm256_or_ps(x, sign));  // exp(−|x|)
  const __m256 d = _mm256_add_ps(_mm256_set1_ps(1.f), t);
  const __m256 pos = _mm256_div_ps(_mm256_set1_ps(1.f), d);
  const __m256 neg = _mm256_div_ps(t, d);
  return _mm256_blendv_ps(neg, pos, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
}
OLMO_AVX2 inline __m256 SigmoidV(__m256 x) {
  if (!AllIn(x, -87.f, 87.f)) return PerLane(x, SigmoidS);
  return SigmoidCore(x);
}

// ---------------------------------------------------------------------------------------------------------
// Binary ops.

struct AddOp {
  static float s(float a, float b) { return a + b; }
  OLMO_AVX2 static __m256 v(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
};
struct SubOp {
  static float s(float a, float b) { return a - b; }
  OLMO_AVX2 static __m256 v(__m256 a, __m256 b) { return _mm256_sub_ps(a, b); }
};
struct MulOp {
  static float s(float a, float b) { return a * b; }
  OLMO_AVX2 static __m256 v(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
};
struct DivOp {
  static float s(float a, float b) { return a / b; }
  OLMO_AVX2 static __m256 v(__m256 a, __m256 b) { return _mm256_div_ps(a, b); }
};
struct MaxOp {
  static float s(float a, float b) { return MaxS(a, b); }
  OLMO_AVX2 static __m256 v(__m256 a, __m256 b) { return MaxV(a, b); }
};
struct MinOp {
  static float s(float a, float b) { return MinS(a, b); }
  OLMO_AVX2 static __m256 v(__m256 a, __m256 b) { return MinV(a, b); }
};

// One run of a binary op: o[i] = a[i·sa] op b[i·sb] for i < len (out contiguous).
template <class Op>
void BinaryRunScalar(const float* a, int64_t sa, const float* b, int64_t sb, float* o, int64_t len) {
  for (int64_t i = 0; i < len; ++i) o[i] = Op::s(a[i * sa], b[i * sb]);
}

template <class Op>
OLMO_AVX2 void BinaryRunAvx2(const float* a, int64_t sa, const float* b, int64_t sb, float* o, int64_t len) {
  int64_t i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 8 <= len; i += 8) _mm256_storeu_ps(o + i, Op::v(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  } else if (sa == 1 && sb == 0) {
    const __m256 vb = _mm256_set1_ps(*b);
    for (; i + 8 <= len; i += 8) _mm256_storeu_ps(o + i, Op::v(_mm256_loadu_ps(a + i), vb));
  } else if (sa == 0 && sb == 1) {
    const __m256 va = _mm256_set1_ps(*a);
    for (; i + 8 <= len; i += 8) _mm256_storeu_ps(o + i, Op::v(va, _mm256_loadu_ps(b + i)));
  } else if (sa == 0 && sb == 0) {
    const float r = Op::s(*a, *b);
    for (; i < len; ++i) o[i] = r;
  }
  for (; i < len; ++i) o[i] = Op::s(a[i * sa], b[i * sb]);
}

// A view of up to two strided operands over one contiguous output, with size-1 dimensions dropped and
// adjacent dimensions merged wherever both operands allow it (so a contiguous tensor becomes one run,
// a row broadcast becomes [rows, cols] with b's row stride 0, a column broadcast has b's inner stride 0).
struct Layout {
  std::vector<int64_t> shape, sa, sb;
};

Layout Normalise(int rank, const int32_t* shape, const int32_t* sa, const int32_t* sb) {
  Layout l;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] == 1) continue;
    const int64_t n = shape[d], a = sa[d], b = sb ? sb[d] : 0;
    if (!l.shape.empty()) {
      const size_t k = l.shape.size() - 1;
      if (l.sa[k] == a * n && l.sb[k] == b * n) {
        l.shape[k] *= n;
        l.sa[k] = a;
        l.sb[k] = b;
        continue;
      }
    }
    l.shape.push_back(n);
    l.sa.push_back(a);
    l.sb.push_back(b);
  }
  if (l.shape.empty()) {
    l.shape.push_back(1);
    l.sa.push_back(0);
    l.sb.push_back(0);
  }
  return l;
}

// Calls f(pos, offA, offB, len) for each stretch of output indices [pos, pos+len) ⊂ [begin, end) that lies
// within one innermost row; offA/offB are the operands' offsets of element pos.
template <class F>
void ForEachRun(const Layout& l, int64_t begin, int64_t end, F f) {
  const int r = static_cast<int>(l.shape.size());
  std::vector<int64_t> idx(r);
  int64_t rem = begin, oa = 0, ob = 0;
  for (int d = r - 1; d >= 0; --d) {
    idx[d] = rem % l.shape[d];
    rem /= l.shape[d];
    oa += idx[d] * l.sa[d];
    ob += idx[d] * l.sb[d];
  }
  const int64_t inner = l.shape[r - 1];
  int64_t pos = begin;
  while (pos < end) {
    const int64_t len = std::min(inner - idx[r - 1], end - pos);
    f(pos, oa, ob, len);
    pos += len;
    if (pos >= end) break;
    oa -= idx[r - 1] * l.sa[r - 1];
    ob -= idx[r - 1] * l.sb[r - 1];
    idx[r - 1] = 0;
    for (int d = r - 2; d >= 0; --d) {
      ++idx[d];
      oa += l.sa[d];
      ob += l.sb[d];
      if (idx[d] < l.shape[d]) break;
      oa -= idx[d] * l.sa[d];
      ob -= idx[d] * l.sb[d];
      idx[d] = 0;
    }
  }
}

int64_t Total(const Layout& l) {
  int64_t t = 1;
  for (int64_t n : l.shape) t *= n;
  return t;
}

template <class Op>
void BinaryLayout(const Layout& l, const float* a, const float* b, float* out) {
  const int64_t total = Total(l);
  const bool simd = g_paths.UseAvx2();
  parallel_for(total, kGrainCheap, [&](int64_t begin, int64_t end) {
    const int64_t ia = l.sa.back(), ib = l.sb.back();
    ForEachRun(l, begin, end, [&](int64_t pos, int64_t oa, int64_t ob, int64_t len) {
      if (simd)
        BinaryRunAvx2<Op>(a + oa, ia, b + ob, ib, out + pos, len);
      else
        BinaryRunScalar<Op>(a + oa, ia, b + ob, ib, out + pos, len);
    });
  });
}

// Reads a shape array and returns the element count (overflow-checked; every entry non-negative).
int64_t ShapeTotal(const Napi::CallbackInfo& info, const char* op, const int32_t* shape, int rank) {
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] < 0)
      throw ArgError(info, op, "shape[" + std::to_string(d) + "] is negative (" + std::to_string(shape[d]) + ")");
    total = CheckedMul(info, op, total, shape[d]);
  }
  return total;
}


// Smallest and largest offset Σ idx_d·strides_d reached over a non-empty shape (saturated to ±2^62, far
// beyond any array length, so absurd shapes fail the range check instead of overflowing).
void OffsetRange(const int32_t* shape, const int32_t* strides, int rank, int64_t* lo, int64_t* hi) {
  __int128 l = 0, h = 0;
  for (int d = 0; d < rank; ++d) {
    const __int128 ext = static_cast<__int128>(shape[d] - 1) * strides[d];
    if (ext < 0) l += ext; else h += ext;
  }
  const __int128 cap = static_cast<__int128>(1) << 62;
  *lo = static_cast<int64_t>(l < -cap ? -cap : l);
  *hi = static_cast<int64_t>(h > cap ? cap : h);
}

constexpr int kMaxRank = 64;

Napi::Value Binary(const Napi::CallbackInfo& info) {
  const char* kOp = "binary";
  const Args A(info);
  const int64_t op = A.Size("op");
  if (op > 5) throw ArgError(info, kOp, "unknown binary op code " + std::to_string(op));
  const int32_t* shape = A.I32("shape", 0);
  const int64_t rank = A.Length("shape");
  if (rank > kMaxRank) throw ArgError(info, kOp, "rank " + std::to_string(rank) + " exceeds 64");
  const int32_t* as = A.I32("aStrides", 0);
  const int32_t* bs = A.I32("bStrides", 0);
  if (A.Length("aStrides") != rank || A.Length("bStrides") != rank)
    throw ArgError(info, kOp, "shape, aStrides and bStrides must have the same length (got " + std::to_string(rank) +
                                  ", " + std::to_string(A.Length("aStrides")) + ", " + std::to_string(A.Length("bStrides")) + ")");
  for (int d = 0; d < rank; ++d) {
    if (as[d] < 0) throw ArgError(info, kOp, "aStrides[" + std::to_string(d) + "] is negative");
    if (bs[d] < 0) throw ArgError(info, kOp, "bStrides[" + std::to_string(d) + "] is negative");
  }
  const int r = static_cast<int>(rank);
  const int64_t total = ShapeTotal(info, kOp, shape, r);
  int64_t lo, hiA = -1, hiB = -1;
  if (total > 0) {
    OffsetRange(shape, as, r, &lo, &hiA);
    OffsetRange(shape, bs, r, &lo, &hiB);
  }
  const float* a = A.F32("a", hiA + 1);
  const float* b = A.F32("b", hiB + 1);
  float* out = A.F32("out", total);
  if (total == 0) return info.Env().Undefined();
  const Layout l = Normalise(r, shape, as, bs);
  switch (op) {
    case 0: BinaryLayout<AddOp>(l, a, b, out); break;
    case 1: BinaryLayout<SubOp>(l, a, b, out); break;
    case 2: BinaryLayout<MulOp>(l, a, b, out); break;
    case 3: BinaryLayout<DivOp>(l, a, b, out); break;
    case 4: BinaryLayout<MaxOp>(l, a, b, out); break;
    default: BinaryLayout<MinOp>(l, a, b, out); break;
  }
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------------------------------------
// Unary ops. Each has s(x) and, when kVec, v(x); p0/p1 are float32 parameters stored in the struct.

struct UParams {
  float p0, p1;
  double p0d;  // p0 as float32, widened: powScalar works in float64 like the reference
};

// The unary op code (argument 0) of unary and unaryBackward: 0..14, in the order of their switches.
int64_t UnaryOpArg(const Args& A) {
  const int64_t code = A.Size("op");
  if (code > 14) throw ArgError(A.info(), A.op(), "unknown unary op code " + std::to_string(code));
  return code;
}

// p0 and p1 from arguments i and i + 1, rounded to float32.
UParams ReadParams(const Args& A) {
  UParams p;
  p.p0 = static_cast<float>(A.Num("p0"));
  p.p1 = static_cast<float>(A.Num("p1"));
  p.p0d = p.p0;
  return p;
}

#define OLMO_UNARY(Name, vec, sexpr, vexpr)                                        \
  struct Name {                                                                    \
    static constexpr bool kVec = vec;                                              \
    static float s(float x, const UParams& p) { (void)p; return sexpr; }           \
    OLMO_AVX2 static __m256 v(__m256 x, const UParams& p) { (void)p; return vexpr; } \
  };

OLMO_UNARY(UNeg, true, -x, _mm256_xor_ps(x, _mm256_set1_ps(-0.f)))
OLMO_UNARY(UExp, true, std::exp(x), AllIn(x, -87.f, 88.f) ? ExpCore(x) : PerLane(x, [](float t) { return std::exp(t); }))
OLMO_UNARY(ULog, false, std::log(x), x)
OLMO_UNARY(USigmoid, true, SigmoidS(x), SigmoidV(x))
OLMO_UNARY(USilu, true, x * SigmoidS(x), _mm256_mul_ps(x, SigmoidV(x)))
OLMO_UNARY(UClamp, true, MinS(MaxS(x, p.p0), p.p1), MinV(MaxV(x, _mm256_set1_ps(p.p0)), _mm256_set1_ps(p.p1)))
OLMO_UNARY(UScale, true, x * p.p0, _mm256_mul_ps(x, _mm256_set1_ps(p.p0)))
OLMO_UNARY(UAddScalar, true, x + p.p0, _mm256_add_ps(x, _mm256_set1_ps(p.p0)))
OLMO_UNARY(USqrt, true, std::sqrt(x), _mm256_sqrt_ps(x))
OLMO_UNARY(URsqrt, true, 1.f / std::sqrt(x), _mm256_div_ps(_mm256_set1_ps(1.f), _mm256_sqrt_ps(x)))
OLMO_UNARY(USquare, true, x * x, _mm256_mul_ps(x, x))
OLMO_UNARY(UTanh, false, std::tanh(x), x)
OLMO_UNARY(UAbs, true, std::fabs(x), _mm256_andnot_ps(_mm256_set1_ps(-0.f), x))
OLMO_UNARY(URelu, true, MaxS(x, 0.f), MaxV(x, _mm256_setzero_ps()))
OLMO_UNARY(UPow, false, static_cast<float>(std::pow(static_cast<double>(x), p.p0d)), x)

template <class Op>
void UnaryScalar(const float* x, float* o, int64_t b, int64_t e, const UParams& p) {
  for (int64_t i = b; i < e; ++i) o[i] = Op::s(x[i], p);
}
template <class Op>
OLMO_AVX2 void UnaryAvx2(const float* x, float* o, int64_t b, int64_t e, const UParams& p) {
  int64_t i = b;
  if constexpr (Op::kVec)
    for (; i + 8 <= e; i += 8) _mm256_storeu_ps(o + i, Op::v(_mm256_loadu_ps(x + i), p));
  for (; i < e; ++i) o[i] = Op::s(x[i], p);
}
template <class Op>
void UnaryRun(const float* x, float* o, int64_t n, const UParams& p, int64_t grain) {
  const bool simd = g_paths.UseAvx2() && Op::kVec;
  parallel_for(n, grain, [&](int64_t b, int64_t e) {
    if (simd) UnaryAvx2<Op>(x, o, b, e, p); else UnaryScalar<Op>(x, o, b, e, p);
  });
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  const Args A(info);
  const int64_t op = UnaryOpArg(A);
  const int64_t n = A.Size("n");
  const float* x = A.F32("x", n);
  float* out = A.F32("out", n);
  const UParams p = ReadParams(A);
  switch (op) {
    case 0: UnaryRun<UNeg>(x, out, n, p, kGrainCheap); break;
    case 1: UnaryRun<UExp>(x, out, n, p, kGrainMath); break;
    case 2: UnaryRun<ULog>(x, out, n, p, kGrainMath); break;
    case 3: UnaryRun<USigmoid>(x, out, n, p, kGrainMath); break;
    case 4: UnaryRun<USilu>(x, out, n, p, kGrainMath); break;
    case 5: UnaryRun<UClamp>(x, out, n, p, kGrainCheap); break;
    case 6: UnaryRun<UScale>(x, out, n, p, kGrainCheap); break;
    case 7: UnaryRun<UAddScalar>(x, out, n, p, kGrainCheap); break;
    case 8: UnaryRun<USqrt>(x, out, n, p, kGrainCheap); break;
    case 9: UnaryRun<URsqrt>(x, out, n, p, kGrainCheap); break;
    case 10: UnaryRun<USquare>(x, out, n, p, kGrainCheap); break;
    case 11: UnaryRun<UTanh>(x, out, n, p, kGrainMath); break;
    case 12: UnaryRun<UAbs>(x, out, n, p, kGrainCheap); break;
    case 13: UnaryRun<URelu>(x, out, n, p, kGrainCheap); break;
    default: UnaryRun<UPow>(x, out, n, p, 2048); break;
  }
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------------------------------------
// Unary backward: gx = gy·f'(x), with y = f(x) available.

#define OLMO_UNARY_BW(Name, vec, sexpr, vexpr)                                                     \
  struct Name {                                                                                    \
    static constexpr bool kVec = vec;                                                              \
    static float s(float x, float y, float g, const UParams& p) {                                  \
      (void)x; (void)y; (void)g; (void)p;                                                                   \
      return sexpr;                                                                                \
    }                                                                                              \
    OLMO_AVX2 static __m256 v(__m256 x, __m256 y, __m256 g, const UParams& p) {                    \
      (void)x; (void)y; (void)g; (void)p;                                                                   \
      return vexpr;                                                                                \
    }                                                                                              \
  };

inline float SiluGradS(float x) {
  const float s = SigmoidS(x);
  return s * (1.f + x * (1.f - s));
}
OLMO_AVX2 inline __m256 SiluGradV(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.f);
  const __m256 s = SigmoidV(x);
  return _mm256_mul_ps(s, _mm256_add_ps(one, _mm256_mul_ps(x, _mm256_sub_ps(one, s))));
}
OLMO_AVX2 inline __m256 Select(__m256 mask, __m256 g) { return _mm256_and_ps(mask, g); }

OLMO_UNARY_BW(BNeg, true, -g, _mm256_xor_ps(g, _mm256_set1_ps(-0.f)))
OLMO_UNARY_BW(BExp, true, g * y, _mm256_mul_ps(g, y))
OLMO_UNARY_BW(BLog, true, g / x, _mm256_div_ps(g, x))
OLMO_UNARY_BW(BSigmoid, true, g * (y * (1.f - y)),
              _mm256_mul_ps(g, _mm256_mul_ps(y, _mm256_sub_ps(_mm256_set1_ps(1.f), y))))
OLMO_UNARY_BW(BSilu, true, g * SiluGradS(x), _mm256_mul_ps(g, SiluGradV(x)))
OLMO_UNARY_BW(BClamp, true, (x >= p.p0 && x <= p.p1) ? g : 0.f,
              Select(_mm256_and_ps(_mm256_cmp_ps(x, _mm256_set1_ps(p.p0), _CMP_GE_OQ),
                                   _mm256_cmp_ps(x, _mm256_set1_ps(p.p1), _CMP_LE_OQ)),
                     g))
OLMO_UNARY_BW(BScale, true, g * p.p0, _mm256_mul_ps(g, _mm256_set1_ps(p.p0)))
OLMO_UNARY_BW(BAddScalar, true, g, g)
OLMO_UNARY_BW(BSqrt, true, g / (2.f * y), _mm256_div_ps(g, _mm256_add_ps(y, y)))
OLMO_UNARY_BW(BRsqrt, true, -0.5f * g * y * y * y,
              _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(-0.5f), g), y), y), y))
OLMO_UNARY_BW(BSquare, true, 2.f * x * g, _mm256_mul_ps(_mm256_add_ps(x, x), g))
OLMO_UNARY_BW(BTanh, true, g * (1.f - y * y), _mm256_mul_ps(g, _mm256_sub_ps(_mm256_set1_ps(1.f), _mm256_mul_ps(y, y))))
OLMO_UNARY_BW(BAbs, true, x > 0 ? g : (x < 0 ? -g : 0.f),
              _mm256_or_ps(Select(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ), g),
                           Select(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ),
                                  _mm256_xor_ps(g, _mm256_set1_ps(-0.f)))))
OLMO_UNARY_BW(BRelu, true, x > 0 ? g : 0.f, Select(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ), g))
OLMO_UNARY_BW(BPow, false,
              p.p0d == 0 ? 0.f
                         : static_cast<float>(static_cast<double>(g) * p.p0d *
                                              std::pow(static_cast<double>(x), p.p0d - 1.0)),
              x)

template <class Op>
void BackwardScalar(const float* x, const float* y, const float* g, float* gx, int64_t b, int64_t e,
                    const UParams& p) {
  for (int64_t i = b; i < e; ++i) gx[i] = Op::s(x[i], y[i], g[i], p);
}
template <class Op>
OLMO_AVX2 void BackwardAvx2(const float* x, const float* y, const float* g, float* gx, int64_t b, int64_t e,
                            const UParams& p) {
  int64_t i = b;
  if constexpr (Op::kVec)
    for (; i + 8 <= e; i += 8)
      _mm256_storeu_ps(gx + i, Op::v(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), _mm256_loadu_ps(g + i), p));
  for (; i < e; ++i) gx[i] = Op::s(x[i], y[i], g[i], p);
}
template <class Op>
void BackwardRun(const float* x, const float* y, const float* g, float* gx, int64_t n, const UParams& p,
                 int64_t grain) {
  const bool simd = g_paths.UseAvx2() && Op::kVec;
  parallel_for(n, grain, [&](int64_t b, int64_t e) {
    if (simd) BackwardAvx2<Op>(x, y, g, gx, b, e, p); else BackwardScalar<Op>(x, y, g, gx, b, e, p);
  });
}

Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  const Args A(info);
  const int64_t op = UnaryOpArg(A);
  const int64_t n = A.Size("n");
  const float* x = A.F32("x", n);
  const float* y = A.F32("y", n);
  const float* gy = A.F32("gy", n);
  float* gx = A.F32("gx", n);
  const UParams p = ReadParams(A);
  switch (op) {
    case 0: BackwardRun<BNeg>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 1: BackwardRun<BExp>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 2: BackwardRun<BLog>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 3: BackwardRun<BSigmoid>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 4: BackwardRun<BSilu>(x, y, gy, gx, n, p, kGrainMath); break;
    case 5: BackwardRun<BClamp>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 6: BackwardRun<BScale>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 7: BackwardRun<BAddScalar>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 8: BackwardRun<BSqrt>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 9: BackwardRun<BRsqrt>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 10: BackwardRun<BSquare>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 11: BackwardRun<BTanh>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 12: BackwardRun<BAbs>(x, y, gy, gx, n, p, kGrainCheap); break;
    case 13: BackwardRun<BRelu>(x, y, gy, gx, n, p, kGrainCheap); break;
    default: BackwardRun<BPow>(x, y, gy, gx, n, p, 2048); break;
  }
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------------------------------------
// axpy: y += alpha·x, one fused multiply-add per element (fmaf on the scalar path: the same rounding).

OLMO_AVX2 void AxpyAvx2(const float* x, float* y, int64_t b, int64_t e, float alpha) {
  const __m256 va = _mm256_set1_ps(alpha);
  int64_t i = b;
  for (; i + 8 <= e; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < e; ++i) y[i] = std::fma(alpha, x[i], y[i]);
}

Napi::Value Axpy(const Napi::CallbackInfo& info) {
  const Args A(info);
  const int64_t n = A.Size("n");
  const float* x = A.F32("x", n);
  float* y = A.F32("y", n);
  const float alpha = static_cast<float>(A.Num("alpha"));
  const bool simd = g_paths.UseAvx2();
  parallel_for(n, kGrainCheap, [&](int64_t b, int64_t e) {
    if (simd) {
      AxpyAvx2(x, y, b, e, alpha);
    } else {
      for (int64_t i = b; i < e; ++i) y[i] = std::fma(alpha, x[i], y[i]);
    }
  });
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------------------------------------
// Strided copy and scatter.

// Reads offset, strides and shape; checks every reached offset lies in [0, len(x)). Returns the total.
struct StridedArgs {
  const int32_t* strides;
  const int32_t* shape;
  int rank;
  int64_t offset, total;
};

StridedArgs ReadStrided(const Args& A, const char* xname) {
  const Napi::CallbackInfo& info = A.info();
  const char* op = A.op();
  StridedArgs s;
  s.offset = A.Int("offset");
  s.strides = A.I32("strides", 0);
  s.shape = A.I32("shape", 0);
  const int64_t rank = A.Length("shape");
  if (A.Length("strides") != rank)
    throw ArgError(info, op, "strides has length " + std::to_string(A.Length("strides")) + " but shape has " +
                                 std::to_string(rank));
  if (rank > kMaxRank) throw ArgError(info, op, "rank " + std::to_string(rank) + " exceeds 64");
  s.rank = static_cast<int>(rank);
  s.total = ShapeTotal(info, op, s.shape, s.rank);
  A.F32(xname, 0);
  if (s.total > 0) {
    int64_t lo, hi;
    OffsetRange(s.shape, s.strides, s.rank, &lo, &hi);
    if (s.offset + lo < 0 || s.offset + hi >= A.Length(xname))
      throw ArgError(info, op, std::string("strided view reaches offsets [") + std::to_string(s.offset + lo) + ", " +
                                   std::to_string(s.offset + hi) + "], outside '" + xname + "' of length " +
                                   std::to_string(A.Length(xname)));
  }
  return s;
}

// The transpose case of a strided copy or scatter: dst[a·ds + b] (+)= src[b·ss + a] for a in [a0, a1),
// b in [0, nb). Plain strided loops touch a new cache line (and often a new page) per element; here 64×64
// cache tiles are moved as 8×8 register blocks, each read as 8 contiguous vectors and written as 8.
template <bool kAcc>
void TransposeTileScalar(const float* src, int64_t ss, float* dst, int64_t ds, int64_t a0, int64_t a1, int64_t nb) {
  constexpr int64_t T = 32;
  for (int64_t bb = 0; bb < nb; bb += T) {
    const int64_t be = std::min(bb + T, nb);
    for (int64_t a = a0; a < a1; ++a) {
      float* d = dst + a * ds;
      for (int64_t b = bb; b < be; ++b) {
        if (kAcc) d[b] += src[b * ss + a]; else d[b] = src[b * ss + a];
      }
    }
  }
}

// 64×64 tiles go through a contiguous stack buffer: source rows are copied in whole (each cache line read
// once), then 8×8 register transposes write whole destination lines. Going straight from source to
// destination thrashes L1 when the strides are powers of two (every row maps to the same cache set).
template <bool kAcc>
OLMO_AVX2 void TransposeTileAvx2(const float* src, int64_t ss, float* dst, int64_t ds, int64_t a0, int64_t a1,
                                 int64_t nb) {
  constexpr int64_t T = 64;
  alignas(32) float buf[T * T];
  for (int64_t bb = 0; bb < nb; bb += T) {
    const int64_t nbT = std::min(T, nb - bb);
    for (int64_t aa = a0; aa < a1; aa += T) {
      const int64_t naT = std::min(T, a1 - aa);
      for (int64_t j = 0; j < nbT; ++j) std::memcpy(buf + j * T, src + (bb + j) * ss + aa, static_cast<size_t>(naT) * 4);
      float* d0 = dst + aa * ds + bb;
      int64_t i = 0;
      for (; i + 8 <= naT; i += 8) {
        int64_t j = 0;
        for (; j + 8 <= nbT; j += 8) {
          __m256 r[8];
          for (int k = 0; k < 8; ++k) r[k] = _mm256_load_ps(buf + (j + k) * T + i);  // lanes: i..i+7
          Transpose8x8(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);  // lanes: j..j+7
          for (int k = 0; k < 8; ++k) {
            float* d = d0 + (i + k) * ds + j;
            _mm256_storeu_ps(d, kAcc ? _mm256_add_ps(_mm256_loadu_ps(d), r[k]) : r[k]);
          }
        }
        for (; j < nbT; ++j)
          for (int64_t k = i; k < i + 8; ++k) {
            if (kAcc) d0[k * ds + j] += buf[j * T + k]; else d0[k * ds + j] = buf[j * T + k];
          }
      }
      for (; i < naT; ++i)
        for (int64_t j = 0; j < nbT; ++j) {
          if (kAcc) d0[i * ds + j] += buf[j * T + i]; else d0[i * ds + j] = buf[j * T + i];
        }
    }
  }
}

// Batched transposes: when the view's stride-1 axis is the second to last (l.sa[r-2] == 1, l.sa[r-1] = s),
// copy does out[o][i][j] = x[base(o) + i + j·s] and scatter does out[base(o) + i + j·s] (+)= x[o][i][j].
// Tasks are (matrix o, block of 64 destination rows); destination rows never overlap between tasks (for a
// scatter the caller checked the view is injective). Returns false when the view is not such a transpose.
bool TransposeView(const Layout& l, const float* x, float* out, bool scatter, bool accumulate) {
  const int r = static_cast<int>(l.shape.size());
  if (r < 2 || l.sa[r - 1] == 1 || l.sa[r - 2] != 1 || l.shape[r - 1] < 8 || l.shape[r - 2] < 8) return false;
  const int64_t R = l.shape[r - 2], C = l.shape[r - 1], sj = l.sa[r - 1];
  const int64_t rowsDst = scatter ? C : R, colsDst = scatter ? R : C;
  const int64_t blocks = (rowsDst + 63) / 64, outer = Total(l) / (R * C);
  const bool simd = g_paths.UseAvx2();
  const int64_t grain = std::max<int64_t>(1, kGrainCheap / (64 * colsDst));
  parallel_for(outer * blocks, grain, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      const int64_t o = t / blocks, a0 = (t % blocks) * 64, a1 = std::min(rowsDst, a0 + 64);
      int64_t base = 0, rem = o;
      for (int d = r - 3; d >= 0; --d) {
        base += (rem % l.shape[d]) * l.sa[d];
        rem /= l.shape[d];
      }
      // copy: dst = out[o] (ds = C), src = x + base (ss = sj); scatter: dst = out + base (ds = sj), src = x[o] (ss = C).
      const float* src = scatter ? x + o * R * C : x + base;
      float* dst = scatter ? out + base : out + o * R * C;
      const int64_t ss = scatter ? C : sj, ds = scatter ? sj : C;
      if (simd) {
        if (accumulate) TransposeTileAvx2<true>(src, ss, dst, ds, a0, a1, colsDst);
        else TransposeTileAvx2<false>(src, ss, dst, ds, a0, a1, colsDst);
      } else {
        if (accumulate) TransposeTileScalar<true>(src, ss, dst, ds, a0, a1, colsDst);
        else TransposeTileScalar<false>(src, ss, dst, ds, a0, a1, colsDst);
      }
    }
  });
  return true;
}

Napi::Value CopyStrided(const Napi::CallbackInfo& info) {
  const Args A(info);
  const StridedArgs s = ReadStrided(A, "x");
  float* out = A.F32("out", s.total);
  if (s.total == 0) return info.Env().Undefined();
  const float* x = A.F32("x", 0) + s.offset;  // every read lies in range (checked above)
  const Layout l = Normalise(s.rank, s.shape, s.strides, nullptr);
  if (TransposeView(l, x, out, /*scatter=*/false, /*accumulate=*/false)) return info.Env().Undefined();
  const int64_t inner = l.sa.back();
  parallel_for(s.total, kGrainCheap, [&](int64_t begin, int64_t end) {
    ForEachRun(l, begin, end, [&](int64_t pos, int64_t ox, int64_t, int64_t len) {
      const float* src = x + ox;
      float* dst = out + pos;
      if (inner == 1) {
        std::memcpy(dst, src, static_cast<size_t>(len) * 4);
      } else if (inner == 0) {
        std::fill(dst, dst + len, *src);
      } else {
        for (int64_t i = 0; i < len; ++i) dst[i] = src[i * inner];
      }
    });
  });
  return info.Env().Undefined();
}

// True when distinct indices reach distinct offsets (sufficient test: sorted by |stride|, each stride
// exceeds the span of all smaller ones). Only then may a scatter run on several threads.
bool Injective(const Layout& l) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (|stride|, size)
  for (size_t d = 0; d < l.shape.size(); ++d)
    if (l.shape[d] > 1) dims.push_back({std::llabs(l.sa[d]), l.shape[d]});
  std::sort(dims.begin(), dims.end());
  int64_t span = 0;
  for (auto& [st, n] : dims) {
    if (st <= span) return false;
    span += st * (n - 1);
  }
  return true;
}

OLMO_AVX2 void AddRunAvx2(const float* x, float* o, int64_t len) {
  int64_t i = 0;
  for (; i + 8 <= len; i += 8)
    _mm256_storeu_ps(o + i, _mm256_add_ps(_mm256_loadu_ps(o + i), _mm256_loadu_ps(x + i)));
  for (; i < len; ++i) o[i] += x[i];
}

Napi::Value ScatterStrided(const Napi::CallbackInfo& info) {
  const char* kOp = "scatterStrided";
  const Args A(info);
  const StridedArgs s = ReadStrided(A, "out");
  const bool accumulate = A.Bool("accumulate");
  const float* x = A.F32("x", s.total);
  if (!accumulate)
    for (int d = 0; d < s.rank; ++d)
      if (s.strides[d] == 0 && s.shape[d] > 1)
        throw ArgError(info, kOp, "strides[" + std::to_string(d) + "] is 0: only allowed when accumulating");
  if (s.total == 0) return info.Env().Undefined();
  float* out = A.F32("out", 0) + s.offset;  // every write lies in range (checked above)
  const Layout l = Normalise(s.rank, s.shape, s.strides, nullptr);
  const int64_t inner = l.sa.back();
  const bool simd = g_paths.UseAvx2();
  auto body = [&](int64_t begin, int64_t end) {
    ForEachRun(l, begin, end, [&](int64_t pos, int64_t oo, int64_t, int64_t len) {
      const float* src = x + pos;
      float* dst = out + oo;
      if (inner == 1) {
        if (!accumulate) std::memcpy(dst, src, static_cast<size_t>(len) * 4);
        else if (simd) AddRunAvx2(src, dst, len);
        else for (int64_t i = 0; i < len; ++i) dst[i] += src[i];
      } else if (inner == 0) {  // one target for the whole run (an expand's adjoint, or a single element)
        if (accumulate) {
          float acc = *dst;  // summed in order, as the reference does
          for (int64_t i = 0; i < len; ++i) acc += src[i];
          *dst = acc;
        } else {
          *dst = src[len - 1];
        }
      } else if (accumulate) {
        for (int64_t i = 0; i < len; ++i) dst[i * inner] += src[i];
      } else {
        for (int64_t i = 0; i < len; ++i) dst[i * inner] = src[i];
      }
    });
  };
  // Overlapping targets (an expand's adjoint) are summed on one thread, in order: deterministic.
  if (!Injective(l)) body(0, s.total);
  else if (!TransposeView(l, x, out, /*scatter=*/true, accumulate)) parallel_for(s.total, kGrainCheap, body);
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------------------------------------
// SwiGLU.

OLMO_AVX2 void SwigluAvx2(const float* g, const float* u, float* o, int64_t b, int64_t e) {
  int64_t i = b;
  for (; i + 8 <= e; i += 8) {
    const __m256 x = _mm256_loadu_ps(g + i);
    _mm256_storeu_ps(o + i, _mm256_mul_ps(_mm256_mul_ps(x, SigmoidV(x)), _mm256_loadu_ps(u + i)));
  }
  for (; i < e; ++i) o[i] = g[i] * SigmoidS(g[i]) * u[i];
}

Napi::Value Swiglu(const Napi::CallbackInfo& info) {
  const Args A(info);
  const int64_t n = A.Size("n");
  const float* gate = A.F32("gate", n);
  const float* up = A.F32("up", n);
  float* out = A.F32("out", n);
  const bool simd = g_paths.UseAvx2();
  parallel_for(n, kGrainMath, [&](int64_t b, int64_t e) {
    if (simd) SwigluAvx2(gate, up, out, b, e);
    else for (int64_t i = b; i < e; ++i) out[i] = gate[i] * SigmoidS(gate[i]) * up[i];
  });
  return info.Env().Undefined();
}

inline void SwigluBwS(float g, float u, float go, float* gg, float* gu) {
  const float s = SigmoidS(g);
  const float silu = g * s;
  const float gu_ = go * silu;
  *gg = go * u * (s * (1.f + g * (1.f - s)));
  *gu = gu_;
}

OLMO_AVX2 void SwigluBwAvx2(const float* g, const float* u, const float* go, float* gg, float* gu, int64_t b,
                            int64_t e) {
  const __m256 one = _mm256_set1_ps(1.f);
  int64_t i = b;
  for (; i + 8 <= e; i += 8) {
    const __m256 x = _mm256_loadu_ps(g + i), up = _mm256_loadu_ps(u + i), gout = _mm256_loadu_ps(go + i);
    const __m256 s = SigmoidV(x);
    const __m256 d = _mm256_mul_ps(s, _mm256_add_ps(one, _mm256_mul_ps(x, _mm256_sub_ps(one, s))));
    _mm256_storeu_ps(gu + i, _mm256_mul_ps(gout, _mm256_mul_ps(x, s)));
    _mm256_storeu_ps(gg + i, _mm256_mul_ps(_mm256_mul_ps(gout, up), d));
  }
  for (; i < e; ++i) SwigluBwS(g[i], u[i], go[i], gg + i, gu + i);
}

Napi::Value SwigluBackward(const Napi::CallbackInfo& info) {
  const Args A(info);
  const int64_t n = A.Size("n");
  const float* gate = A.F32("gate", n);
  const float* up = A.F32("up", n);
  const float* gOut = A.F32("gOut", n);
  float* gGate = A.F32("gGate", n);
  float* gUp = A.F32("gUp", n);
  const bool simd = g_paths.UseAvx2();
  parallel_for(n, kGrainMath, [&](int64_t b, int64_t e) {
    if (simd) SwigluBwAvx2(gate, up, gOut, gGate, gUp, b, e);
    else for (int64_t i = b; i < e; ++i) SwigluBwS(gate[i], up[i], gOut[i], gGate + i, gUp + i);
  });
  return info.Env().Undefined();
}

}  // namespace

void RegisterElementwise(Napi::Env env, Napi::Object exports) {
  g_paths.RegisterHook(env, exports);
  static const KernelDef kKernels[] = {
      {"binary", "op:binaryOp a:f32 aStrides:i32 b:f32 bStrides:i32 out:f32 shape:i32", Binary},
      {"unary", "op:unaryOp x:f32 out:f32 n:size p0:num p1:num", Unary},
      {"unaryBackward", "op:unaryOp x:f32 y:f32 gy:f32 gx:f32 n:size p0:num p1:num", UnaryBackward},
      {"axpy", "x:f32 y:f32 n:size alpha:num", Axpy},
      {"copyStrided", "x:f32 offset:int strides:i32 out:f32 shape:i32", CopyStrided},
      {"scatterStrided", "x:f32 out:f32 offset:int strides:i32 shape:i32 accumulate:bool", ScatterStrided},
      {"swiglu", "gate:f32 up:f32 out:f32 n:size", Swiglu},
      {"swigluBackward", "gate:f32 up:f32 gOut:f32 gGate:f32 gUp:f32 n:size", SwigluBackward},
  };
  RegisterKernels(env, exports, kKernels);
}

}  // namespace olmo
