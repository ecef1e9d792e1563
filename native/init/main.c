/* capsa-init: stage 0 enters the namespaces and forks the container process, which sets up
 * the container around itself and becomes the user's process. The conversation with the
 * parent is laid out in lib/protocol/spec.ts. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"

/* fds below this one were preserved for the user's process (--preserve-fds). */
static int first_private_fd;

/* Dies with the parent until COMMIT. PDEATHSIG may be set after the parent already died, so
 * the socket to it is checked for a hangup afterwards (getppid() is 0 in a new pid namespace
 * and cannot tell). Changing credentials clears PDEATHSIG, hence the second call. */
static void die_with_parent(void) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail("init", NULL, errno, "PR_SET_PDEATHSIG");
  struct pollfd pfd = {.fd = sync_fd, .events = POLLRDHUP};
  if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) _exit(1);
}

static const char *state_json(void) {
  struct msg m;
  expect(CAPSA_MSG_HOOKS_DONE, &m);
  const char *state = msg_str(&m, CAPSA_A_STATE_JSON);
  if (!state) fail("sync", NULL, EPROTO, "HOOKS_DONE without STATE_JSON");
  return state;
}

/* From READY to the user's process: the parent records the container, then COMMIT lets us
 * outlive it. For create we then wait on exec.fifo for `start`. */
static _Noreturn void commit_and_exec(struct plan *p, const char *path, int statedir, const char *state) {
  send_simple(CAPSA_MSG_READY);
  expect(CAPSA_MSG_COMMIT, NULL);
  if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0) fail("init", NULL, errno, "clear PR_SET_PDEATHSIG");
  if (p->mode == CAPSA_MODE_CREATE) {
    close(sync_fd);
    sync_fd = -1;
    /* Blocks until `start` opens the other end. */
    int fifo;
    do fifo = openat(statedir, "exec.fifo", O_WRONLY | O_CLOEXEC);
    while (fifo < 0 && errno == EINTR);
    if (fifo < 0) fail("start", "exec.fifo", errno, "open");
    close(statedir);
    fifo_err_fd = fifo;
    run_hooks(p, CAPSA_HOOK_START_CONTAINER, state);
  }
  if (p->no_new_privs) load_seccomp(p);
  if (p->mode == CAPSA_MODE_CREATE) {
    char ok = CAPSA_FIFO_OK;
    if (write(fifo_err_fd, &ok, 1) != 1) _exit(1);
  }
  execve(path, (char *const *)p->args.v, (char *const *)p->env.v);
  fail("exec", path, errno, "exec: \"%s\"", p->args.v[0]);
}

/* Nothing of ours may reach the user's process (CVE-2024-21626): every fd past the preserved
 * ones closes on exec. Done before any seccomp filter can refuse close_range; whatever init
 * opens later is O_CLOEXEC already. The sync socket's or the fifo's closing at execve is
 * also how the parent or `start` learns that the exec succeeded. */
static void cloexec_private_fds(void) {
  if (syscall(SYS_close_range, first_private_fd, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  struct rlimit rl;
  int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
  for (int fd = first_private_fd; fd < max; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* The working directory must be inside the container's root: a cwd reached through one of
 * our fds (/proc/self/fd/N) would sit outside it, and the kernel then reports it as
 * unreachable (CVE-2024-21626). */
static void enter_cwd(struct plan *p) {
  char cwd[4096];
  if (chdir(p->cwd) < 0) fail("cwd", p->cwd, errno, "chdir");
  errno = 0;
  if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/') fail("cwd", p->cwd, errno ? errno : EPERM, "is outside the container's root");
}

/* The process's settings, in the order privileges allow. Paths are resolved and checked
 * before any seccomp filter is loaded, so a profile that refuses getcwd or faccessat2 cannot
 * break them; without no_new_privs the filter must be loaded while we still hold
 * CAP_SYS_ADMIN, before the user switch (as runc). The AppArmor profile and the SELinux
 * label are set before both, as runc does: the private procfs they are written through needs
 * fsopen and CAP_SYS_ADMIN, which a filter or the user switch may take away, and they apply
 * only at execve anyway (startContainer hooks, forked after, inherit them, as in runc). */
static const char *setup_process(struct plan *p) {
  if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0) fail("hostname", p->hostname, errno, "sethostname");
  if (p->domainname && setdomainname(p->domainname, strlen(p->domainname)) < 0)
    fail("domainname", p->domainname, errno, "setdomainname");
  apply_process_attrs(p);
  apply_rlimits(p);
  default_home(p);
  enter_cwd(p);
  const char *path = resolve_exec(p);
  cloexec_private_fds();
  apply_apparmor(p);
  apply_selinux(p);
  if (!p->no_new_privs) load_seccomp(p);
  switch_user(p);
  die_with_parent();
  /* Again as the user: the directory may be open to it and not to root (root-squashed NFS). */
  if (chdir(p->cwd) < 0) fail("cwd", p->cwd, errno, "chdir as uid %u", p->uid);
  umask(p->has_umask ? p->umask : 022);
  if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("noNewPrivileges", NULL, errno, "prctl");
  return path;
}

static _Noreturn void container_create(struct plan *p, int statedir) {
  int rootfd = setup_rootfs(p);
  setup_devices(p, rootfd);
  send_simple(CAPSA_MSG_HOOKS_REQUEST);
  const char *state = state_json();
  run_hooks(p, CAPSA_HOOK_CREATE_CONTAINER, state);
  pivot_into(p, rootfd);
  close(rootfd);
  setup_terminal(p, true);
  apply_sysctls(p);
  finish_rootfs(p);
  const char *path = setup_process(p);
  commit_and_exec(p, path, statedir, state);
}

static _Noreturn void container_exec(struct plan *p) {
  /* A container without a mount namespace has only its chroot to give us. */
  if (p->rootfs && (chdir(p->rootfs) < 0 || chroot(".") < 0)) fail("chroot", p->rootfs, errno, "enter the container's root");
  setup_terminal(p, false);
  const char *path = setup_process(p);
  commit_and_exec(p, path, -1, NULL);
}

static long env_fd(const char *name) {
  const char *v = getenv(name);
  char *end;
  long fd = v ? strtol(v, &end, 10) : -1;
  return v && !*end && fd >= 3 && fd <= 65535 ? fd : -1;
}

int main(void) {
  long fd = env_fd("_CAPSA_SYNC_FD");
  if (fd < 0) {
    dprintf(2, "capsa-init is started by capsa, not by hand\n");
    return 1;
  }
  sync_fd = first_private_fd = (int)fd;
  /* The console socket capsa made for a foreground terminal, if any, comes right after. */
  if (env_fd("_CAPSA_CONSOLE_FD") == fd + 1) console_fd = sync_fd + 1;
  /* Whatever the parent leaked is closed now; the preserved fds (3 .. sync_fd-1) stay. */
  syscall(SYS_close_range, (console_fd >= 0 ? console_fd : sync_fd) + 1, ~0U, 0);
  if (fcntl(sync_fd, F_SETFD, FD_CLOEXEC) < 0) fail("init", NULL, errno, "set FD_CLOEXEC on the sync socket");
  if (console_fd >= 0 && fcntl(console_fd, F_SETFD, FD_CLOEXEC) < 0) fail("init", NULL, errno, "set FD_CLOEXEC on the console socket");
  for (int i = 3; i < sync_fd; i++)
    if (fcntl(i, F_SETFD, 0) < 0) fail("init", NULL, errno, "preserved fd %d", i);
  umask(0);

  struct msg m;
  expect(CAPSA_MSG_PLAN, &m);
  struct plan plan;
  const char *why = NULL;
  if (plan_parse(m.body, m.len, &plan, &why) < 0) fail("plan", NULL, EPROTO, "%s", why);
  struct plan *p = &plan;

  /* A process that joins a running container stays out of reach of its processes (no
   * ptrace, no /proc/PID/{exe,fd,mem}) until execve makes it theirs (CVE-2019-5736). */
  if (p->mode == CAPSA_MODE_EXEC && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail("init", NULL, errno, "PR_SET_DUMPABLE");
  /* Written here, in the runtime's user namespace, and inherited: in the container's, a
   * non-dumpable process (exec, or any after its ids changed) finds /proc/self owned by a
   * root it does not map (runc writes it from its stage 0 too). */
  apply_oom_score_adj(p);
  die_with_parent();
  connect_console(p);
  connect_listener(p);
  /* Opened while we are still the runtime's root: later, in a user namespace, only the
   * fifo inside it (mode 0622) needs to be reachable. */
  int statedir = -1;
  if (p->mode == CAPSA_MODE_CREATE && (statedir = open(p->state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    fail("init", p->state_dir, errno, "open the state directory");
  enter_namespaces(p);
  pid_t child = fork();
  if (child < 0) fail("fork", NULL, errno, "the container process");
  if (child > 0) {
    send_pid(CAPSA_MSG_PID, child);
    _exit(0);
  }
  /* The container process. Stage 0 has exited; once the parent (a subreaper) has reaped it,
   * it tells us to go on. */
  struct msg go;
  expect(CAPSA_MSG_CONTINUE, &go);
  p->seccomp_state = msg_str(&go, CAPSA_A_SECCOMP_STATE);
  die_with_parent();
  if (p->mode == CAPSA_MODE_CREATE) container_create(p, statedir);
  container_exec(p);
}
