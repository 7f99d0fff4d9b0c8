// Weight-only GEMM for inference: out[m, n] = x[m, k] · W[n, k]ᵀ with x in f32 and W stored as bf16, f16 or
// q8_0 (int8 in 32-element blocks, one f16 scale per block: llama.cpp's q8_0 idea, weights only), widened
// inside the kernel and accumulated in f32. One loop serves decoding (m = 1: a GEMV that streams W once, both
// threads on disjoint weight rows) and prefill (tiles of x rows share each widened weight vector).
//
// Each output element's sum has one fixed order (wgemm_isa.h), the same on the AVX-512, AVX2 and scalar paths
// and for any m, so results are bit-identical across batch sizes, batch positions and machines. The opt-in bf16
// fast mode (linearBf16Fast, wgemm_bf16dot.h) keeps the first two but not the last: its rounding is the CPU's.
#include <immintrin.h>
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>


#include "gemm_scratch.h"
#include "napi_args.h"
#include "row_parallel.h"
#include "simd.h"
#include "threadpool.h"

namespace olmo {
namespace {

// Per-thread buffers: 0 the panel path's widened weights (wgemm_panel.h), or bf16 rows staged onto cache lines
// (Run); 1 the panel path's carried lane sums; and on the calling thread, 2 the packed x (or, for bf16 weights, x
// de-interleaved: PairX; in the bf16 fast mode, x as bf16).
gemm::Scratch& PanelScratch(int i) {
  static thread_local gemm::Scratch s[3];
  return s[i];
}

// The panel path's shape (wgemm_panel.h): weight rows per panel, which is also the rows a thread takes at a time
// on that path (ParallelParts), and k steps (16 weights) per chunk and per panel block. Longer chunks carry
// the lane sums out and back in less often; wider panels stream x through the cache once per more weight rows.
// A chunk's x group (24 KiB) stays in L1 and a block's panel (512 KiB) in L2. bench llm measures the path.
constexpr int64_t kPanelRows = 64, kPanelChunk = 64, kPanelBlock = 128;

// How far ahead of itself, in weights, each load of a decoding tile's bf16 row prefetches (1.5 KiB): with few long
// streams (StridedDecodeColumns) the hardware prefetcher alone starts each 4 KiB page late, and prefetching the next
// row instead arrived too early. Decoding only (one x row); bench llm measures it.
constexpr int64_t kBf16DecodeAhead = 768;

inline uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float FromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// IEEE half -> f32, exact (subnormals included): the scale of a q8_0 block.
inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 31u, mant = h & 0x3ffu;
  if (e == 31) return FromBits(sign | 0x7f800000u | (mant << 13));
  if (e == 0) return FromBits(sign) + (sign ? -1.f : 1.f) * static_cast<float>(mant) * 0x1p-24f;
  return FromBits(sign | ((e + 112u) << 23) | (mant << 13));
}

// f32 -> IEEE half, round to nearest even (F. Giesen's float_to_half_fast3_rtne, public domain:
// https://gist.github.com/rygorous/2156668). Only for q8_0 scales at quantisation time.
inline uint16_t FloatToHalf(float f) {
  const uint32_t f32_inf = 255u << 23, f16_max = (127u + 16u) << 23;
  const float denorm_magic = FromBits(((127u - 15u) + (23u - 10u) + 1u) << 23);
  uint32_t x = Bits(f);
  const uint32_t sign = x & 0x80000000u;
  x ^= sign;
  uint16_t o;
  if (x >= f16_max) {
    o = x > f32_inf ? 0x7e00 : 0x7c00;
  } else if (x < (113u << 23)) {
    o = static_cast<uint16_t>(Bits(FromBits(x) + denorm_magic) - Bits(denorm_magic));
  } else {
    const uint32_t odd = (x >> 13) & 1u;
    x += (static_cast<uint32_t>(15 - 127) << 23) + 0xfffu;
    x += odd;
    o = static_cast<uint16_t>(x >> 13);
  }
  return static_cast<uint16_t>(o | (sign >> 16));
}

// q8_0 weights as rows: row j of a matrix [n, k] is its k int8 quants followed by its k / 32 block scales (f16
// bits), Q8RowBytes(k) bytes, so that decoding streams each row's scales with its quants, one stream per row
// (a separate array of scales was a second stream per row, which decoding read markedly slower on a fast host).
// k is a multiple of 32, so every row, and every row's scales, starts on an even byte.
constexpr int64_t Q8RowBytes(int64_t k) { return k + k / 16; }
inline const int8_t* Q8Row(const int8_t* w, int64_t k, int64_t j) { return w + j * Q8RowBytes(k); }
inline const uint16_t* Q8RowScales(const int8_t* w, int64_t k, int64_t j) {
  return reinterpret_cast<const uint16_t*>(Q8Row(w, k, j) + k);
}

inline float Bf16ToFloat(uint16_t b) { return FromBits(static_cast<uint32_t>(b) << 16); }

// ---- scalar path: 16 lanes in an array, std::fma (one rounding, as the SIMD paths) ----
namespace scalar {
struct V {
  float a[16];
};
inline V VZero() { return V{}; }
inline V VLoad(const float* p) {
  V v;
  std::memcpy(v.a, p, sizeof v.a);
  return v;
}
inline void VStore(float* p, V v) { std::memcpy(p, v.a, sizeof v.a); }
inline V VSet1(float s) {
  V v;
  for (float& x : v.a) x = s;
  return v;
}
inline V VMul(V a, V b) {
  for (int l = 0; l < 16; ++l) a.a[l] *= b.a[l];
  return a;
}
inline V VFma(V a, V b, V c) {
  for (int l = 0; l < 16; ++l) c.a[l] = std::fma(a.a[l], b.a[l], c.a[l]);
  return c;
}
inline float VReduce(V v) {
  for (int w = 8; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) v.a[l] += v.a[l + w];
  return v.a[0];
}
// VReduce of the 16 vectors at v, v + 16, ..., v + 240, into out[0..16).
inline void VReduce16(const float* v, float* out) {
  for (int j = 0; j < 16; ++j) out[j] = VReduce(VLoad(v + 16 * j));
}
inline V WidenBf16(const uint16_t* p) {
  V v;
  for (int l = 0; l < 16; ++l) v.a[l] = Bf16ToFloat(p[l]);
  return v;
}
inline V Bf16Even(const uint16_t* p) {
  V v;
  for (int l = 0; l < 16; ++l) v.a[l] = Bf16ToFloat(p[2 * l]);
  return v;
}
inline V Bf16Odd(const uint16_t* p) {
  V v;
  for (int l = 0; l < 16; ++l) v.a[l] = Bf16ToFloat(p[2 * l + 1]);
  return v;
}
inline V WidenF16(const uint16_t* p) {
  V v;
  for (int l = 0; l < 16; ++l) v.a[l] = HalfToFloat(p[l]);
  return v;
}
inline V WidenI8(const int8_t* p) {
  V v;
  for (int l = 0; l < 16; ++l) v.a[l] = static_cast<float>(p[l]);
  return v;
}
inline float ScaleToFloat(uint16_t h) { return HalfToFloat(h); }
inline float VAbsMax(V a, V b) {
  float m = 0.f;
  for (int l = 0; l < 16; ++l) m = std::fmax(m, std::fmax(std::fabs(a.a[l]), std::fabs(b.a[l])));
  return m;
}
inline bool VAllFinite(V a, V b) {
  bool ok = true;
  for (int l = 0; l < 16; ++l) ok = ok && std::isfinite(a.a[l]) && std::isfinite(b.a[l]);
  return ok;
}
inline void VQuantize(V v, float id, int8_t* out) {
  for (int l = 0; l < 16; ++l) {
    const float x = v.a[l] * id, a = std::fabs(x), t = std::trunc(a);
    const float r = std::fmin(a - t >= 0.5f ? t + 1.f : t, 127.f);
    out[l] = static_cast<int8_t>(static_cast<int>(x < 0.f ? -r : r));
  }
}
// No aligned-load bf16 decoding tile on this path (the AVX-512 one: wgemm_bf16lines.h).
template <int RN>
inline bool AlignedBf16Tile(const float*, const uint16_t* const*, int64_t, V*) {
  return false;
}
#include "wgemm_isa.h"
#include "wgemm_panel.h"
constexpr int kRM = 1, kRN = 1, kRN1 = 1, kPM = 1, kPN = 1;
}  // namespace scalar

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace avx2 {
// 16 lanes as two ymm: lanes 0-7 in lo, 8-15 in hi.
struct V {
  __m256 lo, hi;
};
inline V VZero() { return V{_mm256_setzero_ps(), _mm256_setzero_ps()}; }
inline V VLoad(const float* p) { return V{_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
inline void VStore(float* p, V v) {
  _mm256_storeu_ps(p, v.lo);
  _mm256_storeu_ps(p + 8, v.hi);
}
inline V VSet1(float s) { return V{_mm256_set1_ps(s), _mm256_set1_ps(s)}; }
inline V VMul(V a, V b) { return V{_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; }
inline V VFma(V a, V b, V c) { return V{_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)}; }
inline float VReduce(V v) {
  const __m256 s = _mm256_add_ps(v.lo, v.hi);  // lanes l + l+8
  const __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));  // + l+4
  const __m128 u = _mm_add_ps(t, _mm_movehl_ps(t, t));  // + l+2
  return _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 1)));
}
// VReduce of the 16 vectors at v, v + 16, ..., v + 240, into out[0..16).
inline void VReduce16(const float* v, float* out) {
  for (int j = 0; j < 16; ++j) out[j] = VReduce(VLoad(v + 16 * j));
}
inline __m256 Bf16x8(const uint16_t* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
inline V WidenBf16(const uint16_t* p) { return V{Bf16x8(p), Bf16x8(p + 8)}; }
inline __m256 EvenX8(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), 16));
}
inline __m256 OddX8(const uint16_t* p) {
  return _mm256_castsi256_ps(
      _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), _mm256_set1_epi32(-65536)));
}
inline V Bf16Even(const uint16_t* p) { return V{EvenX8(p), EvenX8(p + 16)}; }
inline V Bf16Odd(const uint16_t* p) { return V{OddX8(p), OddX8(p + 16)}; }
inline V WidenF16(const uint16_t* p) {
  return V{_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
           _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)))};
}
inline __m256 I8x8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline V WidenI8(const int8_t* p) { return V{I8x8(p), I8x8(p + 8)}; }
inline float ScaleToFloat(uint16_t h) { return _cvtsh_ss(h); }  // F16C: exact, subnormals included
inline __m256 Abs8(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), x); }
inline float VAbsMax(V a, V b) {
  const __m256 m = _mm256_max_ps(_mm256_max_ps(Abs8(a.lo), Abs8(a.hi)), _mm256_max_ps(Abs8(b.lo), Abs8(b.hi)));
  __m128 t = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  t = _mm_max_ps(t, _mm_movehl_ps(t, t));
  return _mm_cvtss_f32(_mm_max_ss(t, _mm_shuffle_ps(t, t, 1)));
}
inline bool VAllFinite(V a, V b) {  // w - w is 0 for finite w, NaN otherwise
  const __m256 z = _mm256_add_ps(_mm256_add_ps(_mm256_sub_ps(a.lo, a.lo), _mm256_sub_ps(a.hi, a.hi)),
                                 _mm256_add_ps(_mm256_sub_ps(b.lo, b.lo), _mm256_sub_ps(b.hi, b.hi)));
  return _mm256_movemask_ps(_mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_EQ_OQ)) == 0xff;
}
inline __m256i Quant8(__m256 w, __m256 id) {
  const __m256 v = _mm256_mul_ps(w, id), a = Abs8(v);
  const __m256 t = _mm256_round_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 up = _mm256_cmp_ps(_mm256_sub_ps(a, t), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 r = _mm256_min_ps(_mm256_add_ps(t, _mm256_and_ps(up, _mm256_set1_ps(1.f))), _mm256_set1_ps(127.f));
  return _mm256_cvttps_epi32(_mm256_or_ps(r, _mm256_and_ps(v, _mm256_set1_ps(-0.f))));
}
inline void VQuantize(V v, float id, int8_t* out) {
  const __m256 s = _mm256_set1_ps(id);
  // packs works within 128-bit lanes: reorder the 64-bit quarters back to lanes 0..15 before the last pack.
  const __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(Quant8(v.lo, s), Quant8(v.hi, s)), 0xd8);
  const __m128i p8 = _mm_packs_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256(p16, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), p8);
}
// No aligned-load bf16 decoding tile on this path (the AVX-512 one: wgemm_bf16lines.h).
template <int RN>
inline bool AlignedBf16Tile(const float*, const uint16_t* const*, int64_t, V*) {
  return false;
}
#include "wgemm_isa.h"
#include "wgemm_panel.h"
// Two ymm per 16-lane vector: three weight rows for one x row are six FMA chains, which leaves the rest of the
// 16 registers for widening without spilling accumulators to the stack.
constexpr int kRM = 2, kRN = 2, kRN1 = 3, kPM = 3, kPN = 2;
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl")
// GCC 12 flags the deliberately undefined upper halves inside its own AVX-512 conversion intrinsics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace avx512 {
using V = __m512;
inline V VZero() { return _mm512_setzero_ps(); }
inline V VLoad(const float* p) { return _mm512_loadu_ps(p); }
inline void VStore(float* p, V v) { _mm512_storeu_ps(p, v); }
inline V VSet1(float s) { return _mm512_set1_ps(s); }
inline V VMul(V a, V b) { return _mm512_mul_ps(a, b); }
inline V VFma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline float VReduce(V v) {
  const __m256 s = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  const __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  const __m128 u = _mm_add_ps(t, _mm_movehl_ps(t, t));
  return _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 1)));
}
// VReduce of the 16 vectors at v, v + 16, ..., v + 240, into out[0..16): the same adds of the same lanes as VReduce
// (l + l+8, then + l+4, + l+2, + l+1) for each vector, but each level pairs up vectors so that one add serves two
// (then four, eight, sixteen) of them. Lane 4r + s of the last level holds vector 4s + r's sum.
inline void VReduce16(const float* v, float* out) {
  __m512 b[8], c[4], d[2];
  for (int p = 0; p < 8; ++p) {  // + l+8: vector 2p's eight sums in lanes 0-7, vector 2p + 1's in lanes 8-15
    const __m512 a0 = _mm512_loadu_ps(v + 32 * p), a1 = _mm512_loadu_ps(v + 32 * p + 16);
    b[p] = _mm512_add_ps(_mm512_shuffle_f32x4(a0, a1, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(a0, a1, _MM_SHUFFLE(3, 2, 3, 2)));
  }
  for (int q = 0; q < 4; ++q)  // + l+4: 128-bit quarter r holds vector 4q + r's four sums
    c[q] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * q], b[2 * q + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(b[2 * q], b[2 * q + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  // + l+2: quarter r, lanes 0-1: vector 8h + r's two sums; lanes 2-3: vector 8h + 4 + r's
  for (int h = 0; h < 2; ++h) {
    const __m512d c0 = _mm512_castps_pd(c[2 * h]), c1 = _mm512_castps_pd(c[2 * h + 1]);
    d[h] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(c0, c1)), _mm512_castpd_ps(_mm512_unpackhi_pd(c0, c1)));
  }
  // + l+1: quarter r, lane s holds vector 4s + r's sum; the permutation puts vector j in lane j.
  const __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  _mm512_storeu_ps(out, _mm512_permutexvar_ps(order, e));
}
inline V WidenBf16(const uint16_t* p) {
  const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
inline V Bf16Even(const uint16_t* p) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_loadu_si512(p), 16)); }
inline V Bf16Odd(const uint16_t* p) {
  return _mm512_castsi512_ps(_mm512_and_si512(_mm512_loadu_si512(p), _mm512_set1_epi32(-65536)));
}
inline V WidenF16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline V WidenI8(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline float ScaleToFloat(uint16_t h) { return _cvtsh_ss(h); }
inline float VAbsMax(V a, V b) { return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b))); }
inline bool VAllFinite(V a, V b) {  // w - w is 0 for finite w, NaN otherwise
  const __m512 z = _mm512_add_ps(_mm512_sub_ps(a, a), _mm512_sub_ps(b, b));
  return _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_EQ_OQ) == 0xffff;
}
inline void VQuantize(V w, float id, int8_t* out) {
  const __m512 v = _mm512_mul_ps(w, _mm512_set1_ps(id)), a = _mm512_abs_ps(v);
  const __m512 t = _mm512_roundscale_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __mmask16 up = _mm512_cmp_ps_mask(_mm512_sub_ps(a, t), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 r = _mm512_min_ps(_mm512_mask_add_ps(t, up, t, _mm512_set1_ps(1.f)), _mm512_set1_ps(127.f));
  const __m512 signed_r = _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_castps_si512(r), _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN))));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(signed_r)));
}
#include "wgemm_bf16lines.h"
#include "wgemm_isa.h"
#include "wgemm_panel.h"
constexpr int kRM = 4, kRN = 4, kRN1 = 8;  // eight FMA chains for one x row
// Tiles of 6 x rows (24 accumulators, 4 weight vectors and an x vector in the 32 registers) load, and for bf16,
// f16 and q8_0 widen, each weight vector for more products than 4.
constexpr int kWideRM = 6;
constexpr int kPM = 6, kPN = 4;            // the prefill panel's tile: 24 accumulators of 32 registers
}  // namespace avx512
#pragma GCC diagnostic pop
#pragma GCC pop_options

#include "wgemm_bf16dot.h"
#include "wgemm_q8dot.h"

// The last k % 16 weights of every row, widened and zero-padded to 16 (empty when k % 16 == 0).
template <class Widen>
std::vector<float> WidenedTails(int64_t n, int64_t k, Widen widen) {
  std::vector<float> t;
  const int64_t k16 = k - k % 16;
  if (k16 == k) return t;
  t.assign(static_cast<size_t>(n * 16), 0.f);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t c = k16; c < k; ++c) t[j * 16 + (c - k16)] = widen(j * k + c);
  return t;
}

// Runs columns(p, j0, j1) over the output columns [0, ns[p]) of every part p of a product (weight matrices that
// multiply the same x: one, or a model's q/k/v or gate/up projections) on the thread pool, as one job: the parts'
// rows are dealt out as one range, so a decoding step pays for one wake-up and one ragged end, not one per matrix.
// Threads take chunks of weight rows from a shared counter rather than a fixed half each: when another process
// holds one core for a while (a shared machine), the other thread goes on taking chunks instead of waiting at the
// end of the call for the stalled one. Which thread computes a column never changes its sum, so results stay the
// same bits, whatever the parts. With several x rows a thread takes rows_per_chunk rows at a time (a multiple of
// the tile widths: the panel path's kPanelRows, else 32).
template <class Columns>
void ParallelParts(int64_t m, int64_t k, const std::vector<int64_t>& ns, const Columns& columns,
                   int64_t rows_per_chunk = 32) {
  std::vector<int64_t> starts(ns.size() + 1, 0);  // part p's rows are [starts[p], starts[p + 1]) of the range
  for (size_t p = 0; p < ns.size(); ++p) starts[p + 1] = starts[p] + ns[p];
  const int64_t n = starts.back();
  // Calls columns for the range's rows [j0, j1), part by part.
  const auto span = [&](int64_t j0, int64_t j1) {
    for (size_t p = 0; p < ns.size() && j0 < j1; ++p) {
      if (j0 >= starts[p + 1]) continue;
      const int64_t e = std::min(j1, starts[p + 1]);
      columns(p, j0 - starts[p], e - starts[p]);
      j0 = e;
    }
  };
  // Small products run on the calling thread: waking a worker costs more than they take.
  const int64_t grain = std::max<int64_t>(4, 262144 / std::max<int64_t>(1, m * k));
  const int nt = static_cast<int>(std::min<int64_t>(num_threads(), (n + grain - 1) / grain));
  if (nt <= 1) {
    span(0, n);
    return;
  }
  constexpr int64_t kRowsPerChunk = 32;  // a multiple of the AVX-512 and prefill tile widths
  std::atomic<int64_t> next{0};
  if (m > 1) {
    parallel_run(nt, [&](int, int) {
      for (int64_t j0; (j0 = next.fetch_add(rows_per_chunk, std::memory_order_relaxed)) < n;)
        span(j0, std::min(j0 + rows_per_chunk, n));
    });
    return;
  }
  // One x row (decoding) streams W once, and the start of every chunk is a cold start for the load streams the
  // hardware prefetcher follows (and for the q8_0 tiles' prefetch of the rows after them; bf16's strided tiles,
  // Columns, want long chunks too). So a decoding thread takes (rows left) / (2·nt) at a time, rounded up to 32,
  // within one part: long chunks first, shorter ones towards the end, where they keep both threads busy until the
  // last rows.
  parallel_run(nt, [&](int, int) {
    int64_t j0 = next.load(std::memory_order_relaxed);
    while (j0 < n) {
      const int64_t part_end = *std::upper_bound(starts.begin(), starts.end(), j0);
      const int64_t rows = std::max(kRowsPerChunk, ((n - j0) / (2 * nt) + 31) / 32 * 32);
      const int64_t j1 = std::min(j0 + rows, part_end);
      if (!next.compare_exchange_weak(j0, j1, std::memory_order_relaxed)) continue;  // j0 reloaded
      span(j0, j1);
      j0 = next.load(std::memory_order_relaxed);
    }
  });
}

// ParallelParts for a product of one weight matrix: columns(j0, j1) over [0, n).
template <class Columns>
void ParallelColumns(int64_t m, int64_t n, int64_t k, const Columns& columns) {
  ParallelParts(m, k, {n}, [&](size_t, int64_t j0, int64_t j1) { columns(j0, j1); });
}

// The panel path (wgemm_panel.h) serves f32 weights from kPanelMinRows x rows on, where rows are longer than
// kPanelMaxTileK. Tile reads an x group of RM rows whole for every block of weight rows: up to about 1024 floats a
// row (6 rows of 4 KiB, half of a 48 KiB L1) the group stays in L1 and Tile is faster than a panel at any number of
// rows (it copies nothing); longer rows spill to L2, and there the panel's k chunks, which keep a group's chunk in
// L1, pay for their copy of the weights from about 96 rows on. q8_0 weights take the panel from 96 rows on at any
// k: Tile would widen and scale every weight again for each group of x rows, the panel once. (With bf16 and f16
// weights Tile's own widening, from fewer bytes, measured as fast or faster than a panel of the same weights.)
constexpr int64_t kPanelMinRows = 96, kPanelMaxTileK = 1024;

// The weight formats the panel path serves (their rows types have Load, and share F32Rows' order).
template <class Avx512>
constexpr bool kPanelFormat = std::is_same_v<Avx512, avx512::F32Rows> || std::is_same_v<Avx512, avx512::Q8Rows>;

// Columns on the path in use, each path reading w through its own rows type.
template <class Scalar, class Avx2, class Avx512>
void PathColumns(CpuPath path, const float* x, const Scalar& ws, const Avx2& w2, const Avx512& w5, float* out,
                 int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1, const float* tail) {
  if (path == CpuPath::kAvx512)
    avx512::Columns<avx512::kWideRM, avx512::kRN, avx512::kRN1>(x, w5, out, m, n, k, j0, j1, tail);
  else if (path == CpuPath::kAvx2)
    avx2::Columns<avx2::kRM, avx2::kRN, avx2::kRN1>(x, w2, out, m, n, k, j0, j1, tail);
  else
    scalar::Columns<scalar::kRM, scalar::kRN, scalar::kRN1>(x, ws, out, m, n, k, j0, j1, tail);
}

// bf16 weight rows that start off a 64-byte line (a mapped checkpoint's tensors usually do) make every vector
// load of them span two lines. One x row reads them with aligned loads (wgemm_bf16lines.h); from two x rows on,
// each thread copies its chunk of rows onto lines first (the tiles then read the copy, from cache, once per group
// of x rows), which batched decoding and prefill measured faster than reading the rows in place.
constexpr int64_t kBf16StageMinRows = 2;

// Whether a product of m x rows by bf16 weights w [n, k] reads staged copies of the rows (StageRows): rows off
// their lines, of whole blocks (k % 32 == 0: then every row of the copy starts on a line too, and none has a tail).
bool StagesBf16Rows(const uint16_t* w, int64_t m, int64_t k) {
  return m >= kBf16StageMinRows && k % 32 == 0 && reinterpret_cast<uintptr_t>(w) % 64 != 0;
}

// Weight rows [j0, j1) of length k copied into the calling thread's scratch (PanelScratch(0)), which starts on a
// line: with k % 32 == 0 every copied row does.
const uint16_t* StageRows(const uint16_t* w, int64_t k, int64_t j0, int64_t j1) {
  const int64_t count = (j1 - j0) * k;
  auto* staged = reinterpret_cast<uint16_t*>(PanelScratch(0).get((count + 1) / 2));
  std::memcpy(staged, w + j0 * k, static_cast<size_t>(count) * sizeof(uint16_t));
  return staged;
}

// One weight matrix of a product, read on every path through its rows types (scalar, AVX2, AVX-512), its output
// out [m, n], its rows' widened tails (null when none) and its input x [m, k].
template <class Scalar, class Avx2, class Avx512>
struct RowsPart {
  Scalar ws;
  Avx2 w2;
  Avx512 w5;
  float* out;
  int64_t n;
  const float* tail;
  const float* x;  // the part's input, as the tiles read it
};

// The inputs of a product's parts: one x that every part multiplies (prepared once for all of them), or each
// part its own (linearGroup's inputs). Part p's input is the of(p)-th.
struct Inputs {
  size_t count;
  size_t of(size_t p) const { return count == 1 ? 0 : p; }
};

template <class Part>
Inputs InputsOf(const std::vector<Part>& parts) {
  for (const Part& p : parts)
    if (p.x != parts[0].x) return {parts.size()};
  return {1};
}

template <class Part>
std::vector<int64_t> RowCounts(const std::vector<Part>& parts) {
  std::vector<int64_t> ns;
  for (const Part& p : parts) ns.push_back(p.n);
  return ns;
}

// The exact kernels on the path in use, for every part of a product at once: Columns, or for f32 weights and many
// x rows the panel path (wgemm_panel.h) on x packed once for all threads, or for bf16 rows off their lines Columns
// on staged copies.
template <class Scalar, class Avx2, class Avx512>
void Run(int64_t m, int64_t k, const std::vector<RowsPart<Scalar, Avx2, Avx512>>& parts) {
  const CpuPath path = ActivePath();
  const std::vector<int64_t> ns = RowCounts(parts);
  if constexpr (kPanelFormat<Avx512>) {
    if (m >= kPanelMinRows && (k > kPanelMaxTileK || std::is_same<Avx512, avx512::Q8Rows>::value)) {
      const int rm = path == CpuPath::kAvx512 ? avx512::kPM : path == CpuPath::kAvx2 ? avx2::kPM : scalar::kPM;
      const int64_t size = (m + rm - 1) / rm * rm * ((k + 15) / 16) * 16;  // of one packed input
      const Inputs in = InputsOf(parts);
      float* xp = PanelScratch(2).get(static_cast<int64_t>(in.count) * size);
      for (size_t i = 0; i < in.count; ++i)  // by groups of rm rows, split between the threads
        ForRows((m + rm - 1) / rm, rm * k, [&](int64_t g0, int64_t g1) {
          scalar::PackX(parts[i].x, m, k, rm, xp + i * size, g0, g1);
        });
      ParallelParts(m, k, ns, [&](size_t p, int64_t j0, int64_t j1) {
        const auto& P = parts[p];
        const float* xp_p = xp + in.of(p) * size;
        if (path == CpuPath::kAvx512)
          avx512::PanelColumns<avx512::kPM, avx512::kPN>(xp_p, P.w5, P.out, m, P.n, k, j0, j1, P.tail);
        else if (path == CpuPath::kAvx2)
          avx2::PanelColumns<avx2::kPM, avx2::kPN>(xp_p, P.w2, P.out, m, P.n, k, j0, j1, P.tail);
        else
          scalar::PanelColumns<scalar::kPM, scalar::kPN>(xp_p, P.ws, P.out, m, P.n, k, j0, j1, P.tail);
      }, kPanelRows);
      return;
    }
  }
  ParallelParts(m, k, ns, [&](size_t p, int64_t j0, int64_t j1) {
    const auto& P = parts[p];
    if constexpr (std::is_same<Avx512, avx512::Bf16Rows>::value) {
      if (StagesBf16Rows(P.w5.w, m, k)) {
        const uint16_t* staged = StageRows(P.w5.w, k, j0, j1);
        // The copy's row r is weight row j0 + r: output columns from j0 on.
        PathColumns(path, P.x, Scalar{staged, k}, Avx2{staged, k}, Avx512{staged, k}, P.out + j0, m, P.n, k, 0,
                    j1 - j0, nullptr);
        return;
      }
    }
    PathColumns(path, P.x, P.ws, P.w2, P.w5, P.out, m, P.n, k, j0, j1, P.tail);
  });
}

// One weight matrix of a product as the caller gives it: w [n, k] (q8_0: n rows of Q8RowBytes(k) bytes, each its
// quants and then its f16 block scales), its output out [m, n] and its input x [m, k]. linearGroup takes several,
// which share one x or each have their own; the other linear kernels, one.
struct WeightPart {
  const void* w;
  float* out;
  int64_t n;
  const float* x;
};

// The product of x [m, k] and every part's weights stored as T (f32 or f16), each path reading them through its
// rows type R0, R2 or R5, the rows' last k % 16 weights widened by `widen`.
template <class R0, class R2, class R5, class T, class Widen>
void FloatProduct(int64_t m, int64_t k, const std::vector<WeightPart>& parts, Widen widen) {
  std::vector<std::vector<float>> tails(parts.size());
  std::vector<RowsPart<R0, R2, R5>> rows;
  for (size_t p = 0; p < parts.size(); ++p) {
    const T* w = static_cast<const T*>(parts[p].w);
    tails[p] = WidenedTails(parts[p].n, k, [&](int64_t i) { return widen(w[i]); });
    rows.push_back({R0{w, k}, R2{w, k}, R5{w, k}, parts[p].out, parts[p].n, tails[p].data(), parts[p].x});
  }
  Run(m, k, rows);
}

void F32Product(int64_t m, int64_t k, const std::vector<WeightPart>& parts) {
  FloatProduct<scalar::F32Rows, avx2::F32Rows, avx512::F32Rows, float>(m, k, parts, [](float v) { return v; });
}

void F16Product(int64_t m, int64_t k, const std::vector<WeightPart>& parts) {
  FloatProduct<scalar::F16Rows, avx2::F16Rows, avx512::F16Rows, uint16_t>(m, k, parts, HalfToFloat);
}

// The arguments every single-matrix linear kernel shares: x [m, k], w [n, k] (read as T by `read`), out [m, n].
template <class T>
WeightPart ReadPart(const Napi::CallbackInfo& info, const Args& a, T* (Args::*read)(const char*, int64_t) const,
                    const float* x, int64_t m, int64_t n, int64_t k) {
  const T* w = (a.*read)("w", CheckedMul(info, a.op(), n, k));
  return {w, a.F32("out", CheckedMul(info, a.op(), m, n)), n, x};
}

// A single-matrix entry point: x, w read as T by `read`, out, and the product by `product`.
template <class T, class Product>
Napi::Value LinearOne(const Napi::CallbackInfo& info, T* (Args::*read)(const char*, int64_t) const,
                      Product product) {
  Args a(info);
  const int64_t m = a.Size("m"), n = a.Size("n"), k = a.Size("k");
  const float* x = a.F32("x", CheckedMul(info, a.op(), m, k));
  product(m, k, std::vector<WeightPart>{ReadPart(info, a, read, x, m, n, k)});
  return info.Env().Undefined();
}

Napi::Value LinearF32(const Napi::CallbackInfo& info) { return LinearOne(info, &Args::F32, F32Product); }

// Where element i (0..31) of a 32-element block goes in the bf16 pair order's de-interleaved block: the even
// offsets first, then the odd ones.
inline int64_t PairSlot(int64_t i) { return i % 2 * 16 + i / 2; }

// x [m, k] de-interleaved for the bf16 pair order (wgemm_isa.h) into xp: rows of kx = k rounded up to 32, each
// block of 32 as its 16 values at even offsets, then its 16 at odd offsets, zeros past k. Long inputs (prefill)
// are split between the threads by rows (ForRows).
void PairX(const float* x, int64_t m, int64_t k, float* xp) {
  const int64_t kx = (k + 31) / 32 * 32;
  ForRows(m, k, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float* src = x + i * k;
      float* dst = xp + i * kx;
      int64_t c = 0;
      for (; c + 32 <= k; c += 32)
        for (int l = 0; l < 16; ++l) {
          dst[c + l] = src[c + 2 * l];
          dst[c + 16 + l] = src[c + 2 * l + 1];
        }
      for (int64_t e = c; e < kx; ++e) dst[c + PairSlot(e - c)] = e < k ? src[e] : 0.f;
    }
  });
}

void Bf16Product(int64_t m, int64_t k, const std::vector<WeightPart>& parts) {
  const int64_t kx = (k + 31) / 32 * 32, k32 = k - k % 32;
  const Inputs in = InputsOf(parts);
  float* xp = PanelScratch(2).get(static_cast<int64_t>(in.count) * m * kx);
  for (size_t i = 0; i < in.count; ++i) PairX(parts[i].x, m, k, xp + i * m * kx);
  std::vector<std::vector<float>> tails(parts.size());  // each row's last k % 32 weights, widened and de-interleaved as x
  std::vector<RowsPart<scalar::Bf16Rows, avx2::Bf16Rows, avx512::Bf16Rows>> rows;
  for (size_t p = 0; p < parts.size(); ++p) {
    const auto* w = static_cast<const uint16_t*>(parts[p].w);
    const int64_t n = parts[p].n;
    if (k32 < k) {
      tails[p].assign(static_cast<size_t>(n * 32), 0.f);
      for (int64_t j = 0; j < n; ++j)
        for (int64_t c = k32; c < k; ++c) tails[p][j * 32 + PairSlot(c - k32)] = Bf16ToFloat(w[j * k + c]);
    }
    rows.push_back({{w, k}, {w, k}, {w, k}, parts[p].out, n, tails[p].data(), xp + in.of(p) * m * kx});
  }
  Run(m, k, rows);
}

Napi::Value LinearBf16(const Napi::CallbackInfo& info) { return LinearOne(info, &Args::U16, Bf16Product); }

Napi::Value LinearF16(const Napi::CallbackInfo& info) { return LinearOne(info, &Args::U16, F16Product); }

// f32 -> bf16 bits, round to nearest even (NaN kept quiet): x for the bf16 fast mode.
inline uint16_t FloatToBf16(float f) {
  const uint32_t u = Bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

bool HasAvx512Bf16() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return has_avx512() && __builtin_cpu_supports("avx512bf16");
  }();
  return ok;
}

// The product in the bf16 fast mode (wgemm_bf16dot.h) where the CPU has AVX512_BF16 and the AVX-512 path is in
// use; elsewhere the exact Bf16Product. Returns whether the fast mode ran.
bool Bf16FastProduct(int64_t m, int64_t k, const std::vector<WeightPart>& parts) {
  if (!HasAvx512Bf16() || ActivePath() != CpuPath::kAvx512) {
    Bf16Product(m, k, parts);
    return false;
  }
  const int64_t kx = (k + 31) / 32 * 32;
  const Inputs in = InputsOf(parts);
  // x as bf16 in the calling thread's reused buffer (fresh memory per call would be fresh pages to fault in),
  // rows zero-padded to kx; long inputs (prefill) are split between the threads by rows.
  uint16_t* xbs = reinterpret_cast<uint16_t*>(PanelScratch(2).get((static_cast<int64_t>(in.count) * m * kx + 1) / 2));
  for (size_t input = 0; input < in.count; ++input) {
    const float* x = parts[input].x;
    uint16_t* xb = xbs + input * m * kx;
    ForRows(m, k, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        for (int64_t c = 0; c < k; ++c) xb[i * kx + c] = FloatToBf16(x[i * k + c]);
        for (int64_t c = k; c < kx; ++c) xb[i * kx + c] = 0;
      }
    });
  }
  using avx512bf16::Bf16DotRows, avx512bf16::kRM, avx512bf16::kRN, avx512bf16::kRN1;
  ParallelParts(m, k, RowCounts(parts), [&](size_t p, int64_t j0, int64_t j1) {
    const auto* w = static_cast<const uint16_t*>(parts[p].w);
    const uint16_t* xb = xbs + in.of(p) * m * kx;
    float* out = parts[p].out;
    const int64_t n = parts[p].n;
    // Rows off their cache lines: staged onto lines from two x rows on, as in Run (one x row reads them in place).
    if (!StagesBf16Rows(w, m, k))
      return avx512bf16::Columns<kRM, kRN, kRN1>(xb, Bf16DotRows{w, kx}, out, m, n, k, j0, j1, nullptr);
    const uint16_t* staged = StageRows(w, k, j0, j1);
    avx512bf16::Columns<kRM, kRN, kRN1>(xb, Bf16DotRows{staged, kx}, out + j0, m, n, k, 0, j1 - j0, nullptr);
  });
  return true;
}

// linearBf16 in the bf16 fast mode: Bf16FastProduct of one matrix.
Napi::Value LinearBf16Fast(const Napi::CallbackInfo& info) {
  bool fast = false;
  LinearOne(info, &Args::U16, [&](int64_t m, int64_t k, const std::vector<WeightPart>& parts) {
    fast = Bf16FastProduct(m, k, parts);
  });
  return Napi::Boolean::New(info.Env(), fast);
}

// The arguments of linearQ8 and linearQ8Fast: x [m, k], w [n, k] as q8_0 rows, out [m, n], read by `product`.
template <class Product>
void ReadQ8Call(const Napi::CallbackInfo& info, Product product) {
  Args a(info);
  const int64_t m = a.Size("m"), n = a.Size("n"), k = a.Size("k");
  if (k % 32 != 0) throw ArgError(info, a.op(), "k must be a multiple of 32 (q8_0 blocks), got " + std::to_string(k));
  const float* x = a.F32("x", CheckedMul(info, a.op(), m, k));
  const int8_t* w = a.I8("w", CheckedMul(info, a.op(), n, Q8RowBytes(k)));
  float* out = a.F32("out", CheckedMul(info, a.op(), m, n));
  product(m, k, std::vector<WeightPart>{{w, out, n, x}});
}

void Q8Product(int64_t m, int64_t k, const std::vector<WeightPart>& parts) {
  std::vector<RowsPart<scalar::Q8Rows, avx2::Q8Rows, avx512::Q8Rows>> rows;
  for (const WeightPart& p : parts) {
    const auto* w = static_cast<const int8_t*>(p.w);
    rows.push_back({{w, k}, {w, k}, {w, k}, p.out, p.n, nullptr, p.x});
  }
  Run(m, k, rows);
}

Napi::Value LinearQ8(const Napi::CallbackInfo& info) {
  ReadQ8Call(info, Q8Product);
  return info.Env().Undefined();
}

// x [m, k] quantised for the int8 fast mode, per row and 32-element block as the weights are (QuantizeBlocks:
// d = max|x| / 127, q = round(x · (1/d)) half away from zero), but with d kept in f32: xq in rows of kq = nbp · 32
// bytes, dx and sx (each block's Σ q) in rows of nbp, zeros past k. A block holding
// a non-finite value gets d = NaN and zero quants, so its row's outputs are NaN. Every step is exact or one f32
// operation, so the paths agree; long inputs (prefill) are split between the threads by rows.
void QuantizeX(const float* x, int64_t m, int64_t k, int64_t nbp, int8_t* xq, float* dx, int32_t* sx) {
  const CpuPath path = ActivePath();
  ForRows(m, k, [&](int64_t i0, int64_t i1) {
    if (path == CpuPath::kAvx512)
      avx512::QuantizeXRows(x, k, nbp, xq, dx, sx, i0, i1);
    else if (path == CpuPath::kAvx2)
      avx2::QuantizeXRows(x, k, nbp, xq, dx, sx, i0, i1);
    else
      scalar::QuantizeXRows(x, k, nbp, xq, dx, sx, i0, i1);
  });
}

bool HasAvx512Vnni() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return has_avx512() && __builtin_cpu_supports("avx512vnni");
  }();
  return ok;
}

// From this many x rows on, the VNNI kernel packs the weights (PackedColumns) rather than reducing across lanes.
constexpr int64_t kQ8PackMinRows = 16;

// The product in the int8 fast mode (wgemm_isa.h's Q8DotRows order): x quantised to q8_0 once per call, then
// AVX512-VNNI integer dot products where the CPU has them and the AVX-512 path is in use, elsewhere the
// reference tile of the path in use (the same bits, more slowly). Returns whether the VNNI kernels ran.
bool Q8FastProduct(int64_t m, int64_t k, const std::vector<WeightPart>& parts) {
  const int64_t nbp = (k / 32 + 15) / 16 * 16, kq = nbp * 32;
  const Inputs in = InputsOf(parts);
  const int64_t inputs = static_cast<int64_t>(in.count);
  // On the calling thread's reused buffers: fresh memory for every call would be fresh pages to fault in. Input i's
  // quants, scales and sums start at i·m·kq, i·m·nbp and i·m·nbp.
  static thread_local gemm::Scratch buffers[5];
  int8_t* xqs = reinterpret_cast<int8_t*>(buffers[0].get((inputs * m * kq + 3) / 4));
  float* dxs = buffers[1].get(inputs * m * nbp);
  int32_t* sxs = reinterpret_cast<int32_t*>(buffers[2].get(inputs * m * nbp));
  for (int64_t i = 0; i < inputs; ++i)
    QuantizeX(parts[i].x, m, k, nbp, xqs + i * m * kq, dxs + i * m * nbp, sxs + i * m * nbp);
  const auto xq_of = [&](size_t p) { return xqs + in.of(p) * m * kq; };
  const auto dx_of = [&](size_t p) { return dxs + in.of(p) * m * nbp; };
  const CpuPath path = ActivePath();
  const auto weights = [&](size_t p) { return static_cast<const int8_t*>(parts[p].w); };
  if (path == CpuPath::kAvx512 && HasAvx512Vnni()) {
    if (m >= kQ8PackMinRows) {
      // Chunks of kPackCols weight rows, part after part: chunk c is rows [j0, j0 + kPackCols) of part p.
      constexpr int64_t kCols = avx512vnni::kPackCols;
      std::vector<std::pair<size_t, int64_t>> chunks;
      for (size_t p = 0; p < parts.size(); ++p)
        for (int64_t j0 = 0; j0 < parts[p].n; j0 += kCols) chunks.emplace_back(p, j0);
      const int64_t count = static_cast<int64_t>(chunks.size());
      const int nt = static_cast<int>(std::min<int64_t>(num_threads(), count));
      std::atomic<int64_t> next{0};
      const auto work = [&](int, int) {
        // Each thread packs into its own buffers, one chunk of kPackCols weight rows after another.
        float* buf = PanelScratch(0).get(k / 4 * kCols + k / 32 * kCols);
        uint32_t* pw = reinterpret_cast<uint32_t*>(buf);
        float* pd = buf + k / 4 * kCols;
        for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < count;) {
          const auto [p, j0] = chunks[c];
          const avx512::Q8DotRows rows{weights(p), k, dx_of(p), kq, nbp};
          avx512vnni::PackedColumns(xq_of(p), sxs + in.of(p) * m * nbp, rows, parts[p].out, m, parts[p].n, j0,
                                    j0 + kCols, pw, pd);
        }
      };
      if (nt <= 1)
        work(0, 1);
      else
        parallel_run(nt, work);
    } else {
      float* dxp = buffers[3].get(inputs * m * nbp);
      int32_t* sxp = reinterpret_cast<int32_t*>(buffers[4].get(inputs * m * nbp));
      for (int64_t b = 0; b < inputs * m * nbp; ++b) {  // within each 16 blocks, Tile's lane order
        const int64_t from = b / 16 * 16 + avx512vnni::kPerm[b % 16];
        dxp[b] = dxs[from];
        sxp[b] = sxs[from];
      }
      ParallelParts(m, k, RowCounts(parts), [&](size_t p, int64_t j0, int64_t j1) {
        const int64_t at = in.of(p) * m * nbp;
        const avx512vnni::VnniRows vr{{weights(p), k, dx_of(p), kq, nbp}, dxp + at, sxp + at};
        avx512vnni::Columns<avx512vnni::kRM, avx512vnni::kRN, avx512vnni::kRN1>(xq_of(p), vr, parts[p].out, m,
                                                                                  parts[p].n, k, j0, j1, nullptr);
      });
    }
    return true;
  }
  ParallelParts(m, k, RowCounts(parts), [&](size_t p, int64_t j0, int64_t j1) {
    const int8_t* w = weights(p);
    const int8_t* xq = xq_of(p);
    const float* dx = dx_of(p);
    float* out = parts[p].out;
    const int64_t n = parts[p].n;
    if (path == CpuPath::kAvx512)
      avx512::Columns<avx512::kRM, avx512::kRN, avx512::kRN1>(
          xq, avx512::Q8DotRows{w, k, dx, kq, nbp}, out, m, n, k, j0, j1, nullptr);
    else if (path == CpuPath::kAvx2)
      avx2::Columns<avx2::kRM, avx2::kRN, avx2::kRN1>(xq, avx2::Q8DotRows{w, k, dx, kq, nbp}, out, m, n, k, j0,
                                                      j1, nullptr);
    else
      scalar::Columns<scalar::kRM, scalar::kRN, scalar::kRN1>(
          xq, scalar::Q8DotRows{w, k, dx, kq, nbp}, out, m, n, k, j0, j1, nullptr);
  });
  return false;
}

// linearQ8 in the int8 fast mode: Q8FastProduct of one matrix.
Napi::Value LinearQ8Fast(const Napi::CallbackInfo& info) {
  bool fast = false;
  ReadQ8Call(info, [&](int64_t m, int64_t k, const std::vector<WeightPart>& parts) {
    fast = Q8FastProduct(m, k, parts);
  });
  return Napi::Boolean::New(info.Env(), fast);
}

// q8_0 quantisation of rows stored as f32, bf16 or f16, read in place (a memory-mapped checkpoint is quantised
// without an f32 copy) into q8_0 rows: QuantizeBlocks in wgemm_isa.h row by row, on the path in use, rows split
// between the threads.
template <class S0, class S2, class S5>
int64_t QuantizeOnPath(const S0& s0, const S2& s2, const S5& s5, int8_t* q, int64_t rows, int64_t cols) {
  const CpuPath path = ActivePath();
  const int64_t nb = cols / 32;
  const int nt = static_cast<int>(std::min<int64_t>(num_threads(), std::max<int64_t>(1, rows * nb / 4096)));
  std::vector<int64_t> bad(static_cast<size_t>(nt), 0);
  parallel_run(nt, [&](int t, int n) {
    const int64_t r1 = rows * (t + 1) / n, end = r1 * nb;
    for (int64_t r = rows * t / n; r < r1; ++r) {
      int8_t* row = q + r * Q8RowBytes(cols);
      auto* scales = reinterpret_cast<uint16_t*>(row + cols);
      if (path == CpuPath::kAvx512)
        bad[t] += avx512::QuantizeBlocks(s5, row, scales, r * nb, (r + 1) * nb, end);
      else if (path == CpuPath::kAvx2)
        bad[t] += avx2::QuantizeBlocks(s2, row, scales, r * nb, (r + 1) * nb, end);
      else
        bad[t] += scalar::QuantizeBlocks(s0, row, scales, r * nb, (r + 1) * nb, end);
    }
  });
  int64_t total = 0;
  for (int64_t c : bad) total += c;
  return total;
}

// The shared arguments of the quantisers (q: the q8_0 rows written), after checking cols.
void QuantizeArgs(const Napi::CallbackInfo& info, Args& a, int8_t*& q, int64_t& rows, int64_t& cols) {
  rows = a.Size("rows"), cols = a.Size("cols");
  if (cols % 32 != 0)
    throw ArgError(info, a.op(), "cols must be a multiple of 32 (q8_0 blocks), got " + std::to_string(cols));
  q = a.I8("q", CheckedMul(info, a.op(), rows, Q8RowBytes(cols)));
}

// A quantiser entry point: the shared arguments, the weights w read as T by `read`, and the quantisation on the
// path in use, each path reading w through its own source type S0 (scalar), S2 (AVX2) or S5 (AVX-512).
template <class S0, class S2, class S5, class T>
Napi::Value QuantizeFrom(const Napi::CallbackInfo& info, T* (Args::*read)(const char*, int64_t) const) {
  Args a(info);
  int8_t* q;
  int64_t rows, cols;
  QuantizeArgs(info, a, q, rows, cols);
  const T* w = (a.*read)("w", CheckedMul(info, a.op(), rows, cols));
  const int64_t bad = QuantizeOnPath(S0{w}, S2{w}, S5{w}, q, rows, cols);
  return Napi::Number::New(info.Env(), static_cast<double>(bad));
}

Napi::Value QuantizeQ8(const Napi::CallbackInfo& info) {
  return QuantizeFrom<scalar::F32Source, avx2::F32Source, avx512::F32Source>(info, &Args::F32);
}

Napi::Value QuantizeQ8Bf16(const Napi::CallbackInfo& info) {
  return QuantizeFrom<scalar::Bf16Source, avx2::Bf16Source, avx512::Bf16Source>(info, &Args::U16);
}

Napi::Value QuantizeQ8F16(const Napi::CallbackInfo& info) {
  return QuantizeFrom<scalar::F16Source, avx2::F16Source, avx512::F16Source>(info, &Args::U16);
}

// ggml's q8_0 blocks (block_q8_0 in llama.cpp's ggml/src/ggml-common.h: 34 bytes, the f16 scale then 32 int8
// quants), rows · cols / 32 of them in row order, as q8_0 rows: each row's quants, then its scales (Q8Row).
Napi::Value Q8FromBlocks(const Napi::CallbackInfo& info) {
  constexpr int64_t kBlockBytes = 34;
  Args a(info);
  const int64_t rows = a.Size("rows"), cols = a.Size("cols");
  if (cols % 32 != 0)
    throw ArgError(info, a.op(), "cols must be a multiple of 32 (q8_0 blocks), got " + std::to_string(cols));
  const int64_t nb = cols / 32;
  const int8_t* blocks = a.I8("blocks", CheckedMul(info, a.op(), CheckedMul(info, a.op(), rows, nb), kBlockBytes));
  int8_t* q = a.I8("q", CheckedMul(info, a.op(), rows, Q8RowBytes(cols)));
  ForRows(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int8_t* row = q + r * Q8RowBytes(cols);
      for (int64_t b = 0; b < nb; ++b) {
        const int8_t* block = blocks + (r * nb + b) * kBlockBytes;
        std::memcpy(row + 32 * b, block + 2, 32);
        std::memcpy(row + cols + 2 * b, block, 2);
      }
    }
  });
  return info.Env().Undefined();
}

// linearGroup's weight formats (WeightFormat in src/tensor/kernels/types.ts), and how many matrices a group holds.
constexpr int64_t kFormatF32 = 0, kFormatBf16 = 1, kFormatF16 = 2, kFormatQ8 = 3;
constexpr size_t kMaxGroupParts = 64;

// x [m, k] (or, with group.inputs, each matrix's own input [m, k]; x is then still read but unused) times every
// matrix of `group` (WeightGroup in src/tensor/kernels/types.ts: one format, up to kMaxGroupParts matrices with k
// columns each) in one job: each output is the bits its own single-matrix kernel gives. Returns whether a fast
// mode ran (group.fast asks for it; f32 and f16 have none).
Napi::Value LinearGroup(const Napi::CallbackInfo& info) {
  Args a(info);
  const char* op = a.op();
  const int64_t m = a.Size("m"), k = a.Size("k");
  const int64_t format = a.FieldSize("group", "format");
  if (format > kFormatQ8)
    throw ArgError(info, op, "group.format must be 0 (f32), 1 (bf16), 2 (f16) or 3 (q8_0), got " + std::to_string(format));
  const Napi::Value fast_value = a.Field("group", "fast");
  if (!fast_value.IsBoolean()) throw ArgError(info, op, "argument 'group.fast' must be a boolean");
  const bool fast = fast_value.As<Napi::Boolean>().Value();
  if (format == kFormatQ8 && k % 32 != 0)
    throw ArgError(info, op, "k must be a multiple of 32 (q8_0 blocks), got " + std::to_string(k));
  const float* x = a.F32("x", CheckedMul(info, op, m, k));
  const auto list = [&](const char* field) {
    const Napi::Value v = a.Field("group", field);
    if (!v.IsArray()) throw ArgError(info, op, std::string("argument 'group.") + field + "' must be an array");
    return v.As<Napi::Array>();
  };
  const Napi::Array weights = list("weights"), outs = list("outs"), rows = list("rows");
  // Optional: one input per matrix instead of x (an empty array or none: every matrix multiplies x).
  const Napi::Value inputs_value = a.Field("group", "inputs");
  const bool own_inputs = !inputs_value.IsUndefined() && inputs_value.IsArray() &&
                          inputs_value.As<Napi::Array>().Length() > 0;
  if (!inputs_value.IsUndefined() && !inputs_value.IsArray())
    throw ArgError(info, op, "argument 'group.inputs' must be an array");
  const size_t count = weights.Length();
  if (count == 0 || count > kMaxGroupParts)
    throw ArgError(info, op, "group.weights must hold 1 to " + std::to_string(kMaxGroupParts) + " matrices, got " +
                                 std::to_string(count));
  if (outs.Length() != count || rows.Length() != count ||
      (own_inputs && inputs_value.As<Napi::Array>().Length() != count))
    throw ArgError(info, op, "group.outs, group.rows (and group.inputs when given) must have one entry per matrix (" +
                                 std::to_string(count) + ")");
  std::vector<WeightPart> parts;
  for (uint32_t p = 0; p < count; ++p) {
    const std::string at = "[" + std::to_string(p) + "]";
    const Napi::Value nv = rows.Get(p);
    const double nd = nv.IsNumber() ? nv.As<Napi::Number>().DoubleValue() : -1;
    if (!(nd >= 0) || nd != std::floor(nd) || nd > 9007199254740991.0)
      throw ArgError(info, op, "argument 'group.rows" + at + "' must be a non-negative integer");
    const int64_t n = static_cast<int64_t>(nd), nk = CheckedMul(info, op, n, k);
    const std::string w_name = "group.weights" + at, o_name = "group.outs" + at,
                      i_name = "group.inputs" + at;
    const Napi::Value wv = weights.Get(p);
    const void* w =
        format == kFormatF32 ? static_cast<const void*>(TypedValue<float>(info, wv, op, w_name.c_str(),
                                                                           napi_float32_array, "Float32Array", nk))
        : format == kFormatQ8
            ? static_cast<const void*>(
                  TypedValue<int8_t>(info, wv, op, w_name.c_str(), napi_int8_array, "Int8Array",
                                     CheckedMul(info, op, n, Q8RowBytes(k))))
            : static_cast<const void*>(
                  TypedValue<uint16_t>(info, wv, op, w_name.c_str(), napi_uint16_array, "Uint16Array", nk));
    float* out = TypedValue<float>(info, outs.Get(p), op, o_name.c_str(), napi_float32_array, "Float32Array",
                                   CheckedMul(info, op, m, n));
    const float* input = own_inputs ? TypedValue<float>(info, inputs_value.As<Napi::Array>().Get(p), op, i_name.c_str(),
                                                        napi_float32_array, "Float32Array", CheckedMul(info, op, m, k))
                                    : x;
    parts.push_back({w, out, n, input});
  }
  bool ran_fast = false;
  if (format == kFormatF32)
    F32Product(m, k, parts);
  else if (format == kFormatF16)
    F16Product(m, k, parts);
  else if (format == kFormatBf16 && fast)
    ran_fast = Bf16FastProduct(m, k, parts);
  else if (format == kFormatBf16)
    Bf16Product(m, k, parts);
  else if (fast)
    ran_fast = Q8FastProduct(m, k, parts);
  else
    Q8Product(m, k, parts);
  return Napi::Boolean::New(info.Env(), ran_fast);
}

const KernelDef kKernels[] = {
    {"linearF32", "x:f32 w:f32 out:f32 m:size n:size k:size", LinearF32},
    {"linearBf16", "x:f32 w:u16 out:f32 m:size n:size k:size", LinearBf16},
    {"linearF16", "x:f32 w:u16 out:f32 m:size n:size k:size", LinearF16},
    {"linearBf16Fast", "x:f32 w:u16 out:f32 m:size n:size k:size -> bool", LinearBf16Fast},
    {"linearQ8", "x:f32 w:i8 out:f32 m:size n:size k:size", LinearQ8},
    {"linearQ8Fast", "x:f32 w:i8 out:f32 m:size n:size k:size -> bool", LinearQ8Fast},
    {"linearGroup", "x:f32 group:WeightGroup m:size k:size -> bool", LinearGroup},
    {"quantizeQ8", "w:f32 q:i8 rows:size cols:size -> size", QuantizeQ8},
    {"quantizeQ8Bf16", "w:u16 q:i8 rows:size cols:size -> size", QuantizeQ8Bf16},
    {"quantizeQ8F16", "w:u16 q:i8 rows:size cols:size -> size", QuantizeQ8F16},
    {"q8FromBlocks", "blocks:i8 q:i8 rows:size cols:size", Q8FromBlocks},
};

}  // namespace

void RegisterWgemm(Napi::Env env, Napi::Object exports) { RegisterKernels(env, exports, kKernels); }

}  // namespace olmo
