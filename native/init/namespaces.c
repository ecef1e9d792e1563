/* Joining namespaces by path and creating new ones, in the order the kernel's permission
 * rules need: every path is opened before the first setns (a joined mount namespace would
 * change what later paths mean); a joined user namespace comes first so its capabilities
 * cover the other joins; other joins come before a new user namespace is created, while the
 * host's capabilities still apply to them. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *ns_name(uint32_t type) {
  switch (type) {
    case CLONE_NEWUSER: return "user";
    case CLONE_NEWNS: return "mount";
    case CLONE_NEWPID: return "pid";
    case CLONE_NEWNET: return "network";
    case CLONE_NEWIPC: return "ipc";
    case CLONE_NEWUTS: return "uts";
    case CLONE_NEWCGROUP: return "cgroup";
    case CLONE_NEWTIME: return "time";
  }
  return "unknown";
}

static void join(struct ns_join *j) {
  if (setns(j->fd, (int)j->type) < 0) fail("join namespace", j->path, errno, "setns %s", ns_name(j->type));
  close(j->fd);
  j->fd = -1;
}

bool has_ns(const struct plan *p, uint32_t type) {
  if (p->clone_flags & type) return true;
  for (size_t i = 0; i < p->joins.n; i++)
    if (p->joins.v[i].type == type) return true;
  return false;
}

void enter_namespaces(struct plan *p) {
  for (size_t i = 0; i < p->joins.n; i++) {
    struct ns_join *j = &p->joins.v[i];
    j->fd = open(j->path, O_RDONLY | O_CLOEXEC);
    if (j->fd < 0) fail("join namespace", j->path, errno, "open %s namespace", ns_name(j->type));
  }
  for (size_t i = 0; i < p->joins.n; i++)
    if (p->joins.v[i].type == CLONE_NEWUSER) join(&p->joins.v[i]);
  for (size_t i = 0; i < p->joins.n; i++)
    if (p->joins.v[i].fd >= 0) join(&p->joins.v[i]);

  if (p->clone_flags & CLONE_NEWUSER) {
    if (unshare(CLONE_NEWUSER) < 0) fail("create namespace", "user", errno, "unshare");
    /* Only the parent, in the runtime's user namespace, may write our id maps. */
    send_pid(CAPSA_MSG_MAPS_REQUEST, getpid());
    expect(CAPSA_MSG_MAPS_DONE, NULL);
    if (setresgid(0, 0, 0) < 0) fail("create namespace", "user", errno, "setresgid(0) in the new user namespace");
    if (setresuid(0, 0, 0) < 0) fail("create namespace", "user", errno, "setresuid(0) in the new user namespace");
  }
  uint64_t rest = p->clone_flags & ~(uint64_t)CLONE_NEWUSER;
  if (rest && unshare((int)rest) < 0) fail("create namespace", NULL, errno, "unshare(0x%llx)", (unsigned long long)rest);
  if ((rest & CLONE_NEWTIME) && p->time_offsets &&
      write_proc("self/timens_offsets", p->time_offsets, strlen(p->time_offsets)) < 0)
    fail("create namespace", "/proc/self/timens_offsets", errno, "write time offsets");
}
