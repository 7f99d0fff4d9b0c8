// mapFile(path): the file mapped into memory as an ArrayBuffer (external: V8 does not own or copy it), so
// checkpoint weights are typed-array views of the page cache instead of copies on the JS heap. The mapping is
// private copy-on-write: writing through a view never reaches the file and never faults, it only makes that
// page private. It is unmapped when the ArrayBuffer is garbage-collected.
#include <fcntl.h>
#include <napi.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace olmo {
namespace {

Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "olmo native mapFile: argument 'path' must be a string");
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
  return Napi::ArrayBuffer::New(
      env, p, size, [](Napi::Env, void* data, size_t* len) {
        munmap(data, *len);
        delete len;
      },
      new size_t(size));
}

}  // namespace

void RegisterMmap(Napi::Env env, Napi::Object exports) { exports.Set("mapFile", Napi::Function::New(env, MapFile)); }

}  // namespace olmo
