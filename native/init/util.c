/* Error reporting, path resolution confined to a root (openat2, or a walk of our own), and
 * handing an fd to a peer over a unix socket. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/socket.h>
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

/* Where openat2 is missing (before Linux 5.6) or refused by a seccomp filter around us
 * (ENOSYS or EPERM, as older engines' profiles answer), paths are walked by hand. Asked once,
 * on "/", where a working openat2 cannot fail. */
static bool use_openat2(void) {
  static int known; /* 1: use it, -1: walk */
  if (!known) {
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
    known = fd < 0 && (errno == ENOSYS || errno == EPERM) ? -1 : 1;
    if (fd >= 0) close(fd);
  }
  return known > 0;
}

static int mount_id(int fd, uint64_t *id) {
  struct statx stx;
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0) return -1;
  if (!(stx.stx_mask & STATX_MNT_ID)) return errno = ENOSYS, -1;
  *id = stx.stx_mnt_id;
  return 0;
}

#define MAX_WALK_DEPTH 256
#define MAX_WALK_LINKS 40

/* openat2's resolution done in user space: one component at a time, each opened O_NOFOLLOW
 * relative to its parent's fd. A symlink is read and resolved by us ("/" restarts at root,
 * ".." pops our own stack of fds and never goes above root), so the kernel never follows one:
 * a magic link (/proc/self/fd/N) is only text here, and a component swapped for a symlink
 * mid-way is read, not followed out of the root. */
static int walk(int root, const char *path, int flags, bool follow_last, int how) {
  char rest[2 * PATH_MAX];
  if (strlen(path) >= sizeof rest) return errno = ENAMETOOLONG, -1;
  strcpy(rest, path);
  int stack[MAX_WALK_DEPTH];
  int depth = 0, links = 0, fd = -1, e = 0;
  uint64_t root_mnt = 0, mnt;
  stack[0] = root == AT_FDCWD ? open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC) : fcntl(root, F_DUPFD_CLOEXEC, 3);
  if (stack[0] < 0) return -1;
  if ((how & W_NO_XDEV) && mount_id(stack[0], &root_mnt) < 0) return e = errno, close(stack[0]), errno = e, -1;
  char *p = rest;
  for (;;) {
    while (*p == '/') p++;
    if (!*p) {
      /* The path named a directory (or the root itself). */
      fd = openat(stack[depth], ".", (flags | O_CLOEXEC) & ~O_NOFOLLOW);
      e = errno;
      break;
    }
    char *end = p + strcspn(p, "/");
    bool last = !end[strspn(end, "/")];
    char name[NAME_MAX + 1];
    if ((size_t)(end - p) > NAME_MAX) {
      e = ENAMETOOLONG;
      break;
    }
    memcpy(name, p, (size_t)(end - p));
    name[end - p] = 0;
    p = end;
    if (!strcmp(name, ".")) continue;
    if (!strcmp(name, "..")) {
      if (depth > 0) close(stack[depth--]);
      continue;
    }
    int nfd = openat(stack[depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (nfd < 0) {
      e = errno;
      break;
    }
    struct stat st;
    if (fstat(nfd, &st) < 0) {
      e = errno;
      close(nfd);
      break;
    }
    if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
      char target[PATH_MAX];
      ssize_t n = (how & W_NO_SYMLINKS) || ++links > MAX_WALK_LINKS ? (errno = ELOOP, -1) : readlinkat(nfd, "", target, sizeof target);
      e = errno;
      close(nfd);
      if (n < 0 || n >= (ssize_t)sizeof target) {
        e = n < 0 ? e : ENAMETOOLONG;
        break;
      }
      target[n] = 0;
      /* What is left of the path now follows the link's target. */
      size_t tail = strlen(p);
      if ((size_t)n + 1 + tail >= sizeof rest) {
        e = ENAMETOOLONG;
        break;
      }
      memmove(rest + n + 1, p, tail + 1);
      memcpy(rest, target, (size_t)n);
      rest[n] = '/';
      p = rest;
      if (target[0] == '/')
        while (depth > 0) close(stack[depth--]);
      continue;
    }
    if (how & W_NO_XDEV) {
      int r = mount_id(nfd, &mnt);
      if (r < 0 || mnt != root_mnt) {
        e = r < 0 ? errno : EXDEV;
        close(nfd);
        break;
      }
    }
    if (last) {
      if (S_ISLNK(st.st_mode) && !(flags & O_PATH)) {
        close(nfd);
        e = ELOOP;
      } else if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode)) {
        close(nfd);
        e = ENOTDIR;
      } else if (flags & O_PATH) {
        fd = nfd;
      } else {
        /* Opened for I/O by name, in the directory we hold: a symlink swapped in meanwhile
         * fails (O_NOFOLLOW), anything else is still inside the root. */
        fd = openat(stack[depth], name, flags | O_NOFOLLOW | O_CLOEXEC);
        e = errno;
        close(nfd);
      }
      break;
    }
    if (!S_ISDIR(st.st_mode)) {
      close(nfd);
      e = ENOTDIR;
      break;
    }
    if (depth + 1 >= MAX_WALK_DEPTH) {
      close(nfd);
      e = ENAMETOOLONG;
      break;
    }
    stack[++depth] = nfd;
  }
  while (depth >= 0) close(stack[depth--]);
  if (fd < 0) errno = e;
  return fd;
}

int resolve_in(int root, const char *path, int flags, bool follow_last, int how) {
  if (!use_openat2()) return walk(root, path, flags, follow_last, how);
  struct open_how oh = {
      .flags = (uint64_t)(flags | O_CLOEXEC | (follow_last ? 0 : O_NOFOLLOW)),
      .resolve = RESOLVE_NO_MAGICLINKS | (how & W_NO_SYMLINKS ? RESOLVE_NO_SYMLINKS : RESOLVE_IN_ROOT) |
                 (how & W_NO_XDEV ? RESOLVE_NO_XDEV : 0),
  };
  if (root != AT_FDCWD)
    while (*path == '/') path++;
  if (!*path) path = ".";
  int fd;
  do fd = (int)syscall(SYS_openat2, root, path, &oh, sizeof oh);
  while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return fd;
}

/* Opens `path` as seen from `rootfd` taken as "/": symlinks, "..", and absolute links all stay
 * inside it, and magic links (/proc/self/...) are refused, so a rootfs cannot redirect the
 * runtime to the host (CVE-2021-30465). */
int open_in_root(int rootfd, const char *path, int flags, bool follow_last) {
  return resolve_in(rootfd, path, flags, follow_last, 0);
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

int send_fd(int sock, int fd, const char *data, size_t len) {
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  /* The fd goes with the first bytes only; a short send continues without it. */
  size_t off = 0;
  while (off < len) {
    ssize_t n = off ? send(sock, data + off, len - off, MSG_NOSIGNAL) : sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    off += (size_t)n;
  }
  return 0;
}
