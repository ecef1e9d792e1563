// Terminals: receiving a pty master over a unix socket (what a --console-socket listener and
// capsa's own foreground console do), window sizes, raw mode, and the copy loop between the
// host's stdio and the container's pty.
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "errors.h"

namespace {

// recvFd(sock): one fd sent with SCM_RIGHTS, and the name that came with it (runc's format:
// the data is the file's name). A listening socket is accepted on first.
Napi::Value RecvFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  int listening = 0;
  socklen_t len = sizeof listening;
  int conn = sock;
  if (getsockopt(sock, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening) {
    do conn = accept4(sock, nullptr, nullptr, SOCK_CLOEXEC);
    while (conn < 0 && errno == EINTR);
    if (conn < 0) THROW_ERRNO(env, "accept4");
  }
  char name[4096];
  struct iovec iov = {name, sizeof name - 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  ssize_t n;
  do n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  int e = errno;
  if (conn != sock) close(conn);
  if (n < 0) {
    errno = e;
    THROW_ERRNO(env, "recvmsg");
  }
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
    errno = n == 0 ? ECONNRESET : EBADMSG;
    THROW_ERRNO(env, "recvmsg", "no file descriptor received");
  }
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", fd);
  o.Set("name", Napi::String::New(env, name, n));
  return o;
}

// listenUnix(path): a bound, listening unix stream socket (close-on-exec).
Napi::Value ListenUnix(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    THROW_ERRNO(env, "bind", path);
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) THROW_ERRNO(env, "socket");
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    THROW_ERRNO(env, "bind", path);
  }
  return Napi::Number::New(env, fd);
}

// openpty(): a new pty pair on the host's /dev/ptmx: { master, slave, name }.
Napi::Value OpenPty(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) THROW_ERRNO(env, "posix_openpt");
  char name[128];
  int slave = -1;
  if (grantpt(master) == 0 && unlockpt(master) == 0 && ptsname_r(master, name, sizeof name) == 0)
    slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    int e = errno;
    close(master);
    errno = e;
    THROW_ERRNO(env, "open pty slave");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("master", master);
  o.Set("slave", slave);
  o.Set("name", name);
  return o;
}

// getWinsize(fd): { rows, cols }, or null when fd is not a terminal.
Napi::Value GetWinsize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  struct winsize ws;
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCGWINSZ, &ws) < 0) {
    if (errno == ENOTTY || errno == EINVAL || errno == EBADF) return env.Null();
    THROW_ERRNO(env, "ioctl(TIOCGWINSZ)");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("rows", ws.ws_row);
  o.Set("cols", ws.ws_col);
  return o;
}

Napi::Value SetWinsize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  struct winsize ws = {};
  ws.ws_row = (unsigned short)info[1].As<Napi::Number>().Uint32Value();
  ws.ws_col = (unsigned short)info[2].As<Napi::Number>().Uint32Value();
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCSWINSZ, &ws) < 0) THROW_ERRNO(env, "ioctl(TIOCSWINSZ)");
  return env.Undefined();
}

// makeRaw(fd): puts a terminal in raw mode (cfmakeraw, as runc) and returns its previous
// settings for restoreTermios; null when fd is not a terminal.
Napi::Value MakeRaw(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct termios saved, raw;
  if (tcgetattr(fd, &saved) < 0) {
    if (errno == ENOTTY || errno == EINVAL || errno == EBADF) return env.Null();
    THROW_ERRNO(env, "tcgetattr");
  }
  raw = saved;
  cfmakeraw(&raw);
  if (tcsetattr(fd, TCSANOW, &raw) < 0) THROW_ERRNO(env, "tcsetattr");
  return Napi::Buffer<char>::Copy(env, (const char *)&saved, sizeof saved);
}

Napi::Value RestoreTermios(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> b = info[1].As<Napi::Buffer<char>>();
  struct termios t;
  if (b.Length() != sizeof t) {
    errno = EINVAL;
    THROW_ERRNO(env, "tcsetattr");
  }
  memcpy(&t, b.Data(), sizeof t);
  if (tcsetattr(fd, TCSANOW, &t) < 0) THROW_ERRNO(env, "tcsetattr");
  return env.Undefined();
}

// Copies input → master and master → output in a worker thread until the pty has no peer
// left (EIO), or, once `stop` is readable, until the master has been quiet for 100 ms: a
// process that exited may still have output in flight, and a child it left behind may
// hold the pty open forever.
class ConsoleProxy : public Napi::AsyncWorker {
 public:
  ConsoleProxy(Napi::Env env, int master, int input, int output, int stop)
      : Napi::AsyncWorker(env), master_(master), in_(input), out_(output), stop_(stop),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    bool stopping = false, inOpen = in_ >= 0, outOpen = true;
    char buf[16384];
    for (;;) {
      struct pollfd p[3];
      int n = 0, si = -1, ii = -1;
      p[n++] = {master_, POLLIN, 0};
      if (!stopping) p[si = n++] = {stop_, POLLIN, 0};
      if (inOpen && !stopping) p[ii = n++] = {in_, POLLIN, 0};
      int r = poll(p, n, stopping ? 100 : -1);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        err_ = errno;
        return;
      }
      if (r == 0) return;
      if (p[0].revents) {
        ssize_t k = read(master_, buf, sizeof buf);
        if (k > 0 && outOpen) outOpen = WriteAll(out_, buf, (size_t)k);
        if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN)) return;  // EIO: no peer left
      }
      if (si >= 0 && p[si].revents) stopping = true;
      if (ii >= 0 && p[ii].revents) {
        ssize_t k = read(in_, buf, sizeof buf);
        if (k > 0)
          WriteAll(master_, buf, (size_t)k);
        else if (k == 0 || (errno != EINTR && errno != EAGAIN))
          inOpen = false;
      }
    }
  }
  void OnOK() override {
    if (err_)
      deferred_.Reject(ErrnoError(Env(), "poll", err_).Value());
    else
      deferred_.Resolve(Env().Undefined());
  }

 private:
  static bool WriteAll(int fd, const char *b, size_t n) {
    while (n) {
      ssize_t w = write(fd, b, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) {
        struct pollfd p = {fd, POLLOUT, 0};
        poll(&p, 1, -1);
        continue;
      }
      if (w <= 0) return false;
      b += w;
      n -= (size_t)w;
    }
    return true;
  }

  int master_, in_, out_, stop_, err_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value ProxyConsole(const Napi::CallbackInfo &info) {
  auto *w = new ConsoleProxy(info.Env(), info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                             info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Int32Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void InitTerminal(Napi::Env env, Napi::Object exports) {
  exports.Set("recvFd", Napi::Function::New(env, RecvFd));
  exports.Set("listenUnix", Napi::Function::New(env, ListenUnix));
  exports.Set("openpty", Napi::Function::New(env, OpenPty));
  exports.Set("getWinsize", Napi::Function::New(env, GetWinsize));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("makeRaw", Napi::Function::New(env, MakeRaw));
  exports.Set("restoreTermios", Napi::Function::New(env, RestoreTermios));
  exports.Set("proxyConsole", Napi::Function::New(env, ProxyConsole));
}
