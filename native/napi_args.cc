// Kernel signatures: parsing them once at registration, exporting them, and reading a call's arguments by
// name (napi_args.h describes the format).
#include "napi_args.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace olmo {
namespace {

std::vector<const ParsedSignature*>& Registry() {
  static std::vector<const ParsedSignature*> all;
  return all;
}

bool KindOf(const std::string& s, Kind* kind) {
  static const struct {
    const char* name;
    Kind kind;
  } kKinds[] = {{"f32", Kind::F32},   {"f32?", Kind::OptF32}, {"i32", Kind::I32},          {"i32?", Kind::OptI32},
                {"u16", Kind::U16},   {"i8", Kind::I8},       {"size", Kind::Size},   {"unaryOp", Kind::Size},     {"binaryOp", Kind::Size},
                {"int", Kind::Int},   {"num", Kind::Num},     {"bool", Kind::Bool}};
  for (const auto& k : kKinds)
    if (s == k.name) {
      *kind = k.kind;
      return true;
    }
  // An object kind is named by its TypeScript type: a capitalised identifier.
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') {
    *kind = Kind::Object;
    return true;
  }
  return false;
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::F32: return "f32";
    case Kind::OptF32: return "f32?";
    case Kind::I32: return "i32";
    case Kind::OptI32: return "i32?";
    case Kind::U16: return "u16";
    case Kind::I8: return "i8";
    case Kind::Size: return "size";
    case Kind::Int: return "int";
    case Kind::Num: return "num";
    case Kind::Bool: return "bool";
    case Kind::Object: return "object";
  }
  return "?";
}

[[noreturn]] void BadSignature(const KernelDef& def, const std::string& why) {
  // A malformed signature is a bug in this file set, found at load: fail loudly rather than run half-checked.
  std::fprintf(stderr, "olmo native: malformed signature of %s (\"%s\"): %s\n", def.name, def.signature, why.c_str());
  std::abort();
}

}  // namespace

ParsedSignature* ParseSignature(const KernelDef& def) {
  auto* sig = new ParsedSignature{&def, {}};
  std::istringstream in(def.signature);
  std::string tok;
  while (in >> tok) {
    if (tok == "->") {
      if (!(in >> tok)) BadSignature(def, "'->' without a result kind");
      if (in >> tok) BadSignature(def, "text after the result kind");
      break;
    }
    const size_t colon = tok.find(':');
    if (colon == std::string::npos || colon == 0) BadSignature(def, "'" + tok + "' is not name:kind");
    ArgSpec a{tok.substr(0, colon), Kind::F32};
    if (!KindOf(tok.substr(colon + 1), &a.kind)) BadSignature(def, "unknown kind in '" + tok + "'");
    for (const auto& b : sig->args)
      if (b.name == a.name) BadSignature(def, "argument '" + a.name + "' twice");
    sig->args.push_back(a);
  }
  return sig;
}

void RegisterKernels(Napi::Env env, Napi::Object exports, const KernelDef* defs, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    // Parsed once per load and kept for the life of the process, like the functions that point at it.
    ParsedSignature* sig = ParseSignature(defs[i]);
    Registry().push_back(sig);
    exports.Set(defs[i].name, Napi::Function::New(env, defs[i].fn, defs[i].name, sig));
  }
}

Napi::Value KernelSignatures(const Napi::CallbackInfo& info) {
  auto obj = Napi::Object::New(info.Env());
  for (const ParsedSignature* sig : Registry()) obj.Set(sig->def->name, sig->def->signature);
  return obj;
}

size_t Args::Find(const char* name) const {
  for (size_t i = 0; i < sig_.args.size(); ++i)
    if (sig_.args[i].name == name) return i;
  throw Napi::Error::New(info_.Env(), std::string("olmo native ") + op() + ": reads argument '" + name +
                                          "', which its signature does not declare (an addon bug)");
}

size_t Args::At(const char* name, Kind kind) const {
  const size_t i = Find(name);
  if (sig_.args[i].kind != kind)
    throw Napi::Error::New(info_.Env(), std::string("olmo native ") + op() + ": reads argument '" + name + "' as " +
                                            KindName(kind) + " but its signature declares " +
                                            KindName(sig_.args[i].kind) + " (an addon bug)");
  return i;
}

Napi::Value Args::Field(const char* name, const char* field) const {
  const size_t i = At(name, Kind::Object);
  if (!info_[i].IsObject()) throw ArgError(info_, op(), std::string("argument '") + name + "' must be an object");
  return info_[i].As<Napi::Object>().Get(field);
}

int64_t Args::FieldSize(const char* name, const char* field) const {
  const Napi::Value v = Field(name, field);
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!v.IsNumber() || !(d >= 0) || d != std::floor(d) || d > 9007199254740991.0)
    throw ArgError(info_, op(), std::string("argument '") + name + "." + field + "' must be a non-negative integer");
  return static_cast<int64_t>(d);
}

double Args::FieldNum(const char* name, const char* field) const {
  const Napi::Value v = Field(name, field);
  if (!v.IsNumber()) throw ArgError(info_, op(), std::string("argument '") + name + "." + field + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

}  // namespace olmo
