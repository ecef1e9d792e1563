/* Device nodes and /dev symlinks inside the rootfs, created relative to parent directories
 * resolved inside it. In a new user namespace mknod is not allowed: the plan asks for a bind
 * of the host's node instead (D_BIND). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.h"

/* Opens the parent directory of `path` inside the root, creating it, and points *base at
 * the last component. */
static int open_parent(int rootfd, const char *path, const char **base, const char *step) {
  char parent[4096];
  const char *slash = strrchr(path, '/');
  size_t n = (size_t)(slash - path);
  if (!slash || !slash[1] || n >= sizeof parent) fail(step, path, EINVAL, "bad path");
  memcpy(parent, path, n);
  parent[n ? n : 1] = 0;
  if (!n) parent[0] = '/';
  int fd = mkdir_in_root(rootfd, parent, 0755);
  if (fd < 0) fail(step, path, errno, "create the parent directory");
  *base = slash + 1;
  return fd;
}

static bool is_node(int dir, const char *base, const struct device_entry *d) {
  struct stat st;
  return fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == (d->mode & S_IFMT) &&
         st.st_rdev == makedev(d->major, d->minor);
}

static void make_node(int rootfd, const struct device_entry *d) {
  const char *base;
  int dir = open_parent(rootfd, d->path, &base, "devices");
  dev_t dev = makedev(d->major, d->minor);
  if (mknodat(dir, base, d->mode, dev) < 0) {
    /* Whatever the rootfs had there (a file, a symlink, another node) is replaced. */
    if (errno != EEXIST) fail("devices", d->path, errno, "mknod %u:%u", (unsigned)d->major, (unsigned)d->minor);
    if (!is_node(dir, base, d) && (unlinkat(dir, base, 0) < 0 || mknodat(dir, base, d->mode, dev) < 0))
      fail("devices", d->path, errno, "replace with %u:%u", (unsigned)d->major, (unsigned)d->minor);
  }
  if (fchownat(dir, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0) fail("devices", d->path, errno, "chown");
  if (fchmodat(dir, base, d->mode & 07777, 0) < 0) fail("devices", d->path, errno, "chmod");
  close(dir);
}

static void bind_node(int rootfd, const struct device_entry *d) {
  int fd = mkfile_in_root(rootfd, d->path);
  if (fd < 0) fail("devices", d->path, errno, "create the bind target");
  char fp[32];
  if (mount(d->path, fdpath(fd, fp), NULL, MS_BIND, NULL) < 0) fail("devices", d->path, errno, "bind the host device");
  close(fd);
}

void setup_devices(struct plan *p, int rootfd) {
  for (size_t i = 0; i < p->devices.n; i++) {
    const struct device_entry *d = &p->devices.v[i];
    if (d->bind)
      bind_node(rootfd, d);
    else
      make_node(rootfd, d);
  }
  for (size_t i = 0; i < p->symlinks.n; i++) {
    const struct symlink_entry *l = &p->symlinks.v[i];
    const char *base;
    int dir = open_parent(rootfd, l->path, &base, "devices");
    if (symlinkat(l->target, dir, base) < 0 && errno != EEXIST) fail("devices", l->path, errno, "symlink to %s", l->target);
    close(dir);
  }
}
