/* The LSM labels of the user's process: the AppArmor profile (runc's libcontainer/apparmor)
 * and the SELinux context (go-selinux). Written to our own attr/exec, they take effect at the
 * next execve, so capsa-init finishes unconfined and the user's process starts confined.
 * Written through a procfs nothing has covered (procfs.c): a /proc that the config or the
 * container mounted over could otherwise swallow the write and leave the process unconfined. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

/* The kernel takes at most a page per write to an attr file. */
#define ATTR_MAX 4096

void apply_apparmor(struct plan *p) {
  const char *name = p->apparmor_profile;
  if (!name) return;
  char buf[ATTR_MAX];
  int n = snprintf(buf, sizeof buf, "exec %s", name);
  if (n < 0 || (size_t)n >= sizeof buf) fail("apparmor", NULL, ENAMETOOLONG, "profile name of %zu bytes", strlen(name));
  /* Kernels before 5.8 have only the shared attr/exec. */
  const char *rel = "thread-self/attr/apparmor/exec";
  int fd = open_proc(rel, O_WRONLY);
  if (fd < 0 && errno == ENOENT) fd = open_proc(rel = "thread-self/attr/exec", O_WRONLY);
  if (fd < 0) fail("apparmor", rel, errno, "open");
  ssize_t w;
  do w = write(fd, buf, (size_t)n);
  while (w < 0 && errno == EINTR);
  if (w < 0 && errno == ENOENT) fail("apparmor", rel, ENOENT, "profile \"%s\" is not loaded", name);
  if (w != n) fail("apparmor", rel, w < 0 ? errno : EIO, "profile \"%s\" on exec", name);
  close(fd);
}

/* SELinux rejects a context its policy does not define with EINVAL: say so. */
static void write_selinux(const char *rel, const char *label, const char *what) {
  if (write_proc(rel, label, strlen(label)) == 0) return;
  if (errno == EINVAL) fail("selinux", rel, EINVAL, "\"%s\" is not a context of the loaded policy", label);
  fail("selinux", rel, errno, "label \"%s\" %s", label, what);
}

/* The SELinux context of the user's process (runc's selinux.SetExecLabel): like AppArmor's,
 * it takes effect at the next execve, through the same private procfs. */
void apply_selinux(struct plan *p) {
  if (p->selinux_label) write_selinux("thread-self/attr/exec", p->selinux_label, "on exec");
}

/* The session keyring capsa-init is about to create or join gets the process's context, not
 * the runtime's (runc's selinux.SetKeyLabel). execve resets it, so nothing else inherits it. */
void selinux_keycreate(struct plan *p) {
  if (p->selinux_label) write_selinux("self/attr/keycreate", p->selinux_label, "for the session keyring");
}
