// mapFile(path, populate): the file mapped into memory as an ArrayBuffer (external: V8 does not own or copy it),
// so checkpoint weights are typed-array views of the page cache instead of copies on the JS heap. The mapping is
// private copy-on-write: writing through a view never reaches the file and never faults, it only makes that
// page private. It is unmapped when the ArrayBuffer is garbage-collected.
//
// allocLarge(bytes): zeroed anonymous memory as an external ArrayBuffer, aligned to 2 MiB and advised for
// transparent huge pages, for buffers made once and then streamed on every token (quantised weights): one page
// fault and one TLB entry per 2 MiB instead of 512 of each.
//
// allocAligned(bytes): zeroed memory starting on a 64-byte boundary as an ArrayBuffer, for the tensors the kernels
// stream: an AVX-512 load from an address that is not a multiple of 64 touches two cache lines, and the JS heap's
// allocator (malloc) aligns to 16 only, so without this every 64-byte load of an f32 matrix or activation is split
// across two lines (the multi-row weight-only GEMMs, which load both operands from L1 and L2, slow down most).
//
// addressAlignment(buffer, offset): the largest power of two, up to 4096, that divides the address of byte `offset`
// of an ArrayBuffer (a diagnostic: where the kernels' loads of a tensor fall against cache lines).
//
// releasePages(buffer, offset, length) and populatePages(buffer, offset, length): drop a range of a mapFile buffer
// from the resident set, or map it in one pass (see ReleasePages, PopulatePages).
#include <fcntl.h>
#include <napi.h>
#include <sys/mman.h>
#include <v8.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace olmo {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
// node::Buffer::kMaxLength in Node 18 to 20 (see ExternalBuffer).
constexpr size_t kNapiMaxBytes = size_t{1} << 32;

// The file mappings alive (start -> length): releasePages acts only inside one of them, where dropping a page is
// harmless (a private mapping never written re-reads it from the page cache). On anonymous memory the same
// advice would zero the page.
std::mutex mappings_mutex;
std::map<uintptr_t, size_t> mappings;

// Finalizer of the buffers below: forgets the mapping (if it was a file's) and unmaps [data, data + *len).
void Unmap(void* data, size_t* len) {
  {
    std::lock_guard<std::mutex> lock(mappings_mutex);
    mappings.erase(reinterpret_cast<uintptr_t>(data));
  }
  munmap(data, *len);
  delete len;
}

// An external ArrayBuffer of `bytes` at p that unmaps [p, p + len) when collected. N-API makes external ArrayBuffers
// through node::Buffer, which refuses more than node::Buffer::kMaxLength bytes (4 GiB in Node 20) and then frees
// node-addon-api's finalizer data twice (an abort, not an exception); a safetensors shard is often 5 GB. V8's own
// ArrayBuffer has no such limit, so larger mappings are handed to V8 directly. The v8::Local -> napi_value cast is
// the one Node's N-API uses itself (js_native_api_v8.h, JsValueFromV8LocalValue).
Napi::Value ExternalBuffer(Napi::Env env, void* p, size_t bytes, size_t len) {
  if (bytes <= kNapiMaxBytes)
    return Napi::ArrayBuffer::New(env, p, bytes, [](Napi::Env, void* data, size_t* len) { Unmap(data, len); },
                                  new size_t(len));
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  const auto unmap = [](void* data, size_t, void* len) { Unmap(data, static_cast<size_t*>(len)); };
  std::unique_ptr<v8::BackingStore> store = v8::ArrayBuffer::NewBackingStore(p, bytes, unmap, new size_t(len));
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, std::move(store));
  return Napi::Value(env, reinterpret_cast<napi_value>(*buffer));
}

// Advice only: a kernel without the feature (or a file system whose page cache cannot be mapped with huge pages)
// returns an error, and the mapping works as before.
void Advise(void* p, size_t size, bool populate) {
#ifdef MADV_HUGEPAGE
  // Lets the kernel map the page cache's large folios with huge pages where it can (fewer TLB misses when decoding
  // streams every weight once per token).
  madvise(p, size, MADV_HUGEPAGE);
#endif
  // Populating maps every page now, in one pass through the page cache (reading what is not cached), rather than
  // one fault per page in the first forward pass. It must be MADV_POPULATE_READ (Linux 5.14), not MAP_POPULATE:
  // on this private writable mapping MAP_POPULATE populates for writing, which breaks copy-on-write and gives the
  // process a private anonymous copy of every page of the file.
#ifdef MADV_POPULATE_READ
  if (populate && madvise(p, size, MADV_POPULATE_READ) == 0) return;
#endif
  // Otherwise start reading the whole file now (no-op for pages already cached): a cold load then streams the file
  // instead of faulting it in 4 KiB at a time.
  madvise(p, size, MADV_WILLNEED);
}

Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "olmo native mapFile: argument 'path' must be a string");
  if (info.Length() >= 2 && !info[1].IsBoolean() && !info[1].IsUndefined())
    throw Napi::TypeError::New(env, "olmo native mapFile: argument 'populate' must be a boolean");
  const bool populate = info.Length() >= 2 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const auto fail = [&](const char* what) {
    return Napi::Error::New(env, "cannot map " + path + ": " + what + ": " + std::strerror(errno));
  };
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail("open");
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const Napi::Error err = fail("fstat");
    close(fd);
    throw err;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    close(fd);
    return Napi::ArrayBuffer::New(env, 0);
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  close(fd);  // the mapping keeps the file open
  if (p == MAP_FAILED) {
    errno = map_errno;
    throw fail("mmap");
  }
  Advise(p, size, populate);
  {
    std::lock_guard<std::mutex> lock(mappings_mutex);
    mappings[reinterpret_cast<uintptr_t>(p)] = size;
  }
  return ExternalBuffer(env, p, size, size);
}

// The byte count argument of allocLarge and allocAligned.
size_t ByteCount(const Napi::CallbackInfo& info, const char* op) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(env, std::string("olmo native ") + op + ": argument 'bytes' must be a number");
  const double requested = info[0].As<Napi::Number>().DoubleValue();
  if (!(requested >= 0) || requested != static_cast<double>(static_cast<int64_t>(requested)) || requested > 0x1p52)
    throw Napi::RangeError::New(env, std::string("olmo native ") + op +
                                         ": 'bytes' must be a non-negative integer, got " + std::to_string(requested));
  return static_cast<size_t>(requested);
}

Napi::Value AllocAligned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t bytes = ByteCount(info, "allocAligned");
  if (bytes == 0) return Napi::ArrayBuffer::New(env, 0);
  // calloc, not aligned_alloc + memset: for large sizes calloc takes fresh pages from the kernel, which are zero
  // already, and skips the memset. One line more than asked, to start the buffer on the next 64-byte boundary.
  constexpr uintptr_t kLine = 64;
  void* raw = std::calloc(1, bytes + kLine);
  if (raw == nullptr)
    throw Napi::Error::New(env, "olmo native allocAligned: cannot allocate " + std::to_string(bytes) + " bytes");
  void* p = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(raw) + kLine - 1) & ~(kLine - 1));
  // A V8 backing store (as ExternalBuffer's large path): V8 counts its bytes as external memory for the garbage
  // collector's pacing, and frees it with the ArrayBuffer.
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  std::unique_ptr<v8::BackingStore> store =
      v8::ArrayBuffer::NewBackingStore(p, bytes, [](void*, size_t, void* raw) { std::free(raw); }, raw);
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, std::move(store));
  return Napi::Value(env, reinterpret_cast<napi_value>(*buffer));
}

Napi::Value AddressAlignment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArrayBuffer() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "olmo native addressAlignment: arguments must be (ArrayBuffer, offset)");
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  const double offset = info[1].As<Napi::Number>().DoubleValue();
  if (!(offset >= 0) || offset > static_cast<double>(buffer.ByteLength()) || offset != static_cast<int64_t>(offset))
    throw Napi::RangeError::New(env, "olmo native addressAlignment: offset " + std::to_string(offset) +
                                         " is outside the buffer's " + std::to_string(buffer.ByteLength()) + " bytes");
  const uintptr_t address = reinterpret_cast<uintptr_t>(buffer.Data()) + static_cast<uintptr_t>(offset);
  uintptr_t a = 1;
  while (a < 4096 && address % (2 * a) == 0) a *= 2;
  return Napi::Number::New(env, static_cast<double>(a));
}

Napi::Value AllocLarge(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t bytes = ByteCount(info, "allocLarge");
  if (bytes == 0) return Napi::ArrayBuffer::New(env, 0);
  // Over-allocate by one huge page, then trim both ends so that the buffer starts on a 2 MiB boundary.
  const size_t len = (bytes + 4095) & ~size_t{4095};
  const size_t span = len + kHugePage;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED)
    throw Napi::Error::New(env, "olmo native allocLarge: cannot allocate " + std::to_string(bytes) +
                                    " bytes: " + std::strerror(errno));
  const uintptr_t base = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (base + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > base) munmap(raw, aligned - base);
  const uintptr_t end = aligned + len;
  if (base + span > end) munmap(reinterpret_cast<void*>(end), base + span - end);
  void* p = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
  madvise(p, len, MADV_HUGEPAGE);
#endif
  return ExternalBuffer(env, p, bytes, len);
}

// The pages of [offset, offset + length) of a buffer made by mapFile, from the arguments (buffer, offset, length)
// of `op`: whole pages only (inner) or every page the range touches; none (start == end) for a buffer mapFile did
// not make or an empty range.
struct PageRange {
  uintptr_t start = 0, end = 0;
};
PageRange PagesOf(const Napi::CallbackInfo& info, const char* op, bool inner) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsArrayBuffer() || !info[1].IsNumber() || !info[2].IsNumber())
    throw Napi::TypeError::New(env, std::string("olmo native ") + op + ": arguments must be (ArrayBuffer, offset, length)");
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  const double offset = info[1].As<Napi::Number>().DoubleValue();
  const double length = info[2].As<Napi::Number>().DoubleValue();
  const double size = static_cast<double>(buffer.ByteLength());
  if (!(offset >= 0 && length >= 0 && offset + length <= size))
    throw Napi::RangeError::New(env, std::string("olmo native ") + op + ": [" + std::to_string(offset) + ", " +
                                         std::to_string(offset + length) + ") is outside the buffer of " +
                                         std::to_string(size) + " bytes");
  const uintptr_t base = reinterpret_cast<uintptr_t>(buffer.Data());
  {
    std::lock_guard<std::mutex> lock(mappings_mutex);
    if (mappings.find(base) == mappings.end()) return {};
  }
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t lo = base + static_cast<uintptr_t>(offset), hi = base + static_cast<uintptr_t>(offset + length);
  PageRange r;
  r.start = inner ? (lo + page - 1) & ~(page - 1) : lo & ~(page - 1);
  r.end = inner ? hi & ~(page - 1) : (hi + page - 1) & ~(page - 1);
  if (r.end < r.start) r.end = r.start;
  return r;
}

// releasePages(buffer, offset, length): the whole pages of the range are unmapped from this process
// (MADV_DONTNEED) but stay readable: the next read faults them in again from the page cache. For weights read once
// at load (a bf16 matrix quantised to q8_0), so they stop counting as resident. Returns the bytes released; 0 for
// a buffer that mapFile did not make.
Napi::Value ReleasePages(const Napi::CallbackInfo& info) {
  const PageRange r = PagesOf(info, "releasePages", true);
  if (r.end == r.start || madvise(reinterpret_cast<void*>(r.start), r.end - r.start, MADV_DONTNEED) != 0)
    return Napi::Number::New(info.Env(), 0);
  return Napi::Number::New(info.Env(), static_cast<double>(r.end - r.start));
}

// populatePages(buffer, offset, length): every page the range touches is mapped now, in one pass of the kernel
// (MADV_POPULATE_READ, Linux 5.14), instead of one page fault per page as the first read goes through it. For a
// matrix about to be read whole (quantised at load). Returns the bytes mapped; 0 where the kernel lacks the advice
// or for a buffer that mapFile did not make (reading then faults the pages in as usual).
Napi::Value PopulatePages(const Napi::CallbackInfo& info) {
  const PageRange r = PagesOf(info, "populatePages", false);
#ifdef MADV_POPULATE_READ
  if (r.end > r.start && madvise(reinterpret_cast<void*>(r.start), r.end - r.start, MADV_POPULATE_READ) == 0)
    return Napi::Number::New(info.Env(), static_cast<double>(r.end - r.start));
#endif
  return Napi::Number::New(info.Env(), 0);
}

}  // namespace

void RegisterMmap(Napi::Env env, Napi::Object exports) {
  exports.Set("mapFile", Napi::Function::New(env, MapFile));
  exports.Set("allocLarge", Napi::Function::New(env, AllocLarge));
  exports.Set("allocAligned", Napi::Function::New(env, AllocAligned));
  exports.Set("addressAlignment", Napi::Function::New(env, AddressAlignment));
  exports.Set("releasePages", Napi::Function::New(env, ReleasePages));
  exports.Set("populatePages", Napi::Function::New(env, PopulatePages));
}

}  // namespace olmo
