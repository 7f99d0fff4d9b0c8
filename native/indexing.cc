// Row gather and scatter-add (embedding lookup and its backward, MoE dispatch and combine).
//
// Every index is validated before anything is written, so a bad index leaves the output untouched.
// scatterAddRows is deterministic and bit-identical to the reference: each output element receives its
// contributions in ascending i on one thread. Threads split the work by column blocks (wide rows) or by
// ranges of output rows (narrow rows), never by i, so no two threads touch one element.
#include <immintrin.h>
#include <napi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "force_scalar.h"
#include "napi_args.h"
#include "simd.h"
#include "threadpool.h"

namespace olmo {
namespace {

ScalarSwitch g_paths{"_indexingForceScalar"};

void CheckIndices(const Napi::CallbackInfo& info, const char* op, const int32_t* idx, int64_t n, int64_t rows) {
  for (int64_t i = 0; i < n; ++i) {
    if (idx[i] < 0 || idx[i] >= rows)
      throw Napi::RangeError::New(info.Env(), std::string("olmo native ") + op + ": idx[" + std::to_string(i) +
                                                  "] = " + std::to_string(idx[i]) + " is out of range [0, " +
                                                  std::to_string(rows) + ")");
  }
}

Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  const char* kOp = "gatherRows";
  const Args A(info);
  const int64_t n = A.Size("n");
  const int64_t rowSize = A.Size("rowSize");
  const int64_t srcRows = A.Size("srcRows");
  const float* src = A.F32("src", CheckedMul(info, kOp, srcRows, rowSize));
  const int32_t* idx = A.I32("idx", n);
  float* out = A.F32("out", CheckedMul(info, kOp, n, rowSize));
  CheckIndices(info, kOp, idx, n, srcRows);
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(rowSize, 1));
  parallel_for(n, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      std::memcpy(out + i * rowSize, src + static_cast<int64_t>(idx[i]) * rowSize, static_cast<size_t>(rowSize) * 4);
  });
  return info.Env().Undefined();
}

// out[idx[i], c0:c1] += src[i, c0:c1] for every i in order.
OLMO_AVX2 void ScatterColsAvx2(const float* src, const int32_t* idx, float* out, int64_t n, int64_t rowSize,
                               int64_t c0, int64_t c1) {
  for (int64_t i = 0; i < n; ++i) {
    const float* s = src + i * rowSize;
    float* o = out + static_cast<int64_t>(idx[i]) * rowSize;
    int64_t c = c0;
    for (; c + 8 <= c1; c += 8) _mm256_storeu_ps(o + c, _mm256_add_ps(_mm256_loadu_ps(o + c), _mm256_loadu_ps(s + c)));
    for (; c < c1; ++c) o[c] += s[c];
  }
}
void ScatterColsScalar(const float* src, const int32_t* idx, float* out, int64_t n, int64_t rowSize, int64_t c0,
                       int64_t c1) {
  for (int64_t i = 0; i < n; ++i) {
    const float* s = src + i * rowSize;
    float* o = out + static_cast<int64_t>(idx[i]) * rowSize;
    for (int64_t c = c0; c < c1; ++c) o[c] += s[c];
  }
}

Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
  const char* kOp = "scatterAddRows";
  const Args A(info);
  const int64_t n = A.Size("n");
  const int64_t rowSize = A.Size("rowSize");
  const int64_t outRows = A.Size("outRows");
  const float* src = A.F32("src", CheckedMul(info, kOp, n, rowSize));
  const int32_t* idx = A.I32("idx", n);
  float* out = A.F32("out", CheckedMul(info, kOp, outRows, rowSize));
  CheckIndices(info, kOp, idx, n, outRows);
  if (n == 0 || rowSize == 0) return info.Env().Undefined();
  const bool simd = g_paths.UseAvx2();
  auto cols = [&](int64_t c0, int64_t c1) {
    if (simd) ScatterColsAvx2(src, idx, out, n, rowSize, c0, c1);
    else ScatterColsScalar(src, idx, out, n, rowSize, c0, c1);
  };
  const int64_t work = n * rowSize;
  const int nt = num_threads();
  if (work < 65536 || nt <= 1) {
    cols(0, rowSize);
  } else if (rowSize >= 64 * nt) {
    // Column blocks, 16-float aligned so threads do not share cache lines.
    const int64_t blocks = (rowSize + 15) / 16;
    parallel_run(nt, [&](int t, int total) {
      const int64_t b0 = blocks * t / total, b1 = blocks * (t + 1) / total;
      if (b0 < b1) cols(b0 * 16, std::min(rowSize, b1 * 16));
    });
  } else {
    // Narrow rows: each thread owns a range of output rows and scans all of idx for them.
    parallel_run(nt, [&](int t, int total) {
      const int64_t r0 = outRows * t / total, r1 = outRows * (t + 1) / total;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t r = idx[i];
        if (r < r0 || r >= r1) continue;
        const float* s = src + i * rowSize;
        float* o = out + r * rowSize;
        for (int64_t c = 0; c < rowSize; ++c) o[c] += s[c];
      }
    });
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterIndexing(Napi::Env env, Napi::Object exports) {
  g_paths.RegisterHook(env, exports);
  static const KernelDef kKernels[] = {
      {"gatherRows", "src:f32 idx:i32 out:f32 n:size rowSize:size srcRows:size", GatherRows},
      {"scatterAddRows", "src:f32 idx:i32 out:f32 n:size rowSize:size outRows:size", ScatterAddRows},
  };
  RegisterKernels(env, exports, kKernels);
}

}  // namespace olmo
