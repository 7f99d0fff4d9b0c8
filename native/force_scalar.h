// A kernel family's choice between its AVX2/FMA and scalar paths, with the test hook that forces the scalar
// paths on AVX2 machines (so the tests exercise both on one machine). Each family owns one switch:
//
//   ScalarSwitch g_paths{"_reduceForceScalar"};      // the exported hook's name
//   if (g_paths.UseAvx2()) ...                      // per call
//   g_paths.RegisterHook(env, exports);             // exports _reduceForceScalar(on: boolean)
#pragma once
#include <napi.h>

#include "napi_args.h"
#include "simd.h"

namespace olmo {

class ScalarSwitch {
 public:
  explicit ScalarSwitch(const char* hook_name) : hook_name_(hook_name) {}

  // True when the AVX2/FMA path is in use (ActivePath()) and this family's scalar paths are not forced.
  bool UseAvx2() const { return !forced_ && ActivePath() >= CpuPath::kAvx2; }

  void RegisterHook(Napi::Env env, Napi::Object exports) {
    exports.Set(hook_name_, Napi::Function::New(env, SetForced, hook_name_, this));
  }

 private:
  static Napi::Value SetForced(const Napi::CallbackInfo& info) {
    auto* self = static_cast<ScalarSwitch*>(info.Data());
    self->forced_ = BoolArg(info, 0, self->hook_name_, "on");
    return info.Env().Undefined();
  }

  const char* hook_name_;
  bool forced_ = false;
};

}  // namespace olmo
