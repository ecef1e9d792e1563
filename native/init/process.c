/* The process's own settings: sysctls, rlimits, scheduling, keyring, user and groups,
 * capabilities, and finding the executable. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif
#ifndef KEYCTL_SETPERM
#define KEYCTL_SETPERM 5
#endif

/* Through a procfs the container cannot have covered (procfs.c): the sysctls land in the
 * namespaces of this process, whichever procfs instance carries the write. */
void apply_sysctls(struct plan *p) {
  char path[4096];
  for (size_t i = 0; i < p->sysctls.n; i++) {
    const struct sysctl_entry *s = &p->sysctls.v[i];
    if ((size_t)snprintf(path, sizeof path, "sys/%s", s->path) >= sizeof path) fail("sysctl", s->path, ENAMETOOLONG, "path");
    if (write_proc(path, s->value, strlen(s->value)) < 0) fail("sysctl", s->path, errno, "write %s to /proc/%s", s->value, path);
  }
}

/* The config's names, so an error names the limit as the user wrote it. */
static const char *const rlimit_names[] = {
    "RLIMIT_CPU",    "RLIMIT_FSIZE",   "RLIMIT_DATA",  "RLIMIT_STACK",   "RLIMIT_CORE",       "RLIMIT_RSS",
    "RLIMIT_NPROC",  "RLIMIT_NOFILE",  "RLIMIT_MEMLOCK", "RLIMIT_AS",    "RLIMIT_LOCKS",      "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

void apply_rlimits(struct plan *p) {
  for (size_t i = 0; i < p->rlimits.n; i++) {
    const struct rlimit_entry *r = &p->rlimits.v[i];
    struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};
    if (setrlimit((int)r->type, &rl) < 0) {
      char type[16];
      const char *name = r->type < sizeof rlimit_names / sizeof *rlimit_names ? rlimit_names[r->type] : NULL;
      if (!name) snprintf(type, sizeof type, "%u", r->type), name = type;
      fail("rlimit", name, errno, "setrlimit soft %llu, hard %llu", (unsigned long long)r->soft, (unsigned long long)r->hard);
    }
  }
}

void apply_oom_score_adj(struct plan *p) {
  if (!p->has_oom_score_adj) return;
  char v[32];
  snprintf(v, sizeof v, "%lld", (long long)p->oom_score_adj);
  if (write_proc("self/oom_score_adj", v, strlen(v)) < 0) fail("oomScoreAdj", "/proc/self/oom_score_adj", errno, "write %s", v);
  p->has_oom_score_adj = false;
}

/* runc's session keyring permissions: the kernel's for a new one (possessor: all; owner: view,
 * read, link), plus search for the container's users: as "other" in a user namespace, whose
 * ids are not the keyring owner's, as the owner otherwise. */
static uint32_t keyring_perm(const struct plan *p) {
  return 0x3f130000 | (has_ns(p, CLONE_NEWUSER) ? 0x8 : 0x80000);
}

/* Settings that belong to the process and need privileges: applied before the user switch. */
void apply_process_attrs(struct plan *p) {
  apply_oom_score_adj(p);
  if (p->session_keyring) {
    selinux_keycreate(p);
    long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p->session_keyring);
    /* Keyrings are not namespaced; where the kernel refuses (ENOSYS, EPERM under some
     * seccomp profiles) runc goes on without one, and so do we. */
    if (id < 0 && errno != ENOSYS && errno != EPERM && errno != EACCES) fail("keyring", p->session_keyring, errno, "join");
    /* exec joins the container's keyring, which create made and set up: in a user
     * namespace it does not own it, and may not change it (runc's setns init only joins). */
    if (id >= 0 && p->mode == CAPSA_MODE_CREATE && syscall(SYS_keyctl, KEYCTL_SETPERM, id, keyring_perm(p)) < 0)
      fail("keyring", p->session_keyring, errno, "set permissions");
  }
  if (p->has_personality && personality(p->personality) < 0) fail("personality", NULL, errno, "0x%x", p->personality);
  if (p->has_ioprio && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, p->ioprio) < 0)
    fail("ioPriority", NULL, errno, "ioprio_set 0x%x", p->ioprio);
}

static const char *const cap_names[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

/* Names the capabilities in `caps`, for a message. */
static const char *cap_list(uint64_t caps) {
  static char buf[1024];
  size_t n = 0;
  buf[0] = 0;
  for (int c = 0; c < 64 && n < sizeof buf - 32; c++)
    if (caps & (1ULL << c))
      n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? ", " : "",
                            c < (int)(sizeof cap_names / sizeof *cap_names) ? cap_names[c] : "?");
  return buf;
}

static uint64_t permitted_now(void) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) < 0) return 0;
  return (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
}

static int last_cap(void) {
  static int last = -1;
  if (last >= 0) return last;
  for (last = 63; last > 0 && prctl(PR_CAPBSET_READ, last, 0, 0, 0) < 0; last--) {
  }
  return last;
}

/* A terminal or pipe handed to us by the caller must stay usable after we stop being root. */
static void chown_stdio(uid_t uid, gid_t gid) {
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (fstat(fd, &st) < 0 || (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))) continue;
    if (fchown(fd, uid, gid) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
      fail("user", NULL, errno, "chown stdio fd %d", fd);
  }
}

/* Order matters: the bounding set is dropped while we still hold CAP_SETPCAP, the ids change
 * with KEEPCAPS so the permitted set survives, and capset then trims it to the config. */
void switch_user(struct plan *p) {
  int last = last_cap();
  for (int c = 0; c <= last; c++)
    if (!(p->cap_bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
      fail("capabilities", NULL, errno, "drop %d from the bounding set", c);
  if (p->uid != 0) chown_stdio(p->uid, p->gid);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail("user", NULL, errno, "PR_SET_KEEPCAPS");
  if (setgroups(p->gids.n, p->gids.v) < 0) {
    /* In a user namespace with setgroups denied, dropping to no groups is all there is. */
    if (!(errno == EPERM && p->gids.n == 0)) fail("user", NULL, errno, "setgroups (%zu groups)", p->gids.n);
  }
  if (setresgid(p->gid, p->gid, p->gid) < 0) fail("user", NULL, errno, "setresgid %u", p->gid);
  if (setresuid(p->uid, p->uid, p->uid) < 0) fail("user", NULL, errno, "setresuid %u", p->uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail("user", NULL, errno, "clear PR_SET_KEEPCAPS");

  uint64_t mask = last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  uint64_t eff = p->cap_effective & mask, prm = p->cap_permitted & mask, inh = p->cap_inheritable & mask;
  data[0].effective = (uint32_t)eff, data[1].effective = (uint32_t)(eff >> 32);
  data[0].permitted = (uint32_t)prm, data[1].permitted = (uint32_t)(prm >> 32);
  data[0].inheritable = (uint32_t)inh, data[1].inheritable = (uint32_t)(inh >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0) {
    int e = errno;
    uint64_t have = permitted_now();
    if ((prm | eff | inh) & ~have)
      fail("capabilities", NULL, e, "capset: capsa itself does not hold %s", cap_list((prm | eff | inh) & ~have));
    fail("capabilities", NULL, e, "capset");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    fail("capabilities", NULL, errno, "clear the ambient set");
  /* The kernel raises only what is inheritable and permitted too. runc warns about the rest
   * and goes on, and its own `runc spec` asks for ambient capabilities that are not
   * inheritable: so does capsa. */
  uint64_t amb = p->cap_ambient & mask, raisable = amb & inh & prm;
  if (amb != raisable)
    warn("capabilities", NULL, 0, "ambient %s not raised: not also inheritable and permitted", cap_list(amb & ~raisable));
  for (int c = 0; c <= last; c++)
    if ((raisable & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      fail("capabilities", NULL, errno, "raise %s in the ambient set", cap_list(1ULL << c));
}

/* Like runc: without HOME in the environment, the user's home from the container's
 * /etc/passwd, else "/". Read inside the root, refusing magic links. */
void default_home(struct plan *p) {
  for (size_t i = 0; i < p->env.n; i++)
    if (!strncmp(p->env.v[i], "HOME=", 5)) return;
  const char *home = "/";
  static char line[4096];
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd = root < 0 ? -1 : open_in_root(root, "/etc/passwd", O_RDONLY, true);
  FILE *f = fd < 0 ? NULL : fdopen(fd, "re");
  while (f && fgets(line, sizeof line, f)) {
    /* name:password:uid:gid:gecos:home:shell */
    char *field[7] = {line};
    int n = 1;
    for (char *c = line; *c && n < 7; c++)
      if (*c == ':') *c = 0, field[n++] = c + 1;
    if (n < 7) continue;
    char *end;
    unsigned long uid = strtoul(field[2], &end, 10);
    if (*end || end == field[2] || uid != p->uid) continue;
    field[5][strcspn(field[5], "\n")] = 0;
    if (*field[5]) home = field[5];
    break;
  }
  char *entry = malloc(strlen(home) + 6);
  if (!entry) fail("env", "HOME", ENOMEM, "allocate");
  strcpy(entry, "HOME="), strcat(entry, home);
  if (f) fclose(f);
  else if (fd >= 0) close(fd);
  if (root >= 0) close(root);
  if (plan_add_env(p, entry)) fail("env", "HOME", ENOMEM, "add");
}

/* Mode bits only, like Go's exec.LookPath in runc: resolved as root, before the user switch,
 * the rest is execve's to check. */
static bool executable(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) return false;
  if (S_ISREG(st.st_mode) && (st.st_mode & 0111)) return true;
  errno = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
  return false;
}

/* Like runc (and execvp), a name without a slash is looked up in the process's own PATH. The
 * wording of the errors is runc's: podman and containerd users match on it. */
const char *resolve_exec(struct plan *p) {
  const char *name = p->args.v[0];
  if (strchr(name, '/')) {
    if (!executable(name)) fail("exec", name, errno, "exec: \"%s\": stat %s", name, name);
    return name;
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (size_t i = 0; i < p->env.n; i++)
    if (!strncmp(p->env.v[i], "PATH=", 5)) path = p->env.v[i] + 5;
  static char buf[4096];
  for (const char *dir = path; *dir;) {
    size_t len = strcspn(dir, ":");
    if (len + strlen(name) + 2 <= sizeof buf) {
      if (len)
        snprintf(buf, sizeof buf, "%.*s/%s", (int)len, dir, name);
      else
        snprintf(buf, sizeof buf, "%s", name);
      if (executable(buf)) return buf;
    }
    dir += len;
    if (*dir == ':') dir++;
  }
  fail("exec", name, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}
