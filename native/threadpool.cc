#include "threadpool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace olmo {
namespace {

// How long an idle worker polls for the next job before it sleeps (see Pool::loop).
constexpr std::chrono::microseconds kSpin{1000};

class Pool {
 public:
  Pool() {
    int n = 0;
    if (const char* env = std::getenv("OLMO_NUM_THREADS")) n = std::atoi(env);
    if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
    if (n <= 0) n = 1;
    size_ = n;
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  int size() const { return size_; }
  void resize(int n) {
    if (n < 1) n = 1;
    size_ = n;
  }

  void run(int nt, const std::function<void(int, int)>& fn) {
    if (nt > size_) nt = size_;
    if (nt <= 1) {
      fn(0, 1);
      return;
    }
    ensure_workers(nt - 1);
    pending_.store(nt - 1, std::memory_order_relaxed);
    {
      // The job and its generation are published together, so a worker reads a consistent pair.
      std::lock_guard<std::mutex> lock(mu_);
      job_ = &fn;
      job_threads_ = nt;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    fn(0, nt);
    // Wait for the workers: spin (they usually finish together), then yield.
    int spins = 0;
    while (pending_.load(std::memory_order_acquire) != 0) {
      if (++spins > 4000) std::this_thread::yield();
    }
    std::lock_guard<std::mutex> lock(mu_);
    job_ = nullptr;
  }

 private:
  void ensure_workers(int n) {
    while (static_cast<int>(workers_.size()) < n) {
      int index = static_cast<int>(workers_.size()) + 1;
      // The worker starts from the generation current now: if it read it itself, it could start after
      // run() publishes the next job, take that job for an old one and sleep through it.
      uint64_t seen = generation_.load(std::memory_order_acquire);
      workers_.emplace_back([this, index, seen] { loop(index, seen); });
    }
  }

  void loop(int index, uint64_t seen) {
    for (;;) {
      // Spin for up to kSpin before sleeping. Decoding a token runs about a hundred kernels with a little
      // JavaScript between them, tens to hundreds of microseconds each; a worker asleep in between must be woken
      // by a futex, which on a virtualised host takes tens of microseconds more, and the caller does the first
      // part of every kernel alone meanwhile. (The clock is read every 256 polls: a poll is one cached load.)
      uint64_t g = seen;
      const auto spin_start = std::chrono::steady_clock::now();
      for (int i = 1;; ++i) {
        g = generation_.load(std::memory_order_acquire);
        if (g != seen || (i % 256 == 0 && std::chrono::steady_clock::now() - spin_start > kSpin)) break;
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        g = generation_.load(std::memory_order_acquire);
      }
      const std::function<void(int, int)>* job;
      int nt;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
        seen = generation_.load(std::memory_order_acquire);
        job = job_;
        nt = job_threads_;
      }
      if (job != nullptr && index < nt) {
        (*job)(index, nt);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  int size_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  const std::function<void(int, int)>* job_ = nullptr;  // guarded by mu_
  int job_threads_ = 0;                                   // guarded by mu_
  bool stop_ = false;                                     // guarded by mu_
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: workers may outlive static destruction order
  return *p;
}

}  // namespace

int num_threads() { return pool().size(); }
void set_num_threads(int n) { pool().resize(n); }

void parallel_run(int nt, const std::function<void(int, int)>& fn) { pool().run(nt, fn); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int64_t max_chunks = (n + grain - 1) / grain;
  int nt = num_threads();
  if (max_chunks < nt) nt = static_cast<int>(max_chunks);
  if (nt <= 1) {
    fn(0, n);
    return;
  }
  pool().run(nt, [&](int t, int total) {
    int64_t begin = n * t / total;
    int64_t end = n * (t + 1) / total;
    if (begin < end) fn(begin, end);
  });
}

}  // namespace olmo
