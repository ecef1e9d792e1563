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
  const char *data = p->seccomp_state;
  size_t len = strlen(data);
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
  memcpy(CMSG_DATA(c), &notify, sizeof notify);
  /* The fd goes with the first bytes only; a short send continues without it. */
  size_t off = 0;
  while (off < len) {
    ssize_t n = off ? send(listener_fd, data + off, len - off, MSG_NOSIGNAL) : sendmsg(listener_fd, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("seccomp", p->seccomp_listener, errno, "send the listener fd to the seccomp agent");
    off += (size_t)n;
  }
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
