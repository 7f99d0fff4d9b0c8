// Argument validation at the N-API boundary. Every exported kernel reads its arguments through these
// helpers, so a wrong type, a negative size or a too-short buffer from TypeScript becomes a JS exception
// naming the kernel and the argument, never an out-of-bounds access.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace olmo {

inline Napi::Error ArgError(const Napi::CallbackInfo& info, const char* op, const std::string& msg) {
  return Napi::TypeError::New(info.Env(), std::string("olmo native ") + op + ": " + msg);
}

inline void RequireArgs(const Napi::CallbackInfo& info, const char* op, size_t n) {
  if (info.Length() < n)
    throw ArgError(info, op, "expected " + std::to_string(n) + " arguments, got " + std::to_string(info.Length()));
}

// A typed array of `type` with at least `need` elements, read from any value (an argument, or an element of an
// object argument's array); `name` is how errors call it.
template <typename T>
inline T* TypedValue(const Napi::CallbackInfo& info, const Napi::Value& v, const char* op, const char* name,
                     napi_typedarray_type type, const char* type_name, int64_t need) {
  if (!v.IsTypedArray()) throw ArgError(info, op, std::string("argument '") + name + "' must be a " + type_name);
  auto arr = v.As<Napi::TypedArray>();
  if (arr.TypedArrayType() != type)
    throw ArgError(info, op, std::string("argument '") + name + "' must be a " + type_name);
  if (need < 0) throw ArgError(info, op, std::string("negative size for '") + name + "'");
  if (static_cast<int64_t>(arr.ElementLength()) < need)
    throw ArgError(info, op, std::string("argument '") + name + "' has " + std::to_string(arr.ElementLength()) +
                                 " elements, needs at least " + std::to_string(need));
  auto* base = static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  return reinterpret_cast<T*>(base);
}

template <typename T>
inline T* TypedArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name,
                   napi_typedarray_type type, const char* type_name, int64_t need) {
  if (i >= info.Length()) throw ArgError(info, op, std::string("argument '") + name + "' must be a " + type_name);
  return TypedValue<T>(info, info[i], op, name, type, type_name, need);
}

inline float* F32Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t need) {
  return TypedArg<float>(info, i, op, name, napi_float32_array, "Float32Array", need);
}
inline int32_t* I32Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t need) {
  return TypedArg<int32_t>(info, i, op, name, napi_int32_array, "Int32Array", need);
}
inline uint16_t* U16Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t need) {
  return TypedArg<uint16_t>(info, i, op, name, napi_uint16_array, "Uint16Array", need);
}
inline int8_t* I8Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t need) {
  return TypedArg<int8_t>(info, i, op, name, napi_int8_array, "Int8Array", need);
}

// Optional typed arrays: a null or undefined argument gives nullptr (a missing one is still an error).
inline bool IsNullish(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() && (info[i].IsNull() || info[i].IsUndefined());
}
inline float* OptF32Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t need) {
  return IsNullish(info, i) ? nullptr : F32Arg(info, i, op, name, need);
}
inline int32_t* OptI32Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t need) {
  return IsNullish(info, i) ? nullptr : I32Arg(info, i, op, name, need);
}

// A non-negative integer (a size, a count, an index bound).
inline int64_t SizeArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw ArgError(info, op, std::string("argument '") + name + "' must be a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0) || v != std::floor(v) || v > 9007199254740991.0)
    throw ArgError(info, op, std::string("argument '") + name + "' must be a non-negative integer, got " +
                                 std::to_string(v));
  return static_cast<int64_t>(v);
}

// Any integer (an offset that may be negative, an ignore index).
inline int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw ArgError(info, op, std::string("argument '") + name + "' must be a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (v != std::floor(v) || std::fabs(v) > 9007199254740991.0)
    throw ArgError(info, op, std::string("argument '") + name + "' must be an integer");
  return static_cast<int64_t>(v);
}

inline double NumArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw ArgError(info, op, std::string("argument '") + name + "' must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

inline bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length() || !info[i].IsBoolean())
    throw ArgError(info, op, std::string("argument '") + name + "' must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

// Product of sizes with an overflow check (sizes come from TypeScript and may be absurd).
inline int64_t CheckedMul(const Napi::CallbackInfo& info, const char* op, int64_t a, int64_t b) {
  if (a != 0 && b > INT64_MAX / a) throw ArgError(info, op, "size overflow");
  return a * b;
}

// ---------------------------------------------------------------------------------------------------------
// Kernel signatures. Each kernel is declared once as a string, "name:kind name:kind … [-> kind]", the same
// string as in src/tensor/kernels/types.ts (the TypeScript side compares the two when it loads the addon,
// see kernelSignatures()). Kinds: f32, f32?, i32, i32?, u16, i8 (typed arrays; ? allows null), size
// (non-negative integer), int, num, bool, unaryOp, binaryOp (op codes), and object kinds named by their
// TypeScript type (AttentionShape). A kernel reads its arguments by name through Args, which finds each
// position from the signature, so the layout is written only there.

enum class Kind { F32, OptF32, I32, OptI32, U16, I8, Size, Int, Num, Bool, Object };

struct KernelDef {
  const char* name;
  const char* signature;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

struct ArgSpec {
  std::string name;
  Kind kind;
};

// A signature parsed once at registration; it is the `data` of the kernel's JS function.
struct ParsedSignature {
  const KernelDef* def;
  std::vector<ArgSpec> args;
};

ParsedSignature* ParseSignature(const KernelDef& def);  // aborts the load on a malformed signature
// Registers each kernel as a JS function named def.name and records its signature for kernelSignatures().
void RegisterKernels(Napi::Env env, Napi::Object exports, const KernelDef* defs, size_t count);
template <size_t N>
void RegisterKernels(Napi::Env env, Napi::Object exports, const KernelDef (&defs)[N]) {
  RegisterKernels(env, exports, defs, N);
}
// kernelSignatures(): { name: signature } of every registered kernel.
Napi::Value KernelSignatures(const Napi::CallbackInfo& info);

// The arguments of one call, read by name.
class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info)
      : info_(info), sig_(*static_cast<const ParsedSignature*>(info.Data())) {
    RequireArgs(info, op(), sig_.args.size());
  }
  const char* op() const { return sig_.def->name; }

  float* F32(const char* name, int64_t need) const { return F32Arg(info_, At(name, Kind::F32), op(), name, need); }
  float* OptF32(const char* name, int64_t need) const {
    return OptF32Arg(info_, At(name, Kind::OptF32), op(), name, need);
  }
  int32_t* I32(const char* name, int64_t need) const { return I32Arg(info_, At(name, Kind::I32), op(), name, need); }
  int32_t* OptI32(const char* name, int64_t need) const {
    return OptI32Arg(info_, At(name, Kind::OptI32), op(), name, need);
  }
  uint16_t* U16(const char* name, int64_t need) const { return U16Arg(info_, At(name, Kind::U16), op(), name, need); }
  int8_t* I8(const char* name, int64_t need) const { return I8Arg(info_, At(name, Kind::I8), op(), name, need); }
  int64_t Size(const char* name) const { return SizeArg(info_, At(name, Kind::Size), op(), name); }
  int64_t Int(const char* name) const { return IntArg(info_, At(name, Kind::Int), op(), name); }
  double Num(const char* name) const { return NumArg(info_, At(name, Kind::Num), op(), name); }
  bool Bool(const char* name) const { return BoolArg(info_, At(name, Kind::Bool), op(), name); }
  // Element count of a typed-array argument (after it has been read and checked).
  int64_t Length(const char* name) const {
    return static_cast<int64_t>(info_[Find(name)].As<Napi::TypedArray>().ElementLength());
  }
  // A field of an object argument: a non-negative integer, or any number.
  int64_t FieldSize(const char* name, const char* field) const;
  double FieldNum(const char* name, const char* field) const;
  // A field of an object argument as it is (undefined when absent), for optional fields a kernel checks itself.
  Napi::Value Field(const char* name, const char* field) const;
  const Napi::CallbackInfo& info() const { return info_; }

 private:
  size_t Find(const char* name) const;
  size_t At(const char* name, Kind kind) const;

  const Napi::CallbackInfo& info_;
  const ParsedSignature& sig_;
};

}  // namespace olmo
