// Run-time CPU dispatch: AVX2/FMA code is compiled per function with target attributes and chosen once
// at load, so the addon runs (on scalar paths) on machines without AVX2.
#pragma once

namespace olmo {

inline bool has_avx2_fma() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return ok;
}

}  // namespace olmo

#define OLMO_AVX2 __attribute__((target("avx2,fma")))
