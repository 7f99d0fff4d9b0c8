// Ctrl-C for synchronous training loops.
//
// Node runs `process.on('SIGINT')` listeners on the event loop, which a training loop never returns to, so a
// JS handler only fires after the run. These functions install plain sigaction handlers for SIGINT and
// SIGTERM instead: the first signal bumps a counter (which the loop polls between steps through
// stopSignalCount()) and writes a message; the second writes a line and quits at once with status 130.
// Only async-signal-safe calls (write, _exit) are made in the handler. While these handlers are in place, JS code
// must not add the first `process.on('SIGINT' | 'SIGTERM')` listener: libuv would install its own handler over
// ours, and unwatchStopSignals() would then put back the one from before the watch.
#include <napi.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>


namespace olmo {
namespace {

std::atomic<int> g_count{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal counter must be lock-free");
// Watches nest: the handlers are installed by the first watch and the previous ones restored by the last unwatch.
int g_depth = 0;
struct sigaction g_prev_int;
struct sigaction g_prev_term;
// The first-signal message, copied before the handlers go in so the handler only reads stable memory.
char g_message[512];
size_t g_message_len = 0;
constexpr char kQuit[] = "\ninterrupted again: quitting now without a checkpoint\n";

void WriteAll(const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDERR_FILENO, s, n);
    if (w <= 0) return;  // EINTR or a closed stderr: give up rather than loop in a handler
    s += w;
    n -= static_cast<size_t>(w);
  }
}

void OnStopSignal(int) {
  const int saved_errno = errno;
  const int n = g_count.fetch_add(1) + 1;
  if (n >= 2) {
    WriteAll(kQuit, sizeof(kQuit) - 1);
    _exit(130);
  }
  WriteAll(g_message, g_message_len);
  errno = saved_errno;
}

// watchStopSignals(message): installs the handlers (on the outermost call) and resets the counter.
Napi::Value WatchStopSignals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_depth++ > 0) return env.Undefined();
  std::string msg = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
  g_message_len = std::min(msg.size(), sizeof(g_message));
  std::memcpy(g_message, msg.data(), g_message_len);
  g_count.store(0);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  // SA_RESTART: a signal landing in a checkpoint write must not turn it into an EINTR failure.
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGINT, &sa, &g_prev_int) != 0 || sigaction(SIGTERM, &sa, &g_prev_term) != 0) {
    g_depth--;
    throw Napi::Error::New(env, std::string("watchStopSignals: sigaction failed: ") + std::strerror(errno));
  }
  return env.Undefined();
}

// unwatchStopSignals(): puts back the handlers that were there before (libuv's, or the default) on the
// outermost call.
Napi::Value UnwatchStopSignals(const Napi::CallbackInfo& info) {
  if (g_depth == 0) return info.Env().Undefined();
  if (--g_depth == 0) {
    sigaction(SIGINT, &g_prev_int, nullptr);
    sigaction(SIGTERM, &g_prev_term, nullptr);
  }
  return info.Env().Undefined();
}

// stopSignalCount(): SIGINT/SIGTERM received since the outermost watchStopSignals().
Napi::Value StopSignalCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), g_count.load());
}

}  // namespace

void RegisterStopSignal(Napi::Env env, Napi::Object exports) {
  exports.Set("watchStopSignals", Napi::Function::New(env, WatchStopSignals));
  exports.Set("unwatchStopSignals", Napi::Function::New(env, UnwatchStopSignals));
  exports.Set("stopSignalCount", Napi::Function::New(env, StopSignalCount));
}

}  // namespace olmo
