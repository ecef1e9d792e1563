/* The container's filesystem: the rootfs bind, config mounts in order, pivot_root (or
 * chroot), masked and read-only paths, and the read-only root. Every target is resolved
 * inside the rootfs and mounted through its fd (/proc/self/fd/N), never by a path that a
 * symlink could redirect. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "init.h"

#define PROPAGATION (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

#ifndef MOUNT_ATTR_SIZE_VER0
struct mount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* Flags the kernel keeps locked on a mount inherited from a more privileged namespace: a
 * remount must repeat them or it fails with EPERM. */
static unsigned long locked_flags(const char *path) {
  struct statvfs s;
  if (statvfs(path, &s) < 0) return 0;
  unsigned long f = 0;
  if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) f |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (s.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static int remount(const char *path, unsigned long flags) {
  if (mount(NULL, path, NULL, MS_REMOUNT | flags, NULL) == 0) return 0;
  if (errno != EPERM) return -1;
  return mount(NULL, path, NULL, MS_REMOUNT | flags | locked_flags(path), NULL);
}

static void set_propagation(const char *dest, const char *path, uint64_t prop) {
  static const unsigned long kinds[] = {MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE};
  for (size_t i = 0; i < 4; i++)
    if ((prop & kinds[i]) && mount(NULL, path, NULL, kinds[i] | (prop & MS_REC), NULL) < 0)
      fail("mount", dest, errno, "set propagation 0x%lx", kinds[i]);
}

static void set_attrs(const char *dest, int fd, uint64_t set, uint64_t clr) {
  if (!set && !clr) return;
  struct mount_attr attr = {.attr_set = set, .attr_clr = clr};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    fail("mount", dest, errno, "mount_setattr(set 0x%llx, clear 0x%llx)", (unsigned long long)set,
         (unsigned long long)clr);
}

/* Opens (creating it if needed) the target of a mount: a file when binding a file, else a
 * directory. */
static int open_target(int rootfd, const char *dest, bool file) {
  int fd = file ? mkfile_in_root(rootfd, dest) : mkdir_in_root(rootfd, dest, 0755);
  if (fd < 0) fail("mount", dest, errno, "create the mount target in the rootfs");
  return fd;
}

/* A tmpfs over a directory that exists starts with its mode, unless the options give one: a
 * "mode=" put first loses to a later one (runc >= 1.1.8, crun). */
static const char *tmpfs_data(const struct mount_entry *m, mode_t mode, char *buf, size_t cap) {
  const char *data = m->data ? m->data : "";
  if ((size_t)snprintf(buf, cap, "mode=%04o%s%s", mode & 07777, *data ? "," : "", data) >= cap)
    fail("mount", m->dest, E2BIG, "mount data of %zu bytes", strlen(data));
  return buf;
}

static void mount_one(struct plan *p, int rootfd, const struct mount_entry *m) {
  bool bind = m->flags & MS_BIND;
  bool tmpfs = !bind && m->fstype && !strcmp(m->fstype, "tmpfs");
  bool file = false;
  if (bind) {
    struct stat st;
    if (stat(m->source, &st) < 0) fail("mount", m->dest, errno, "bind source %s", m->source);
    file = !S_ISDIR(st.st_mode);
  }
  int fd = open_in_root(rootfd, m->dest, O_PATH, true);
  bool existed = fd >= 0;
  if (!existed) fd = open_target(rootfd, m->dest, file);
  char fp[32];
  unsigned long flags = (unsigned long)(m->flags & ~(uint64_t)PROPAGATION);
  const char *data = m->data;
  char tmpfs_buf[8192];
  int lower = -1;
  struct stat st;
  if (tmpfs && existed && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    data = tmpfs_data(m, st.st_mode, tmpfs_buf, sizeof tmpfs_buf);
    /* Read through this fd, the directory stays reachable under the tmpfs. */
    if (m->copyup && (lower = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
      fail("mount", m->dest, errno, "tmpcopyup: open the directory to copy");
  }
  /* Filled before it is made read-only. */
  unsigned long late_ro = lower >= 0 ? flags & MS_RDONLY : 0;
  if (bind) {
    if (mount(m->source, fdpath(fd, fp), NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
      fail("mount", m->dest, errno, "bind %s", m->source);
  } else if (mount(m->source, fdpath(fd, fp), m->fstype, flags & ~late_ro, data) < 0) {
    /* sysfs needs a network namespace of our own user namespace; like runc, bind the host's. */
    if (!(errno == EPERM && m->fstype && !strcmp(m->fstype, "sysfs") && (p->clone_flags & CLONE_NEWUSER)))
      fail("mount", m->dest, errno, "mount %s type %s", m->source ? m->source : "", m->fstype ? m->fstype : "");
    if (mount("/sys", fp, NULL, MS_BIND | MS_REC, NULL) < 0) fail("mount", m->dest, errno, "bind /sys");
    flags |= MS_BIND | MS_RDONLY;
    bind = true;
  }
  close(fd);
  /* Later steps act on the new mount, not on the directory beneath it. */
  fd = open_in_root(rootfd, m->dest, O_PATH, true);
  if (fd < 0) fail("mount", m->dest, errno, "reopen the mount");
  fdpath(fd, fp);
  unsigned long extra = flags & ~(unsigned long)(MS_BIND | MS_REC | MS_REMOUNT);
  if (bind && extra && remount(fp, MS_BIND | extra) < 0)
    fail("mount", m->dest, errno, "remount bind with flags 0x%lx", extra);
  if (lower >= 0) {
    int upper = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (upper < 0) fail("mount", m->dest, errno, "tmpcopyup: open the new tmpfs");
    copy_up(m->dest, lower, upper);
    close(upper);
    if (late_ro && remount(fp, flags) < 0) fail("mount", m->dest, errno, "remount read-only");
  }
  /* mqueue takes no context= option: runc labels its root instead (label.SetFileLabel). */
  if (p->mount_label && m->fstype && !strcmp(m->fstype, "mqueue") &&
      setxattr(fp, "security.selinux", p->mount_label, strlen(p->mount_label), 0) < 0)
    fail("mount", m->dest, errno, "set the SELinux label %s", p->mount_label);
  set_propagation(m->dest, fp, m->propagation);
  set_attrs(m->dest, fd, m->attr_set, m->attr_clr);
  close(fd);
}

/* Without a mount namespace of the container's own, its mounts are made in the runtime's, and
 * neither "/" nor the host's root may be touched. */
bool own_mount_ns(const struct plan *p) {
  return has_ns(p, CLONE_NEWNS);
}

/* The parent resolved the rootfs to a path without symlinks: one found now was swapped in
 * since, and is refused rather than followed (it could lead anywhere on the host). */
static int open_rootfs(const char *path, struct stat *st) {
  int fd = resolve_in(AT_FDCWD, path, O_PATH | O_DIRECTORY, true, W_NO_SYMLINKS);
  if (fd < 0) fail("rootfs", path, errno, "open without following symlinks");
  if (fstat(fd, st) < 0) fail("rootfs", path, errno, "stat");
  return fd;
}

/* Binds the rootfs onto itself through its fd, then reopens the path and checks it still is
 * that very directory, now the mount. */
static int bind_rootfs(struct plan *p) {
  struct stat before, after;
  int src = open_rootfs(p->rootfs, &before);
  char fp[32];
  if (mount(fdpath(src, fp), fp, NULL, MS_BIND | MS_REC, NULL) < 0) fail("rootfs", p->rootfs, errno, "bind the rootfs onto itself");
  close(src);
  int rootfd = open_rootfs(p->rootfs, &after);
  if (before.st_dev != after.st_dev || before.st_ino != after.st_ino)
    fail("rootfs", p->rootfs, EXDEV, "was replaced while it was being mounted");
  return rootfd;
}

static bool under_dev(const char *path) {
  return !strncmp(path, "/dev", 4) && (path[4] == 0 || path[4] == '/');
}

static bool touches_dev(const struct plan *p) {
  if (p->devices.n || p->symlinks.n || p->terminal) return true;
  for (size_t i = 0; i < p->mounts.n; i++)
    if (under_dev(p->mounts.v[i].dest)) return true;
  return false;
}

/* capsa builds /dev (its mounts, nodes, links, the console): a rootfs whose /dev is a symlink
 * would have all of that land wherever it points, inside the rootfs but over files that are
 * not /dev (CVE-2026-41579). Refused, as there is no right place to follow it to. */
static void refuse_dev_symlink(int rootfd) {
  struct stat st;
  if (fstatat(rootfd, "dev", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    fail("rootfs", "/dev", ELOOP, "is a symlink in the rootfs; capsa sets up /dev and does not follow it");
}

/* Returns an O_PATH fd of the rootfs, bind-mounted on itself so it can be pivoted into. "/"
 * becomes a recursive slave first, so nothing we mount propagates back to the host; the
 * configured rootfsPropagation applies to the container's root once it is "/" (pivot_into),
 * where "shared" or "unbindable" cannot get in the way of the bind and the pivot. */
int setup_rootfs(struct plan *p) {
  if (own_mount_ns(p) && mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    fail("rootfs", "/", errno, "make / a recursive slave");
  int rootfd = bind_rootfs(p);
  if (touches_dev(p)) refuse_dev_symlink(rootfd);
  for (size_t i = 0; i < p->mounts.n; i++) mount_one(p, rootfd, &p->mounts.v[i]);
  return rootfd;
}

void pivot_into(struct plan *p, int rootfd) {
  if (fchdir(rootfd) < 0) fail("pivot_root", p->rootfs, errno, "chdir");
  if (!own_mount_ns(p)) {
    if (chroot(".") < 0) fail("chroot", p->rootfs, errno, "chroot");
  } else if (p->no_pivot) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) fail("chroot", p->rootfs, errno, "move the rootfs to /");
    if (chroot(".") < 0) fail("chroot", p->rootfs, errno, "chroot");
  } else {
    /* pivot_root(".", ".") stacks the old root under the new one; detach it from there. */
    int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0) fail("pivot_root", "/", errno, "open the old root");
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root", p->rootfs, errno, "pivot_root");
    if (fchdir(oldroot) < 0) fail("pivot_root", "/", errno, "chdir to the old root");
    close(oldroot);
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("pivot_root", "/", errno, "make the old root a slave");
    if (umount2(".", MNT_DETACH) < 0) fail("pivot_root", "/", errno, "detach the old root");
  }
  if (chdir("/") < 0) fail("pivot_root", "/", errno, "chdir /");
  if (own_mount_ns(p) && p->rootfs_propagation && mount(NULL, "/", NULL, (unsigned long)p->rootfs_propagation, NULL) < 0)
    fail("rootfs", "/", errno, "set rootfsPropagation");
}

/* The real /dev/null of the container: a masked file gets it bound over, so a rootfs that put
 * something else there must not trick us into binding that instead (CVE-2025-31133). */
static int open_dev_null(int rootfd) {
  int fd = open_in_root(rootfd, "/dev/null", O_PATH, false);
  struct stat st;
  if (fd < 0) fail("masked paths", "/dev/null", errno, "open");
  if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    fail("masked paths", "/dev/null", EPERM, "is not the 1:3 character device");
  return fd;
}

void finish_rootfs(struct plan *p) {
  int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) fail("rootfs", "/", errno, "open");
  char fp[32], np[32];
  for (size_t i = 0; i < p->readonly.n; i++) {
    const char *path = p->readonly.v[i];
    int fd = open_in_root(rootfd, path, O_PATH, true);
    if (fd < 0 && errno == ENOENT) continue;
    if (fd < 0) fail("readonly paths", path, errno, "open");
    if (mount(fdpath(fd, fp), fp, NULL, MS_BIND | MS_REC, NULL) < 0) fail("readonly paths", path, errno, "bind");
    close(fd);
    /* Read-only, and otherwise as it was (runc keeps nosuid/nodev/noexec as found). */
    fd = open_in_root(rootfd, path, O_PATH, true);
    if (fd < 0 || remount(fdpath(fd, fp), MS_BIND | MS_REC | MS_RDONLY | locked_flags(fp)) < 0)
      fail("readonly paths", path, errno, "remount read-only");
    close(fd);
  }
  /* A masked directory's tmpfs carries the mount label, as the config's tmpfs mounts do. */
  char ctx[4096];
  const char *label_data = NULL;
  if (p->mount_label) {
    if ((size_t)snprintf(ctx, sizeof ctx, "context=\"%s\"", p->mount_label) >= sizeof ctx)
      fail("masked paths", NULL, ENAMETOOLONG, "mount label of %zu bytes", strlen(p->mount_label));
    label_data = ctx;
  }
  int nullfd = -1;
  for (size_t i = 0; i < p->masked.n; i++) {
    const char *path = p->masked.v[i];
    int fd = open_in_root(rootfd, path, O_PATH, true);
    if (fd < 0 && errno == ENOENT) continue;
    if (fd < 0) fail("masked paths", path, errno, "open");
    struct stat st;
    if (fstat(fd, &st) < 0) fail("masked paths", path, errno, "stat");
    if (S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", fdpath(fd, fp), "tmpfs", MS_RDONLY, label_data) < 0)
        fail("masked paths", path, errno, "mount a read-only tmpfs");
    } else {
      if (nullfd < 0) nullfd = open_dev_null(rootfd);
      if (mount(fdpath(nullfd, np), fdpath(fd, fp), NULL, MS_BIND, NULL) < 0)
        fail("masked paths", path, errno, "bind /dev/null");
    }
    close(fd);
  }
  if (nullfd >= 0) close(nullfd);
  if (p->rootfs_readonly && remount("/", MS_BIND | MS_RDONLY) < 0) fail("rootfs", "/", errno, "remount read-only");
  close(rootfd);
}
