/* capsa-test-probe: the attacker and the witnesses of test/integration/security-*.test.ts.
 * A static executable (it runs inside busybox containers as well as on the host), built by
 * node-gyp for the tests only; capsa never runs it.
 *
 *   fds                         print every open fd and what it is
 *   call NAME[:ARG...]...       make system calls, print "NAME ok" or "NAME <ERRNO>"
 *   exe-attack SECONDS [STOP]   watch /proc for capsa-init processes, try to write their exe,
 *                               until SECONDS have passed or the file STOP exists
 *   swap DIR A B SECONDS [HOLD] exchange DIR/A and DIR/B as fast as possible (races); with
 *                               HOLD, exchange them back at once and keep them as they were
 *                               for HOLD microseconds between the flips, so the victim gets the
 *                               CPU and sometimes wins however slow the machine is
 *   agent SOCKET OUT ANSWER     a seccomp agent: keeps the container process state in OUT,
 *                               answers every notification with ANSWER (an errno number,
 *                               "continue" or "fake-success")
 *   deny SYSCALL ERRNO CMD...   run CMD under a seccomp filter making SYSCALL fail with ERRNO
 *   console SOCKET OUT          receive a pty master on SOCKET, copy what it reads to OUT
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "E?";
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return perror("opendir /proc/self/fd"), 1;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == dirfd(d)) continue;
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n < 0 ? 0 : n] = 0;
    printf("fd %d %s\n", fd, target);
  }
  closedir(d);
  return 0;
}

/* One system call named on the command line; arguments after ':' are numbers. */
static long call_one(const char *spec) {
  char name[64];
  unsigned long a[6] = {0};
  const char *colon = strchr(spec, ':');
  size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
  if (len >= sizeof name) len = sizeof name - 1;
  memcpy(name, spec, len);
  name[len] = 0;
  const char *s = colon;
  for (int i = 0; s && i < 6; i++) {
    a[i] = strtoul(s + 1, NULL, 0);
    s = strchr(s + 1, ':');
  }
  if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL);
  if (!strcmp(name, "add_key")) return syscall(SYS_add_key, "user", "capsa-probe", "x", 1, -3 /* session */);
  if (!strcmp(name, "unshare")) return unshare(CLONE_NEWNS);
  if (!strcmp(name, "mount")) return mount("none", "/tmp", "tmpfs", 0, NULL);
  if (!strcmp(name, "mkdir")) return mkdir(colon ? colon + 1 : "/tmp/capsa-probe", 0755);
  if (!strcmp(name, "chmod")) return chmod(colon ? colon + 1 : "/tmp", 0755);
  if (!strcmp(name, "getpid")) return syscall(SYS_getpid);
  /* sched_get_priority_max ignores all but its first argument, and nothing else calls it:
   * the seccomp argument tests compare its arguments. */
  if (!strcmp(name, "sgpm")) return syscall(SYS_sched_get_priority_max, a[0], a[1], a[2], a[3], a[4], a[5]);
  fprintf(stderr, "probe: unknown call %s\n", name);
  exit(2);
}

static int call(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    errno = 0;
    long r = call_one(argv[i]);
    if (r < 0)
      printf("%s %s\n", argv[i], errname(errno));
    else
      printf("%s ok\n", argv[i]);
    fflush(stdout);
  }
  return 0;
}

/* CVE-2019-5736 from inside: every process whose executable is capsa-init (or node) gets
 * its /proc/PID/exe opened for writing; what happened is printed once per pid. */
static int exe_attack(double seconds, const char *stop) {
  double end = now() + seconds;
  int seen[4096] = {0}, nseen = 0;
  while (now() < end && !(stop && access(stop, F_OK) == 0)) {
    DIR *d = opendir("/proc");
    if (!d) return perror("opendir /proc"), 1;
    struct dirent *e;
    while ((e = readdir(d))) {
      int pid = atoi(e->d_name);
      if (pid <= 0 || pid == getpid()) continue;
      bool done = false;
      for (int i = 0; i < nseen; i++) done |= seen[i] == pid;
      if (done) continue;
      char path[64], target[4096];
      snprintf(path, sizeof path, "/proc/%d/exe", pid);
      ssize_t n = readlink(path, target, sizeof target - 1);
      if (n < 0) continue;
      target[n] = 0;
      if (!strstr(target, "capsa-init") && !strstr(target, "node")) continue;
      if (nseen < 4096) seen[nseen++] = pid;
      int fd = open(path, O_WRONLY | O_CLOEXEC);
      if (fd < 0) {
        printf("pid %d exe %s open %s\n", pid, target, errname(errno));
      } else {
        ssize_t w = write(fd, "", 0) < 0 ? -1 : write(fd, "X", 1);
        printf("pid %d exe %s open ok write %s\n", pid, target, w == 1 ? "ok" : errname(errno));
        close(fd);
      }
      fflush(stdout);
    }
    closedir(d);
  }
  printf("done\n");
  return 0;
}

static volatile sig_atomic_t swap_stop;
static void on_term(int sig) { (void)sig; swap_stop = 1; }

/* SIGTERM ends the racing with the names as they were. */
static int swap(const char *dir, const char *a, const char *b, double seconds, long hold_us) {
  int dfd = open(dir, O_PATH | O_DIRECTORY);
  if (dfd < 0) return perror(dir), 1;
  signal(SIGTERM, on_term);
  double end = now() + seconds;
  unsigned long n = 0;
  while (!swap_stop && now() < end)
    for (int i = 0; i < 1000 && !swap_stop; i++, n++) {
      if (syscall(SYS_renameat2, dfd, a, dfd, b, 2 /* RENAME_EXCHANGE */) < 0) return perror("renameat2"), 1;
      if (hold_us && n % 2) usleep(hold_us);
    }
  /* An even count leaves the names as they were. */
  if (n % 2) syscall(SYS_renameat2, dfd, a, dfd, b, 2);
  printf("swaps %lu\n", n);
  return 0;
}

static int listen_on(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) return fprintf(stderr, "socket path too long\n"), -1;
  strcpy(addr.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  unlink(path);
  if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 4) < 0) return perror(path), -1;
  return s;
}

/* Receives one message: its payload into buf (NUL-terminated), its fds into fds. */
static ssize_t recv_fds(int conn, char *buf, size_t cap, int *fds, int maxfds, int *nfds) {
  union {
    char b[CMSG_SPACE(sizeof(int) * 8)];
    struct cmsghdr align;
  } u;
  struct iovec iov = {.iov_base = buf, .iov_len = cap - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return -1;
  buf[n] = 0;
  *nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) && *nfds < maxfds; i++)
        memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  return n;
}

/* Listens on SOCK, says "listening" (the test waits for that line before it starts the
 * container), takes one connection and frees the path for the next listener (an exec'd
 * process's). */
static int accept_one(const char *sock) {
  int s = listen_on(sock);
  if (s < 0) return -1;
  printf("listening\n");
  fflush(stdout);
  int conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) perror("accept");
  close(s);
  unlink(sock);
  return conn;
}

static int agent(const char *sock, const char *out, const char *answer) {
  int conn = accept_one(sock);
  if (conn < 0) return 1;
  static char buf[1 << 16];
  size_t len = 0;
  int fds[8], nfds = 0, notify = -1;
  /* One message normally holds the fd and the whole state. An agent must not wait for EOF:
   * the runtime's close() after sending may itself be a notified call. */
  for (;;) {
    int got = 0;
    ssize_t n = recv_fds(conn, buf + len, sizeof buf - len, fds, 8, &got);
    if (n < 0) return perror("recvmsg"), 1;
    if (got) notify = fds[0], nfds += got;
    len += (size_t)n;
    if (n == 0 || (len && buf[len - 1] == '}')) break;
  }
  FILE *f = fopen(out, "w");
  if (!f) return perror(out), 1;
  fprintf(f, "%s\n", buf);
  fclose(f);
  if (notify < 0 || nfds != 1) return fprintf(stderr, "agent: got %d fds\n", nfds), 1;

  struct seccomp_notif_sizes sizes;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) return perror("SECCOMP_GET_NOTIF_SIZES"), 1;
  struct seccomp_notif *req = calloc(1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
  struct seccomp_notif_resp *resp =
      calloc(1, sizes.seccomp_notif_resp > sizeof *resp ? sizes.seccomp_notif_resp : sizeof *resp);
  int err = atoi(answer);
  for (;;) {
    memset(req, 0, sizes.seccomp_notif);
    if (ioctl(notify, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
      if (errno == EINTR) continue;
      break; /* ENOENT: the container process died meanwhile; other errors: all gone */
    }
    memset(resp, 0, sizes.seccomp_notif_resp);
    resp->id = req->id;
    if (!strcmp(answer, "continue"))
      resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    else if (strcmp(answer, "fake-success"))
      resp->error = -err;
    f = fopen(out, "a");
    if (f) fprintf(f, "notified %d\n", req->data.nr), fclose(f);
    if (ioctl(notify, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT) perror("SECCOMP_IOCTL_NOTIF_SEND");
  }
  return 0;
}

/* An outer seccomp filter, as some engines and older profiles impose on their runtime. */
static int deny(const char *name, int err, char **cmd) {
  long nr = !strcmp(name, "openat2") ? SYS_openat2 : !strcmp(name, "fsopen") ? SYS_fsopen : atol(name);
  if (nr <= 0) return fprintf(stderr, "deny: unknown syscall %s\n", name), 2;
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((uint32_t)err & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof f / sizeof *f, .filter = f};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) return perror("seccomp"), 1;
  execvp(cmd[0], cmd);
  return perror(cmd[0]), 127;
}

static int console(const char *sock, const char *out) {
  int conn = accept_one(sock);
  if (conn < 0) return 1;
  char name[256];
  int fds[8], n = 0;
  if (recv_fds(conn, name, sizeof name, fds, 8, &n) < 0 || n != 1) return fprintf(stderr, "console: no fd\n"), 1;
  int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (o < 0) return perror(out), 1;
  char buf[4096];
  for (;;) {
    ssize_t r = read(fds[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break; /* EIO once the last peer closed */
    if (write(o, buf, (size_t)r) != r) return perror("write"), 1;
  }
  close(o);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *cmd = argc > 1 ? argv[1] : "";
  if (!strcmp(cmd, "fds")) return fds();
  if (!strcmp(cmd, "call")) return call(argc - 2, argv + 2);
  if (!strcmp(cmd, "exe-attack") && (argc == 3 || argc == 4)) return exe_attack(atof(argv[2]), argc == 4 ? argv[3] : NULL);
  if (!strcmp(cmd, "swap") && (argc == 6 || argc == 7)) return swap(argv[2], argv[3], argv[4], atof(argv[5]), argc == 7 ? atol(argv[6]) : 0);
  if (!strcmp(cmd, "agent") && argc == 5) return agent(argv[2], argv[3], argv[4]);
  if (!strcmp(cmd, "deny") && argc >= 5) return deny(argv[2], atoi(argv[3]), argv + 4);
  if (!strcmp(cmd, "console") && argc == 4) return console(argv[2], argv[3]);
  fprintf(stderr, "usage: see native/test/probe.c\n");
  return 2;
}
