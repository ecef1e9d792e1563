/* tmpcopyup (runc's extension): a tmpfs mounted over a directory of the rootfs starts with a
 * copy of what it covers. The copy reads through an fd of the covered directory, opened
 * before the mount, and never follows a symlink: everything it reads is the rootfs's own.
 * Like runc it keeps each entry's type, mode and owner, not its times, xattrs or hard links;
 * unlike runc's it copies device nodes, fifos and sockets too (runc fails on them). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

/* Each level holds two directory fds and a DIR: deep enough for any real tree, and far
 * from the fd limit for a hostile one. */
#define MAX_DEPTH 128

struct copy {
  const char *dest; /* the mount, for errors */
  char path[PATH_MAX]; /* the entry being copied, relative to it */
};

static void copy_fail(struct copy *c, int err, const char *what) {
  fail("mount", c->dest, err, "tmpcopyup: %s %s", what, c->path);
}

static void copy_bytes(struct copy *c, int in, int out, off_t size) {
  while (size > 0) {
    ssize_t n = sendfile(out, in, NULL, size > 0x7ffff000 ? 0x7ffff000 : (size_t)size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) copy_fail(c, errno, "copy");
    if (n == 0) break; /* the file shrank meanwhile: copy what there is */
    size -= n;
  }
}

/* A regular file, opened without blocking (a fifo swapped in since the stat would hang us)
 * and checked to be the file that was looked at. */
static void copy_file(struct copy *c, int from, int to, const char *name, const struct stat *st) {
  int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (in < 0) copy_fail(c, errno, "open");
  struct stat now;
  if (fstat(in, &now) < 0) copy_fail(c, errno, "stat");
  if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
    fail("mount", c->dest, 0, "tmpcopyup: %s was replaced while it was being copied", c->path);
  int out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) copy_fail(c, errno, "create");
  copy_bytes(c, in, out, now.st_size);
  if (fchown(out, st->st_uid, st->st_gid) < 0) copy_fail(c, errno, "chown");
  if (fchmod(out, st->st_mode & 07777) < 0) copy_fail(c, errno, "chmod");
  close(in);
  close(out);
}

static void copy_dir(struct copy *c, int from, int to, int depth);

static void copy_entry(struct copy *c, int from, int to, const char *name, int depth) {
  struct stat st;
  if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) copy_fail(c, errno, "stat");
  if (S_ISREG(st.st_mode)) return copy_file(c, from, to, name, &st);
  if (S_ISDIR(st.st_mode)) {
    if (depth >= MAX_DEPTH) fail("mount", c->dest, 0, "tmpcopyup: %s is more than %d directories deep", c->path, MAX_DEPTH);
    if (mkdirat(to, name, 0700) < 0) copy_fail(c, errno, "mkdir");
    int sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub_from < 0 || sub_to < 0) copy_fail(c, errno, "open");
    copy_dir(c, sub_from, sub_to, depth + 1);
    /* Last: a directory without write permission is filled first. */
    if (fchown(sub_to, st.st_uid, st.st_gid) < 0) copy_fail(c, errno, "chown");
    if (fchmod(sub_to, st.st_mode & 07777) < 0) copy_fail(c, errno, "chmod");
    close(sub_to);
    return;
  }
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(from, name, target, sizeof target - 1);
    if (n < 0) copy_fail(c, errno, "readlink");
    target[n] = 0;
    if (symlinkat(target, to, name) < 0) copy_fail(c, errno, "symlink");
  } else if (mknodat(to, name, st.st_mode, st.st_rdev) < 0) {
    copy_fail(c, errno, "mknod");
  }
  if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) copy_fail(c, errno, "chown");
  /* mknod's mode went through the umask; a symlink has no mode of its own. */
  if (!S_ISLNK(st.st_mode) && fchmodat(to, name, st.st_mode & 07777, 0) < 0) copy_fail(c, errno, "chmod");
}

/* Copies the entries of `from` into `to`; closes `from`. */
static void copy_dir(struct copy *c, int from, int to, int depth) {
  DIR *d = fdopendir(from);
  if (!d) copy_fail(c, errno, "read");
  size_t len = strlen(c->path);
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) break;
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if ((size_t)snprintf(c->path + len, sizeof c->path - len, "/%s", e->d_name) >= sizeof c->path - len)
      copy_fail(c, ENAMETOOLONG, "path");
    copy_entry(c, dirfd(d), to, e->d_name, depth);
    c->path[len] = 0;
  }
  if (errno) copy_fail(c, errno, "read");
  closedir(d);
}

void copy_up(const char *dest, int lower, int upper) {
  struct copy c = {.dest = dest, .path = ""};
  copy_dir(&c, lower, upper, 0);
}
