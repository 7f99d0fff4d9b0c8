// Entry point of the native backend: each kernel family registers its functions here.
#include <napi.h>

#include "napi_args.h"
#include "threadpool.h"

namespace olmo {
void RegisterGemm(Napi::Env env, Napi::Object exports);
void RegisterElementwise(Napi::Env env, Napi::Object exports);
void RegisterReduce(Napi::Env env, Napi::Object exports);
void RegisterNorms(Napi::Env env, Napi::Object exports);
void RegisterRope(Napi::Env env, Napi::Object exports);
void RegisterAttention(Napi::Env env, Napi::Object exports);
void RegisterLosses(Napi::Env env, Napi::Object exports);
void RegisterIndexing(Napi::Env env, Napi::Object exports);
void RegisterOptim(Napi::Env env, Napi::Object exports);
void RegisterConvert(Napi::Env env, Napi::Object exports);
void RegisterStopSignal(Napi::Env env, Napi::Object exports);
}  // namespace olmo

namespace {

Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), olmo::num_threads());
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  olmo::set_num_threads(static_cast<int>(olmo::SizeArg(info, 0, "setNumThreads", "n")));
  return info.Env().Undefined();
}

Napi::Value CpuFeatures(const Napi::CallbackInfo& info) {
  auto obj = Napi::Object::New(info.Env());
  __builtin_cpu_init();
  obj.Set("avx2", Napi::Boolean::New(info.Env(), __builtin_cpu_supports("avx2")));
  obj.Set("fma", Napi::Boolean::New(info.Env(), __builtin_cpu_supports("fma")));
  obj.Set("f16c", Napi::Boolean::New(info.Env(), __builtin_cpu_supports("f16c")));
  return obj;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("numThreads", Napi::Function::New(env, NumThreads));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeatures));
  exports.Set("kernelSignatures", Napi::Function::New(env, olmo::KernelSignatures));
  olmo::RegisterGemm(env, exports);
  olmo::RegisterElementwise(env, exports);
  olmo::RegisterReduce(env, exports);
  olmo::RegisterNorms(env, exports);
  olmo::RegisterRope(env, exports);
  olmo::RegisterAttention(env, exports);
  olmo::RegisterLosses(env, exports);
  olmo::RegisterIndexing(env, exports);
  olmo::RegisterOptim(env, exports);
  olmo::RegisterConvert(env, exports);
  olmo::RegisterStopSignal(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(olmo_native, Init)
