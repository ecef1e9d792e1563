/* The hooks that run inside the container: createContainer (in its mount namespace, before
 * pivot_root) and startContainer (after `start`, before the user's process). Each gets the
 * state document on stdin; a non-zero exit or a timeout stops the container. */
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

static void run_one(const struct hook_entry *h, const char *state) {
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) fail(kind_name(h->kind), h->path, errno, "pipe");
  pid_t pid = fork();
  if (pid < 0) fail(kind_name(h->kind), h->path, errno, "fork");
  if (pid == 0) {
    if (dup2(in[0], 0) < 0) _exit(127);
    execve(h->path, (char *const *)h->args.v, (char *const *)h->env.v);
    dprintf(2, "capsa-init: %s %s: %s\n", kind_name(h->kind), h->path, strerror(errno));
    _exit(127);
  }
  close(in[0]);
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

  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) fail(kind_name(h->kind), h->path, errno, "pidfd_open");
  struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
  int timeout = h->timeout ? (int)h->timeout * 1000 : -1;
  int r;
  do r = poll(&pfd, 1, timeout);
  while (r < 0 && errno == EINTR);
  close(pidfd);
  if (r == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail(kind_name(h->kind), h->path, ETIMEDOUT, "killed after its timeout of %u s", h->timeout);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail(kind_name(h->kind), h->path, errno, "wait");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFSIGNALED(status)) fail(kind_name(h->kind), h->path, 0, "killed by signal %d", WTERMSIG(status));
  fail(kind_name(h->kind), h->path, 0, "exited with status %d", WEXITSTATUS(status));
}

void run_hooks(struct plan *p, uint32_t kind, const char *state) {
  for (size_t i = 0; i < p->hooks.n; i++)
    if (p->hooks.v[i].kind == kind) run_one(&p->hooks.v[i], state);
}
