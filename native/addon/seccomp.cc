// Compiles a seccomp profile to a classic BPF program with libseccomp, in the parent: the
// container's init only loads the bytes, and never links libseccomp.
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "errors.h"

namespace {

struct CtxDeleter {
  void operator()(void *ctx) const { seccomp_release(ctx); }
};

Napi::Error SeccompError(Napi::Env env, const std::string &what, int rc) {
  return ErrnoError(env, ("seccomp: " + what).c_str(), -rc);
}

uint64_t BigU64(Napi::Value v) {
  bool lossless;
  return v.As<Napi::BigInt>().Uint64Value(&lossless);
}

// compile({ defaultAction, architectures, rules: [{ names, action, args: [{ index, op, value,
// valueTwo }] }] }) → { program: Buffer, unknown: string[] }. Actions and ops are libseccomp's
// numbers (SCMP_ACT_*, SCMP_CMP_*), decided in TypeScript.
Napi::Value Compile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object spec = info[0].As<Napi::Object>();
  uint32_t def = spec.Get("defaultAction").As<Napi::Number>().Uint32Value();
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(def));
  if (!ctx) {
    Napi::Error::New(env, "seccomp: the default action is not valid").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // no_new_privs is capsa-init's decision (process.noNewPrivileges), not libseccomp's.
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0) {
    SeccompError(env, "seccomp_attr_set(CTL_NNP)", rc).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array arches = spec.Get("architectures").As<Napi::Array>();
  for (uint32_t i = 0; i < arches.Length(); i++) {
    std::string name = arches.Get(i).As<Napi::String>();
    uint32_t arch = seccomp_arch_resolve_name(name.c_str());
    if (arch == 0) {
      Napi::Error::New(env, "seccomp: unknown architecture " + name).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    rc = seccomp_arch_add(ctx.get(), arch);
    if (rc < 0 && rc != -EEXIST) {
      SeccompError(env, "add architecture " + name, rc).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }

  Napi::Array unknown = Napi::Array::New(env);
  Napi::Array rules = spec.Get("rules").As<Napi::Array>();
  for (uint32_t r = 0; r < rules.Length(); r++) {
    Napi::Object rule = rules.Get(r).As<Napi::Object>();
    uint32_t action = rule.Get("action").As<Napi::Number>().Uint32Value();
    Napi::Array args = rule.Get("args").As<Napi::Array>();
    std::vector<scmp_arg_cmp> conds;
    for (uint32_t a = 0; a < args.Length(); a++) {
      Napi::Object arg = args.Get(a).As<Napi::Object>();
      conds.push_back(scmp_arg_cmp{arg.Get("index").As<Napi::Number>().Uint32Value(),
                                   (scmp_compare)arg.Get("op").As<Napi::Number>().Uint32Value(), BigU64(arg.Get("value")),
                                   BigU64(arg.Get("valueTwo"))});
    }
    // Conditions on one argument can only be ORed: one rule each. On distinct arguments
    // they are ANDed in one rule. (runc does the same.)
    bool sameIndex = false;
    for (size_t i = 0; i < conds.size(); i++)
      for (size_t j = i + 1; j < conds.size(); j++) sameIndex |= conds[i].arg == conds[j].arg;
    Napi::Array names = rule.Get("names").As<Napi::Array>();
    for (uint32_t n = 0; n < names.Length(); n++) {
      std::string name = names.Get(n).As<Napi::String>();
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        unknown.Set(unknown.Length(), name);
        continue;
      }
      if (sameIndex) {
        for (auto &c : conds) {
          rc = seccomp_rule_add_array(ctx.get(), action, nr, 1, &c);
          if (rc < 0) break;
        }
      } else {
        rc = seccomp_rule_add_array(ctx.get(), action, nr, conds.size(), conds.data());
      }
      if (rc < 0) {
        SeccompError(env, "add a rule for " + name, rc).ThrowAsJavaScriptException();
        return env.Undefined();
      }
    }
  }

  int fd = memfd_create("capsa-seccomp", MFD_CLOEXEC);
  if (fd < 0) THROW_ERRNO(env, "memfd_create");
  rc = seccomp_export_bpf(ctx.get(), fd);
  if (rc < 0) {
    close(fd);
    SeccompError(env, "export the filter", rc).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  off_t size = lseek(fd, 0, SEEK_END);
  std::vector<char> prog(size > 0 ? size : 0);
  ssize_t got = size > 0 ? pread(fd, prog.data(), prog.size(), 0) : 0;
  close(fd);
  if (got != (ssize_t)prog.size()) {
    errno = EIO;
    THROW_ERRNO(env, "read the exported filter");
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("program", Napi::Buffer<char>::Copy(env, prog.data(), prog.size()));
  out.Set("unknown", unknown);
  return out;
}

Napi::Value Version(const Napi::CallbackInfo &info) {
  const scmp_version *v = seccomp_version();
  return Napi::String::New(info.Env(), std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro));
}

// flagSupported(flags): whether this kernel knows these SECCOMP_FILTER_FLAG_* bits. seccomp(2)
// checks the flags before it reads the program, so a NULL program answers EFAULT for known
// flags and EINVAL for unknown ones, and installs nothing.
Napi::Value FlagSupported(const Napi::CallbackInfo &info) {
  unsigned int flags = info[0].As<Napi::Number>().Uint32Value();
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, nullptr);
  return Napi::Boolean::New(info.Env(), r < 0 && errno == EFAULT);
}

}  // namespace

void InitSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("seccompCompile", Napi::Function::New(env, Compile));
  exports.Set("seccompVersion", Napi::Function::New(env, Version));
  exports.Set("seccompFlagSupported", Napi::Function::New(env, FlagSupported));
}
