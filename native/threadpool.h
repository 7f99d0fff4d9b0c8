// A persistent pool of worker threads shared by every kernel.
//
// Starting threads per op costs more than most ops take on a small machine, so workers live for the
// process, spin for up to a millisecond after finishing a job (the next op usually follows soon) and then sleep.
#pragma once
#include <cstdint>
#include <functional>

namespace olmo {

// Number of threads kernels may use (OLMO_NUM_THREADS, else the hardware concurrency).
int num_threads();
void set_num_threads(int n);

// Runs fn(begin, end) over disjoint chunks covering [0, n). Chunks are at least `grain` long, so small
// ranges run inline on the calling thread. fn must not call parallel_for itself.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// Runs fn(t, nt) once on each of nt threads (nt <= num_threads()); t is the thread's index.
void parallel_run(int nt, const std::function<void(int, int)>& fn);

}  // namespace olmo
