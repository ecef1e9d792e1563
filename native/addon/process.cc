// Processes: starting capsa-init from a sealed copy, waiting, pidfds, the subreaper bit.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "errors.h"

extern char **environ;

namespace {

// A sealed in-memory copy of capsa-init: what runs as the container's first process is this
// copy, so a container that reaches /proc/PID/exe finds nothing it can write (CVE-2019-5736).
Napi::Value SealedCopy(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int src = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) THROW_ERRNO(env, "open", path);
  struct stat st;
  if (fstat(src, &st) < 0) {
    int e = errno;
    close(src);
    errno = e;
    THROW_ERRNO(env, "fstat", path);
  }
  int fd = memfd_create("capsa-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | 0x0010U /* MFD_EXEC */);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("capsa-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    close(src);
    THROW_ERRNO(env, "memfd_create");
  }
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(fd, src, &off, st.st_size - off);
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(src);
      close(fd);
      errno = e;
      THROW_ERRNO(env, "sendfile", path);
    }
  }
  close(src);
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    THROW_ERRNO(env, "fcntl(F_ADD_SEALS)");
  }
  return Napi::Number::New(env, fd);
}

// spawn(execFd, fds, env): runs the executable behind execFd with fds[i] as its fd i, every
// signal reset to default and unblocked. Returns the pid.
Napi::Value Spawn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int execFd = info[0].As<Napi::Number>().Int32Value();
  Napi::Array fds = info[1].As<Napi::Array>();
  Napi::Array envArr = info[2].As<Napi::Array>();

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  // Source fds are first moved above the target range so no dup2 clobbers a later source.
  // The executable goes to fd n, past the others: posix_spawn cannot fexecve, so it runs
  // /proc/self/fd/n, and capsa-init closes that fd first thing.
  int n = (int)fds.Length();
  int base = 1000;
  for (int i = 0; i < n; i++) posix_spawn_file_actions_adddup2(&fa, fds.Get(i).As<Napi::Number>().Int32Value(), base + i);
  posix_spawn_file_actions_adddup2(&fa, execFd, base + n);
  for (int i = 0; i <= n; i++) posix_spawn_file_actions_adddup2(&fa, base + i, i);
  posix_spawn_file_actions_addclosefrom_np(&fa, n + 1);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> envs;
  for (uint32_t i = 0; i < envArr.Length(); i++) envs.push_back(envArr.Get(i).As<Napi::String>());
  std::vector<char *> envp;
  for (auto &s : envs) envp.push_back(s.data());
  envp.push_back(nullptr);
  char arg0[] = "capsa-init";
  char *argv[] = {arg0, nullptr};
  std::string exe = "/proc/self/fd/" + std::to_string(n);

  pid_t pid;
  int r = posix_spawn(&pid, exe.c_str(), &fa, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (r != 0) {
    errno = r;
    THROW_ERRNO(env, "posix_spawn", exe);
  }
  return Napi::Number::New(env, pid);
}

Napi::Value StatusObject(Napi::Env env, pid_t pid, int status) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", pid);
  if (WIFEXITED(status)) {
    o.Set("code", WEXITSTATUS(status));
    o.Set("signal", env.Null());
  } else {
    o.Set("code", env.Null());
    o.Set("signal", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  return o;
}

// waitpid(pid): blocks until that child exits; returns { pid, code, signal }.
Napi::Value WaitPid(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int status;
  pid_t r;
  do r = waitpid(pid, &status, __WALL);
  while (r < 0 && errno == EINTR);
  if (r < 0) THROW_ERRNO(env, "waitpid");
  return StatusObject(env, r, status);
}

// Waits in a worker thread for `pid` to exit, reaping every other child that a subreaper
// inherits on the way (the container's orphans).
class ExitWaiter : public Napi::AsyncWorker {
 public:
  ExitWaiter(Napi::Env env, pid_t pid) : Napi::AsyncWorker(env), pid_(pid), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    for (;;) {
      int status;
      pid_t r = waitpid(-1, &status, __WALL);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        err_ = errno;
        return;
      }
      if (r == pid_) {
        status_ = status;
        return;
      }
    }
  }
  void OnOK() override {
    if (err_) {
      errno = err_;
      deferred_.Reject(ErrnoError(Env(), "waitpid", err_).Value());
    } else {
      deferred_.Resolve(StatusObject(Env(), pid_, status_));
    }
  }

 private:
  pid_t pid_;
  int status_ = 0, err_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value WaitExit(const Napi::CallbackInfo &info) {
  auto *w = new ExitWaiter(info.Env(), info[0].As<Napi::Number>().Int32Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value SetSubreaper(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) THROW_ERRNO(env, "prctl(PR_SET_CHILD_SUBREAPER)");
  return env.Undefined();
}

Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = (int)syscall(SYS_pidfd_open, info[0].As<Napi::Number>().Int32Value(), 0);
  if (fd < 0) THROW_ERRNO(env, "pidfd_open");
  return Napi::Number::New(env, fd);
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) < 0) THROW_ERRNO(env, "pidfd_send_signal");
  return env.Undefined();
}

}  // namespace

void InitProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("sealedCopy", Napi::Function::New(env, SealedCopy));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("waitpid", Napi::Function::New(env, WaitPid));
  exports.Set("waitExit", Napi::Function::New(env, WaitExit));
  exports.Set("setSubreaper", Napi::Function::New(env, SetSubreaper));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
}
