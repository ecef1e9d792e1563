/* A pty made inside the container: its master goes to the console socket (SCM_RIGHTS, as
 * runc sends it), its peer becomes the controlling terminal on fds 0-2 and /dev/console.
 * The console socket is either a path given by the caller (--console-socket), connected to
 * while still in the runtime's namespaces, or a socket capsa made itself and handed over as
 * an inherited fd (foreground run and exec with a terminal). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "init.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int console_fd = -1;

void connect_console(struct plan *p) {
  if (!p->terminal || !p->console_socket || console_fd >= 0) return;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(p->console_socket) >= sizeof addr.sun_path) fail("console", p->console_socket, ENAMETOOLONG, "socket path");
  strcpy(addr.sun_path, p->console_socket);
  console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (console_fd < 0 || connect(console_fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    fail("console", p->console_socket, errno, "connect");
}

/* The multiplexer of the container's own devpts, checked to be the real thing: a rootfs that
 * put a fake /dev/pts/ptmx (or a symlink) there must not get us to open something else. */
static int open_ptmx(void) {
  const char *path = "/dev/pts/ptmx";
  int h = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (h < 0) fail("console", path, errno, "open (is devpts mounted at /dev/pts?)");
  struct stat st;
  struct statfs sfs;
  if (fstat(h, &st) < 0 || fstatfs(h, &sfs) < 0) fail("console", path, errno, "stat");
  if (sfs.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2) || st.st_ino != 2)
    fail("console", path, EXDEV, "is not the ptmx of a devpts mount");
  char fdp[32];
  int master = open(fdpath(h, fdp), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("console", path, errno, "open");
  close(h);
  return master;
}

/* /dev/console becomes the pty. What the rootfs put there is checked first: a symlink must
 * not aim the bind somewhere else (CVE-2025-52565). */
static void bind_console(int peer) {
  int fd = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))) {
    close(fd);
    fd = -1;
    if (unlink("/dev/console") < 0) fail("console", "/dev/console", errno, "remove what the rootfs put there");
  }
  if (fd < 0) fd = open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) fail("console", "/dev/console", errno, "create");
  char src[32], dst[32];
  if (mount(fdpath(peer, src), fdpath(fd, dst), NULL, MS_BIND, NULL) < 0)
    fail("console", "/dev/console", errno, "bind the pty");
  close(fd);
}

void setup_terminal(struct plan *p, bool console_dev) {
  if (!p->terminal) return;
  if (console_fd < 0) fail("console", NULL, EINVAL, "terminal requested without a console socket");
  int master = open_ptmx();
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail("console", "/dev/pts/ptmx", errno, "unlock the pty");
  int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (peer < 0) fail("console", "/dev/pts/ptmx", errno, "open the pty peer");
  if (p->console_width && p->console_height) {
    struct winsize ws = {.ws_row = (unsigned short)p->console_height, .ws_col = (unsigned short)p->console_width};
    if (ioctl(master, TIOCSWINSZ, &ws) < 0) fail("console", NULL, errno, "set the window size");
  }
  if (console_dev) bind_console(peer);
  /* runc's message: the data is the name of the file sent (no NUL), the fd rides along as the
   * only SCM_RIGHTS. containerd (go-runc's RecvFile) and conmon read exactly this. */
  static const char name[] = "/dev/pts/ptmx";
  if (send_fd(console_fd, master, name, sizeof name - 1) < 0) fail("console", NULL, errno, "send the pty master");
  close(master);
  close(console_fd);
  console_fd = -1;
  if (setsid() < 0) fail("console", NULL, errno, "setsid");
  if (ioctl(peer, TIOCSCTTY, 0) < 0) fail("console", NULL, errno, "make the pty the controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2(peer, i) < 0) fail("console", NULL, errno, "dup2 the pty to fd %d", i);
  close(peer);
}
