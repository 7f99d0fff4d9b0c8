// N-API entry of the GEMM family: validates every argument, then runs the driver (gemm_driver.h) with the
// AVX-512 or the AVX2 micro-kernel, or the plain scalar loops (gemm_problem.h), by ActivePath() (simd.h).
// The two SIMD paths give bit-identical results; the scalar path sums in another order.
#include <napi.h>

#include <string>

#include "gemm_driver.h"
#include "gemm_problem.h"
#include "napi_args.h"
#include "simd.h"
#include "threadpool.h"

namespace olmo {
namespace {

int64_t CheckedAdd(const Napi::CallbackInfo& info, const char* op, int64_t a, int64_t b) {
  if (b > INT64_MAX - a) throw ArgError(info, op, "size overflow");
  return a + b;
}

// Elements a batched operand must hold: the last matrix ends at (batch-1)·stride + rows·cols.
int64_t Needed(const Napi::CallbackInfo& info, const char* op, int64_t batch, int64_t stride, int64_t rows,
               int64_t cols) {
  const int64_t size = CheckedMul(info, op, rows, cols);
  if (batch == 0 || size == 0) return 0;
  return CheckedAdd(info, op, CheckedMul(info, op, batch - 1, stride), size);
}

gemm::Batch ParseGemm(const Napi::CallbackInfo& info, const char* op) {
  const Args A(info);
  const int64_t batch = A.Size("batch");
  const int64_t m = A.Size("m");
  const int64_t n = A.Size("n");
  const int64_t k = A.Size("k");
  const bool ta = A.Bool("transA");
  const bool tb = A.Bool("transB");
  const int64_t sa = A.Size("strideA");
  const int64_t sb = A.Size("strideB");
  const int64_t sc = A.Size("strideC");
  const bool acc = A.Bool("accumulate");
  // Sizes come from TypeScript: reject products that would overflow before any array is touched.
  CheckedMul(info, op, CheckedMul(info, op, m, n), k > 0 ? k : 1);
  const float* a = A.F32("a", Needed(info, op, batch, sa, m, k));
  const float* b = A.F32("b", Needed(info, op, batch, sb, k, n));
  float* c = A.F32("c", Needed(info, op, batch, sc, m, n));
  gemm::Batch B;
  B.p = gemm::Problem{a, b, c, m, n, k, ta, tb, acc};
  B.count = batch;
  B.strideA = sa;
  B.strideB = sb;
  B.strideC = sc;
  return B;
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const gemm::Batch B = ParseGemm(info, "gemm");
  switch (ActivePath()) {
    case CpuPath::kAvx512: gemm::GemmBatchSimd<gemm::Avx512Kernel>(B); break;
    case CpuPath::kAvx2: gemm::GemmBatchSimd<gemm::Avx2Kernel>(B); break;
    case CpuPath::kScalar: gemm::GemmBatchScalar(B); break;
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterGemm(Napi::Env env, Napi::Object exports) {
  static const KernelDef kKernels[] = {
      {"gemm", "a:f32 b:f32 c:f32 batch:size m:size n:size k:size transA:bool transB:bool strideA:size strideB:size strideC:size accumulate:bool", Gemm},
  };
  RegisterKernels(env, exports, kKernels);
}

}  // namespace olmo
