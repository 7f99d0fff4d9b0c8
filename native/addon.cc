// Entry point of the native backend: each kernel family registers its functions here.
#include <napi.h>

#include <string>

#include "napi_args.h"
#include "simd.h"
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
void RegisterWgemm(Napi::Env env, Napi::Object exports);
void RegisterMmap(Napi::Env env, Napi::Object exports);
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
  obj.Set("avx512", Napi::Boolean::New(info.Env(), olmo::has_avx512()));
  return obj;
}

// cpuPath(): { detected, active }, the widest SIMD path of this CPU and the one in use (simd.h).
Napi::Value CpuPathInfo(const Napi::CallbackInfo& info) {
  auto obj = Napi::Object::New(info.Env());
  obj.Set("detected", olmo::PathName(olmo::DetectedPath()));
  obj.Set("active", olmo::PathName(olmo::ActivePath()));
  return obj;
}

// setCpuPath(name): uses at most the path named ("avx512", "avx2" or "scalar") from now on.
Napi::Value SetCpuPath(const Napi::CallbackInfo& info) {
  const std::string name = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  const olmo::CpuPath paths[] = {olmo::CpuPath::kScalar, olmo::CpuPath::kAvx2, olmo::CpuPath::kAvx512};
  for (olmo::CpuPath p : paths)
    if (name == olmo::PathName(p)) {
      olmo::PathLimit().store(static_cast<int>(p));
      return info.Env().Undefined();
    }
  throw Napi::TypeError::New(info.Env(), "olmo native setCpuPath: argument 'path' must be \"avx512\", \"avx2\" or "
                                         "\"scalar\", got \"" + name + "\"");
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("numThreads", Napi::Function::New(env, NumThreads));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeatures));
  exports.Set("cpuPath", Napi::Function::New(env, CpuPathInfo));
  exports.Set("setCpuPath", Napi::Function::New(env, SetCpuPath));
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
  olmo::RegisterWgemm(env, exports);
  olmo::RegisterMmap(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(olmo_native, Init)
