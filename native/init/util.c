/* Error reporting and path resolution confined to the container's root. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"

int sync_fd = -1;
int fifo_err_fd = -1;

static void report(uint16_t type, const char *step, const char *path, int err, const char *fmt, va_list ap) {
  char text[2048];
  vsnprintf(text, sizeof text, fmt, ap);
  if (sync_fd >= 0) {
    send_report(type, step, path, err, text);
    return;
  }
  /* After COMMIT nobody listens on the socket: `start` reads errors from the fifo. */
  char line[4096];
  /* The parent's CapsaError format: "step: path: what: why". */
  int n = snprintf(line, sizeof line, "%c%s: %s%s%s%s%s", CAPSA_FIFO_ERR, step, path ? path : "", path ? ": " : "", text,
                   err ? ": " : "", err ? strerror(err) : "");
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1;
  if (fifo_err_fd < 0 || write(fifo_err_fd, line, (size_t)n) < 0) {
    line[0] = ' ';
    dprintf(2, "capsa-init:%s\n", line);
  }
}

void fail(const char *step, const char *path, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(CAPSA_MSG_ERROR, step, path, err, fmt, ap);
  va_end(ap);
  _exit(1);
}

void warn(const char *step, const char *path, int err, const char *fmt, ...) {
  if (sync_fd < 0) return;
  va_list ap;
  va_start(ap, fmt);
  report(CAPSA_MSG_WARNING, step, path, err, fmt, ap);
  va_end(ap);
}

char *fdpath(int fd, char buf[static 32]) {
  snprintf(buf, 32, "/proc/self/fd/%d", fd);
  return buf;
}

/* Opens `path` as seen from `rootfd` taken as "/": symlinks, "..", and absolute links all stay
 * inside it, and magic links (/proc/self/...) are refused, so a rootfs cannot redirect the
 * runtime to the host (CVE-2021-30465). */
int open_in_root(int rootfd, const char *path, int flags, bool follow_last) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC | (follow_last ? 0 : O_NOFOLLOW)),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  while (*path == '/') path++;
  if (!*path) path = ".";
  int fd;
  do fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return fd;
}

static int split(const char *path, char *parent, size_t cap, const char **base) {
  size_t len = strlen(path);
  while (len > 1 && path[len - 1] == '/') len--;
  if (len >= cap) return -ENAMETOOLONG;
  memcpy(parent, path, len);
  parent[len] = 0;
  char *slash = strrchr(parent, '/');
  if (!slash) return -EINVAL;
  *base = path + (slash - parent) + 1;
  if (slash == parent)
    parent[1] = 0;
  else
    *slash = 0;
  return 0;
}

/* mkdir -p inside the root, one component at a time by fd: each new directory is made with
 * mkdirat() on a parent resolved inside the root, so a symlink swapped in mid-way cannot
 * move the creation outside (CVE-2024-45310). */
int mkdir_in_root(int rootfd, const char *path, mode_t mode) {
  int fd = open_in_root(rootfd, path, O_PATH | O_DIRECTORY, true);
  if (fd >= 0) return fd;
  if (errno != ENOENT) return -1;
  char parent[4096];
  const char *base;
  int r = split(path, parent, sizeof parent, &base);
  if (r < 0) return errno = -r, -1;
  int pfd = mkdir_in_root(rootfd, parent, mode);
  if (pfd < 0) return -1;
  char name[256];
  size_t blen = strcspn(base, "/");
  if (blen == 0 || blen >= sizeof name) {
    close(pfd);
    return errno = EINVAL, -1;
  }
  memcpy(name, base, blen);
  name[blen] = 0;
  if (mkdirat(pfd, name, mode) < 0 && errno != EEXIST) {
    int e = errno;
    close(pfd);
    return errno = e, -1;
  }
  close(pfd);
  return open_in_root(rootfd, path, O_PATH | O_DIRECTORY, true);
}

/* Creates an empty file (a bind-mount target) inside the root and returns an O_PATH fd to it. */
int mkfile_in_root(int rootfd, const char *path) {
  int fd = open_in_root(rootfd, path, O_PATH, true);
  if (fd >= 0) return fd;
  if (errno != ENOENT) return -1;
  char parent[4096];
  const char *base;
  int r = split(path, parent, sizeof parent, &base);
  if (r < 0) return errno = -r, -1;
  int pfd = mkdir_in_root(rootfd, parent, 0755);
  if (pfd < 0) return -1;
  char pp[32];
  int dfd = open(fdpath(pfd, pp), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  close(pfd);
  if (dfd < 0) return -1;
  int f = openat(dfd, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  int e = errno;
  close(dfd);
  if (f < 0 && e != EEXIST) return errno = e, -1;
  if (f >= 0) close(f);
  return open_in_root(rootfd, path, O_PATH, true);
}

int write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, data, len);
  int e = errno;
  close(fd);
  if (n < 0) return errno = e, -1;
  if ((size_t)n != len) return errno = EIO, -1;
  return 0;
}
