// Per-thread scratch buffers of the GEMM (pack buffers, skinny-path partials), allocated once per thread
// and reused by every later call.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <new>

namespace olmo {
namespace gemm {

// A per-thread, 64-byte-aligned scratch buffer that only grows.
class Scratch {
 public:
  ~Scratch() { std::free(p_); }
  float* get(int64_t count) {
    if (count > cap_) {
      std::free(p_);
      const size_t bytes = (static_cast<size_t>(count) * sizeof(float) + 63) & ~size_t(63);
      p_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (p_ == nullptr) {
        cap_ = 0;
        throw std::bad_alloc();
      }
      cap_ = count;
    }
    return p_;
  }

 private:
  float* p_ = nullptr;
  int64_t cap_ = 0;
};

inline Scratch& ScratchA() {
  static thread_local Scratch s;
  return s;
}
inline Scratch& ScratchB() {
  static thread_local Scratch s;
  return s;
}
inline Scratch& ScratchX() {
  static thread_local Scratch s;
  return s;
}
inline Scratch& ScratchT() {
  static thread_local Scratch s;
  return s;
}

}  // namespace gemm
}  // namespace olmo
