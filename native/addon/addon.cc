// The capsa addon: what the parent needs and Node lacks. Its surface is typed in
// lib/native.d.ts; each concern lives in its own file.
#include <napi.h>

void InitProcess(Napi::Env env, Napi::Object exports);
void InitFs(Napi::Env env, Napi::Object exports);
void InitSeccomp(Napi::Env env, Napi::Object exports);
void InitBpf(Napi::Env env, Napi::Object exports);
void InitTerminal(Napi::Env env, Napi::Object exports);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitProcess(env, exports);
  InitFs(env, exports);
  InitSeccomp(env, exports);
  InitBpf(env, exports);
  InitTerminal(env, exports);
  return exports;
}

NODE_API_MODULE(capsa, Init)
