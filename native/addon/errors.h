// Turning errno into JavaScript errors shaped like Node's own (code, errno, syscall).
#pragma once
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>

inline Napi::Error ErrnoError(Napi::Env env, const char *syscall, int err, const std::string &path = "") {
  std::string msg = std::string(strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN") + ": " + strerror(err) +
                    ", " + syscall + (path.empty() ? "" : " '" + path + "'");
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN"));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) e.Set("path", Napi::String::New(env, path));
  return e;
}

#define THROW_ERRNO(env, syscall, ...)                                   \
  do {                                                                   \
    ErrnoError(env, syscall, errno, ##__VA_ARGS__).ThrowAsJavaScriptException(); \
    return env.Undefined();                                              \
  } while (0)
