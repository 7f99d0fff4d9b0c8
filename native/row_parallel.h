// Row-parallel loops for kernels that treat their input as [rows, cols] and handle one row at a time:
// rows go to the thread pool when a call touches at least kParallelMin elements, in chunks of ≥ 16k
// elements; smaller calls run inline, since fork/join costs more than they take.
#pragma once
#include <algorithm>
#include <cstdint>

#include "threadpool.h"

namespace olmo {

constexpr int64_t kParallelMin = 32768;  // elements; below this a call runs on the calling thread

// Runs f(r0, r1) over disjoint row ranges covering [0, rows).
template <class F>
void ForRows(int64_t rows, int64_t cols, F&& f) {
  if (rows <= 0) return;
  if (rows * cols < kParallelMin) {
    f(int64_t{0}, rows);
    return;
  }
  int64_t grain = std::max<int64_t>(1, (kParallelMin / 2 + cols - 1) / std::max<int64_t>(cols, 1));
  parallel_for(rows, grain, f);
}

// Runs f(r) for every row r in [0, rows), spread as ForRows does.
template <class F>
void ForEachRow(int64_t rows, int64_t cols, F&& f) {
  ForRows(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) f(r);
  });
}

}  // namespace olmo
