/* The hooks that run inside the container: createContainer (in its namespaces, before
 * pivot_root) and startContainer (after `start`, before the user's process). Each gets the
 * state document on stdin; a non-zero exit or a timeout stops the container, and the error
 * carries the end of what the hook printed (as runc's does). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

static const char *kind_name(uint32_t kind) {
  return kind == CAPSA_HOOK_CREATE_CONTAINER ? "createContainer hook" : "startContainer hook";
}

/* The last bytes a hook wrote to its stdout and stderr. */
struct tail {
  char buf[1024];
  size_t len;
};

/* Reads what is there; true at end of file. */
static bool drain(int fd, struct tail *t) {
  char chunk[4096];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR)) {
    if (n < 0) continue;
    size_t k = (size_t)n;
    if (k >= sizeof t->buf) {
      memcpy(t->buf, chunk + k - sizeof t->buf, sizeof t->buf);
      t->len = sizeof t->buf;
    } else {
      size_t keep = t->len + k > sizeof t->buf ? sizeof t->buf - k : t->len;
      memmove(t->buf, t->buf + t->len - keep, keep);
      memcpy(t->buf + keep, chunk, k);
      t->len = keep + k;
    }
  }
  return n == 0;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reaps the hook, collecting its output meanwhile; false if it outlived `timeout` seconds
 * (0: no limit). A pidfd tells when it exits; where one cannot be had (a seccomp profile
 * already loaded may refuse pidfd_open to startContainer hooks), a 10 ms tick does. */
static bool wait_hook(pid_t pid, uint32_t timeout, int out, struct tail *t, int *status) {
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  long deadline = timeout ? now_ms() + (long)timeout * 1000 : -1;
  bool eof = false;
  for (;;) {
    struct pollfd p[2] = {{.fd = eof ? -1 : out, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    long left = deadline < 0 ? -1 : deadline - now_ms();
    if (left < 0 && deadline >= 0) left = 0;
    int wait_ms = pidfd >= 0 ? (int)left : (left < 0 || left > 10 ? 10 : (int)left);
    int r = poll(p, pidfd >= 0 ? 2 : 1, wait_ms);
    if (r < 0 && errno != EINTR) fail("hook", NULL, errno, "poll");
    if (r > 0 && (p[0].revents & (POLLIN | POLLHUP))) eof = drain(out, t);
    pid_t w = waitpid(pid, status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) fail("hook", NULL, errno, "wait");
    if (deadline >= 0 && now_ms() >= deadline) {
      if (pidfd >= 0) close(pidfd);
      return false;
    }
  }
  if (pidfd >= 0) close(pidfd);
  drain(out, t);
  return true;
}

static void run_one(const struct hook_entry *h, const char *state) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) fail(kind_name(h->kind), h->path, errno, "pipe");
  pid_t pid = fork();
  if (pid < 0) fail(kind_name(h->kind), h->path, errno, "fork");
  if (pid == 0) {
    if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0) _exit(127);
    execve(h->path, (char *const *)h->args.v, (char *const *)h->env.v);
    dprintf(2, "%s", strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  if (fcntl(out[0], F_SETFL, O_NONBLOCK) < 0) fail(kind_name(h->kind), h->path, errno, "fcntl");
  /* A hook that does not read its stdin must not block us: EPIPE is fine. */
  signal(SIGPIPE, SIG_IGN);
  size_t len = strlen(state);
  for (size_t off = 0; off < len;) {
    ssize_t n = write(in[1], state + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    off += (size_t)n;
  }
  close(in[1]);
  signal(SIGPIPE, SIG_DFL);

  struct tail t = {.len = 0};
  int status;
  bool done = wait_hook(pid, h->timeout, out[0], &t, &status);
  close(out[0]);
  while (t.len && (t.buf[t.len - 1] == '\n' || t.buf[t.len - 1] == ' ')) t.len--;
  const char *sep = t.len ? ": " : "";
  if (!done) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail(kind_name(h->kind), h->path, 0, "killed after its timeout of %u s%s%.*s", h->timeout, sep, (int)t.len, t.buf);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFSIGNALED(status)) fail(kind_name(h->kind), h->path, 0, "killed by signal %d%s%.*s", WTERMSIG(status), sep, (int)t.len, t.buf);
  fail(kind_name(h->kind), h->path, 0, "exited with status %d%s%.*s", WEXITSTATUS(status), sep, (int)t.len, t.buf);
}

void run_hooks(struct plan *p, uint32_t kind, const char *state) {
  for (size_t i = 0; i < p->hooks.n; i++)
    if (p->hooks.v[i].kind == kind) run_one(&p->hooks.v[i], state);
}
