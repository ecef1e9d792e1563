// File-level calls Node lacks: flock, mkfifo, socketpair, and the exec fifo wait of `start`.
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"

namespace {

// flock(fd, exclusive, wait): false when `wait` is false and someone else holds the lock.
Napi::Value Flock(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool exclusive = info[1].As<Napi::Boolean>();
  bool wait = info[2].As<Napi::Boolean>();
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
  int r;
  do r = flock(fd, op);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno == EWOULDBLOCK && !wait) return Napi::Boolean::New(env, false);
  if (r < 0) THROW_ERRNO(env, "flock");
  return Napi::Boolean::New(env, true);
}

Napi::Value Mkfifo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  if (mkfifo(path.c_str(), info[1].As<Napi::Number>().Uint32Value()) < 0) THROW_ERRNO(env, "mkfifo", path);
  return env.Undefined();
}

Napi::Value Socketpair(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) THROW_ERRNO(env, "socketpair");
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, sv[0]);
  a.Set(1u, sv[1]);
  return a;
}

// awaitFifo(path, pidfd): opens exec.fifo for reading, which releases the container process
// blocked on its write end, and returns everything it writes until it closes the fifo at
// execve. Returns null if the process exits without ever opening the fifo.
Napi::Value AwaitFifo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int pidfd = info[1].As<Napi::Number>().Int32Value();
  // Non-blocking: a reader that arrives first must not hang if the writer is already gone.
  // Until a writer connects, poll reports nothing rather than a hangup.
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) THROW_ERRNO(env, "open", path);
  std::string data;
  bool opened = false;
  for (;;) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
    int r = poll(p, opened ? 1 : 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      errno = e;
      THROW_ERRNO(env, "poll", path);
    }
    if (p[0].revents & (POLLIN | POLLHUP)) {
      char buf[4096];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
        opened = true;
        data.append(buf, n);
        continue;
      }
      if (n == 0 && (p[0].revents & POLLHUP)) break;  // the writer closed: exec or exit
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        int e = errno;
        close(fd);
        errno = e;
        THROW_ERRNO(env, "read", path);
      }
      continue;
    }
    if (!opened && (p[1].revents & POLLIN)) {
      close(fd);
      return env.Null();
    }
  }
  close(fd);
  return Napi::String::New(env, data);
}

// umount(path): a lazy (MNT_DETACH) unmount; false if it was not a mount point any more.
Napi::Value Umount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  if (umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) return Napi::Boolean::New(env, true);
  if (errno == EINVAL || errno == ENOENT) return Napi::Boolean::New(env, false);
  THROW_ERRNO(env, "umount2", path);
}

}  // namespace

void InitFs(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("socketpair", Napi::Function::New(env, Socketpair));
  exports.Set("awaitFifo", Napi::Function::New(env, AwaitFifo));
  exports.Set("umount", Napi::Function::New(env, Umount));
}
