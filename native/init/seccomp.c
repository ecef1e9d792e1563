/* Loading the seccomp filter compiled by the parent, and handing its listener to the agent
 * (config-linux.md "listenerPath"): the container process state goes with the fd, in one
 * sendmsg on a connection made before any namespace was entered. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "init.h"

static int listener_fd = -1;

/* Stage 0, in the runtime's namespaces: the socket path means what the caller meant. */
void connect_listener(struct plan *p) {
  if (!p->seccomp_listener) return;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(p->seccomp_listener) >= sizeof addr.sun_path)
    fail("seccomp", p->seccomp_listener, ENAMETOOLONG, "listener socket path");
  strcpy(addr.sun_path, p->seccomp_listener);
  listener_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_fd < 0 || connect(listener_fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    fail("seccomp", p->seccomp_listener, errno, "connect to the seccomp agent");
}

static void send_listener(struct plan *p, int notify) {
  if (!p->seccomp_state) fail("seccomp", p->seccomp_listener, EPROTO, "no container process state for the agent");
  if (send_fd(listener_fd, notify, p->seccomp_state, strlen(p->seccomp_state)) < 0)
    fail("seccomp", p->seccomp_listener, errno, "send the listener fd to the seccomp agent");
  close(listener_fd);
  listener_fd = -1;
  close(notify);
}

void load_seccomp(struct plan *p) {
  if (!p->seccomp_prog) return;
  struct sock_fprog prog = {.len = (unsigned short)(p->seccomp_len / 8), .filter = (struct sock_filter *)p->seccomp_prog};
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog);
  if (r < 0)
    fail("seccomp", NULL, errno, "load the filter (%zu instructions, flags 0x%x)", p->seccomp_len / 8, p->seccomp_flags);
  if (p->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) send_listener(p, (int)r);
}
