// Run-time CPU dispatch. SIMD code is compiled per function with target attributes and chosen at run time,
// so the addon loads and runs (on scalar paths) on any x86-64 CPU.
//
// Paths, widest first: avx512 (AVX-512 F/BW/DQ/VL with FMA), avx2 (AVX2 + FMA), scalar. The path in use is
// the widest the CPU has, lowered by setCpuPath() (the TypeScript side applies OLMO_CPU_PATH through it),
// so the AVX2 and scalar paths can be run and tested on an AVX-512 machine.
#pragma once
#include <atomic>

namespace olmo {

enum class CpuPath : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

inline bool has_avx2_fma() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return ok;
}

inline bool has_avx512() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return has_avx2_fma() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  }();
  return ok;
}

inline CpuPath DetectedPath() {
  return has_avx512() ? CpuPath::kAvx512 : has_avx2_fma() ? CpuPath::kAvx2 : CpuPath::kScalar;
}

inline std::atomic<int>& PathLimit() {
  static std::atomic<int> limit{static_cast<int>(CpuPath::kAvx512)};
  return limit;
}

// The widest path the CPU has, at most the limit set by setCpuPath().
inline CpuPath ActivePath() {
  const int d = static_cast<int>(DetectedPath()), l = PathLimit().load(std::memory_order_relaxed);
  return static_cast<CpuPath>(d < l ? d : l);
}

inline const char* PathName(CpuPath p) {
  return p == CpuPath::kAvx512 ? "avx512" : p == CpuPath::kAvx2 ? "avx2" : "scalar";
}

}  // namespace olmo

#define OLMO_AVX2 __attribute__((target("avx2,fma")))
#define OLMO_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl")))
