// Rotary position embedding, half-split layout (transformers' rotate_half), on x [batch, seq, heads, dim].
//
// Numerics follow transformers' float32 computation step by step (see src/tensor/kernels/js/rope.ts):
// inv_freq comes from the caller (src/tensor/ops/rope-freq.ts), angle = fl(fl(pos)·inv_freq), cos/sin rounded to
// float32, then out = fl(fl(x·cos) ∓ fl(x'·sin)). pow/cos/sin are evaluated in double and rounded once
// (the correctly rounded float32 value in practice); products and sums are plain float32 operations, never
// fused (the addon builds with -ffp-contract=off and the AVX2 path uses mul then add), so native and the
// js reference agree bit for bit up to the double libraries' sub-ulp differences in pow/cos/sin.
//
// cos/sin tables are cached per (inv_freq, dim) for positions [0, cap): every head of every row reuses them,
// and the next layer's call finds them ready (computing cos and sin costs far more than the rotation).
#include <immintrin.h>
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "napi_args.h"
#include "simd.h"
#include "threadpool.h"

namespace olmo {
namespace {

// cos and sin for positions [0, npos) of one (inv_freq, dim): row p holds half cos values then half sin values.
struct RopeTable {
  std::vector<float> inv;  // the frequencies it was built from (the cache key, with dim)
  int64_t dim;
  int64_t npos;
  std::vector<float> cs;  // npos × dim
};

void FillRow(const float* inv, int64_t half, int64_t pos, float* cs) {
  const float fpos = static_cast<float>(pos);
  for (int64_t i = 0; i < half; ++i) {
    const float angle = fpos * inv[i];
    cs[i] = static_cast<float>(std::cos(static_cast<double>(angle)));
    cs[half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
  }
}

// Tables hold at most this many bytes and positions (later positions are computed on the fly), and few.
constexpr int64_t kMaxTableBytes = 16 << 20;
constexpr size_t kMaxTables = 8;
constexpr int64_t kMaxTablePositions = 65536;

std::mutex g_tables_mu;
std::vector<std::shared_ptr<const RopeTable>> g_tables;  // guarded by g_tables_mu

// A table covering positions [0, min(need, cap)) for (inv_freq, dim). Tables are immutable once published
// (a larger one replaces a smaller), so callers read them without locks.
std::shared_ptr<const RopeTable> GetTable(const float* inv, int64_t dim, int64_t need) {
  const int64_t cap =
      std::clamp<int64_t>(kMaxTableBytes / (dim * static_cast<int64_t>(sizeof(float))), 1, kMaxTablePositions);
  need = std::min(need, cap);
  std::lock_guard<std::mutex> lock(g_tables_mu);
  std::shared_ptr<const RopeTable> old;
  size_t slot = g_tables.size();
  for (size_t s = 0; s < g_tables.size(); ++s) {
    const auto& t = g_tables[s];
    if (t->dim == dim && std::memcmp(t->inv.data(), inv, sizeof(float) * static_cast<size_t>(dim / 2)) == 0) {
      if (t->npos >= need) return t;
      old = t;
      slot = s;
      break;
    }
  }
  // Grow geometrically so a decode loop that advances one position per step rebuilds rarely.
  int64_t npos = 256;
  while (npos < need) npos *= 2;
  npos = std::min(npos, cap);
  auto table = std::make_shared<RopeTable>();
  table->inv.assign(inv, inv + dim / 2);
  table->dim = dim;
  table->npos = npos;
  table->cs.resize(static_cast<size_t>(npos * dim));
  int64_t start = 0;
  if (old) {
    std::memcpy(table->cs.data(), old->cs.data(), sizeof(float) * old->cs.size());
    start = old->npos;
  }
  const int64_t half = dim / 2;
  float* cs = table->cs.data();
  parallel_for(npos - start, std::max<int64_t>(64, 16384 / std::max<int64_t>(half, 1)), [&](int64_t b, int64_t e) {
    for (int64_t p = start + b; p < start + e; ++p) FillRow(inv, half, p, cs + p * dim);
  });
  if (slot < g_tables.size()) {
    g_tables[slot] = table;
  } else {
    if (g_tables.size() >= kMaxTables) g_tables.erase(g_tables.begin());
    g_tables.push_back(table);
  }
  return table;
}

// One head: out[i] = x[i]·c − x[i+h]·s, out[i+h] = x[i+h]·c + x[i]·s (s already negated for the inverse).
void RotateScalar(const float* x, float* out, const float* c, const float* s, int64_t half, int64_t from) {
  for (int64_t i = from; i < half; ++i) {
    const float a = x[i];
    const float b = x[half + i];
    const float ac = a * c[i];
    const float bs = b * s[i];
    const float bc = b * c[i];
    const float as = a * s[i];
    out[i] = ac - bs;
    out[half + i] = bc + as;
  }
}

OLMO_AVX2 void RotateAvx2(const float* x, float* out, const float* c, const float* s, int64_t half) {
  int64_t i = 0;
  for (; i + 8 <= half; i += 8) {
    const __m256 a = _mm256_loadu_ps(x + i);
    const __m256 b = _mm256_loadu_ps(x + half + i);
    const __m256 cv = _mm256_loadu_ps(c + i);
    const __m256 sv = _mm256_loadu_ps(s + i);
    // Separate multiplies and adds (no FMA): the same two roundings as torch's float32 x*cos + rot(x)*sin.
    _mm256_storeu_ps(out + i, _mm256_sub_ps(_mm256_mul_ps(a, cv), _mm256_mul_ps(b, sv)));
    _mm256_storeu_ps(out + half + i, _mm256_add_ps(_mm256_mul_ps(b, cv), _mm256_mul_ps(a, sv)));
  }
  RotateScalar(x, out, c, s, half, i);
}

Napi::Value Rope(const Napi::CallbackInfo& info) {
  const char* op = "rope";
  const Args A(info);
  const int64_t batch = A.Size("batch");
  const int64_t seq = A.Size("seq");
  const int64_t heads = A.Size("heads");
  const int64_t dim = A.Size("dim");
  const bool inverse = A.Bool("inverse");
  if (dim % 2 != 0) throw ArgError(info, op, "dim must be even, got " + std::to_string(dim));
  const float* inv = A.F32("invFreq", dim / 2);
  for (int64_t i = 0; i < dim / 2; ++i)
    if (!std::isfinite(inv[i])) throw ArgError(info, op, "invFreq[" + std::to_string(i) + "] is not finite");
  const int64_t rows = CheckedMul(info, op, batch, seq);
  const int64_t row_len = CheckedMul(info, op, heads, dim);
  const int64_t n = CheckedMul(info, op, rows, row_len);
  const float* x = A.F32("x", n);
  float* out = A.F32("out", n);
  const int32_t* positions = A.I32("positions", rows);
  if (n == 0) return info.Env().Undefined();

  const int64_t half = dim / 2;
  int64_t max_pos = -1;
  for (int64_t r = 0; r < rows; ++r) max_pos = std::max<int64_t>(max_pos, positions[r]);
  const auto table = GetTable(inv, dim, max_pos + 1);
  const bool simd = ActivePath() >= CpuPath::kAvx2;

  parallel_for(rows, std::max<int64_t>(1, 32768 / row_len), [&](int64_t begin, int64_t end) {
    std::vector<float> own(static_cast<size_t>(dim));  // positions outside the table, and the negated sin
    std::vector<float> neg(static_cast<size_t>(half));
    for (int64_t r = begin; r < end; ++r) {
      const int64_t pos = positions[r];
      const float* cs;
      if (pos >= 0 && pos < table->npos) {
        cs = table->cs.data() + pos * dim;
      } else {
        FillRow(inv, half, pos, own.data());
        cs = own.data();
      }
      const float* c = cs;
      const float* s = cs + half;
      if (inverse) {
        for (int64_t i = 0; i < half; ++i) neg[i] = -s[i];
        s = neg.data();
      }
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t off = (r * heads + h) * dim;
        if (simd)
          RotateAvx2(x + off, out + off, c, s, half);
        else
          RotateScalar(x + off, out + off, c, s, half, 0);
      }
    }
  });
  return info.Env().Undefined();
}

}  // namespace

void RegisterRope(Napi::Env env, Napi::Object exports) {
  static const KernelDef kKernels[] = {
      {"rope", "x:f32 out:f32 positions:i32 batch:size seq:size heads:size dim:size invFreq:f32 inverse:bool", Rope},
  };
  RegisterKernels(env, exports, kKernels);
}

}  // namespace olmo
