/* Writes meant for the kernel (sysctls, oom_score_adj, time offsets) go through a procfs
 * nothing in the container can have changed: a fresh instance of our own (fsopen), or, where
 * that is refused (a user namespace whose /proc is partly covered), /proc checked to be a
 * procfs root. Files are opened beneath it without crossing a mount, so a tmpfs or a bind
 * mounted over /proc/sys/... by the config or by the container cannot receive what was meant
 * for the kernel, nor redirect it to another procfs file (CVE-2025-52881). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"

#define PROC_ROOT_INO 1

static int proc_root(void) {
  int fs = (int)syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
  if (fs >= 0) {
    int m = -1;
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
      m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    close(fs);
    if (m >= 0) return m;
  }
  return open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static bool is_proc(int fd, bool root) {
  struct statfs sfs;
  struct stat st;
  return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC && (!root || (fstat(fd, &st) == 0 && st.st_ino == PROC_ROOT_INO));
}

/* Opens `rel` (e.g. "sys/net/ipv4/ip_forward", "self/oom_score_adj") on a verified procfs. */
int open_proc(const char *rel, int flags) {
  int root = proc_root();
  if (root < 0) return -1;
  int fd = -1;
  if (!is_proc(root, true))
    errno = EXDEV;
  else if ((fd = resolve_in(root, rel, flags, false, W_NO_XDEV)) >= 0 && !is_proc(fd, false)) {
    close(fd);
    fd = -1;
    errno = EXDEV;
  }
  int e = errno;
  close(root);
  errno = e;
  return fd;
}

int write_proc(const char *rel, const char *value, size_t len) {
  int fd = open_proc(rel, O_WRONLY);
  if (fd < 0) return -1;
  ssize_t n;
  do n = write(fd, value, len);
  while (n < 0 && errno == EINTR);
  int e = errno;
  close(fd);
  if (n < 0) return errno = e, -1;
  return (size_t)n == len ? 0 : (errno = EIO, -1);
}
