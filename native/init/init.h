/* capsa-init: the small single-threaded process that becomes the container.
 * It receives a launch plan from the capsa parent (see lib/protocol/spec.ts), builds the
 * container around itself and execs the user's process. */
#ifndef CAPSA_INIT_H
#define CAPSA_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../gen/protocol.h"

struct str_list {
  const char **v; /* NULL-terminated, ready for execve */
  size_t n;
};

struct ns_join {
  uint32_t type; /* CLONE_NEW* */
  const char *path;
  int fd;
};

struct mount_entry {
  const char *source, *dest, *fstype, *data;
  uint64_t flags, propagation, attr_set, attr_clr;
  bool copyup;
};

struct device_entry {
  const char *path;
  uint32_t mode, uid, gid;
  uint64_t major, minor;
  bool bind;
};

struct symlink_entry {
  const char *target, *path;
};

struct sysctl_entry {
  const char *path, *value;
};

struct rlimit_entry {
  uint32_t type;
  uint64_t soft, hard;
};

struct hook_entry {
  uint32_t kind;
  const char *path;
  struct str_list args, env;
  uint32_t timeout;
};

#define LIST(T) \
  struct {      \
    T *v;       \
    size_t n;   \
  }

struct plan {
  uint32_t mode;
  pid_t parent_pid;
  uint64_t clone_flags;
  LIST(struct ns_join) joins;
  const char *time_offsets;
  const char *rootfs;
  uint64_t rootfs_propagation;
  bool rootfs_readonly, no_pivot;
  LIST(struct mount_entry) mounts;
  LIST(struct device_entry) devices;
  LIST(struct symlink_entry) symlinks;
  struct str_list masked, readonly;
  const char *hostname, *domainname;
  LIST(struct sysctl_entry) sysctls;
  LIST(struct rlimit_entry) rlimits;
  bool has_oom_score_adj;
  int64_t oom_score_adj;
  uint32_t uid, gid;
  LIST(uint32_t) gids;
  bool has_umask;
  uint32_t umask;
  const char *cwd;
  struct str_list env, args;
  uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
  bool no_new_privs;
  const uint8_t *seccomp_prog;
  size_t seccomp_len;
  uint32_t seccomp_flags;
  const char *seccomp_listener;
  const char *seccomp_state; /* from CONTINUE, for the agent */
  bool terminal;
  const char *console_socket;
  uint32_t console_width, console_height;
  const char *state_dir;
  LIST(struct hook_entry) hooks;
  const char *session_keyring;
  bool has_personality;
  uint32_t personality;
  bool has_ioprio;
  uint32_t ioprio;
  const char *apparmor_profile, *selinux_label, *mount_label;
};

/* proto.c: the wire format. */
struct msg {
  uint16_t type;
  uint8_t *body;
  uint32_t len;
};
int msg_recv(int fd, struct msg *m);
void msg_free(struct msg *m);
const char *msg_str(const struct msg *m, uint16_t type);
int plan_parse(const uint8_t *body, uint32_t len, struct plan *p, const char **why);
int plan_add_env(struct plan *p, const char *entry);
void send_simple(uint16_t type);
size_t put_attr(uint8_t *buf, size_t at, size_t cap, uint16_t type, const void *data, uint32_t len);
void send_report(uint16_t type, const char *step, const char *path, int err, const char *text);
void send_pid(uint16_t type, pid_t pid);
void expect(uint16_t type, struct msg *out);

/* util.c: errors and safe paths. */
extern int sync_fd; /* the socket to the parent; -1 once closed */
extern int fifo_err_fd; /* after COMMIT, errors go into exec.fifo instead */
_Noreturn void fail(const char *step, const char *path, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void warn(const char *step, const char *path, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* resolve_in() modes; without one, symlinks resolve inside the root (RESOLVE_IN_ROOT). */
#define W_NO_SYMLINKS 1 /* any symlink is an error (ELOOP) */
#define W_NO_XDEV 2     /* crossing into another mount is an error (EXDEV) */
int resolve_in(int root, const char *path, int flags, bool follow_last, int how);
int open_in_root(int rootfd, const char *path, int flags, bool follow_last);
int mkdir_in_root(int rootfd, const char *path, mode_t mode);
int mkfile_in_root(int rootfd, const char *path);
/* Sends data (len > 0) with fd attached (SCM_RIGHTS); -1 with errno on failure. */
int send_fd(int sock, int fd, const char *data, size_t len);

/* procfs.c: writes for the kernel, through a procfs nothing has covered. */
int open_proc(const char *rel, int flags);
int write_proc(const char *rel, const char *value, size_t len);
char *fdpath(int fd, char buf[static 32]);

/* namespaces.c */
void enter_namespaces(struct plan *p);
/* True if the container has a namespace of this CLONE_NEW* type (new or joined). */
bool has_ns(const struct plan *p, uint32_t type);

/* mounts.c */
bool own_mount_ns(const struct plan *p);
int setup_rootfs(struct plan *p);
void pivot_into(struct plan *p, int rootfd);
void finish_rootfs(struct plan *p);

/* copyup.c: copies the covered directory `lower` into the new tmpfs `upper` (closes lower). */
void copy_up(const char *dest, int lower, int upper);

/* devices.c */
void setup_devices(struct plan *p, int rootfd);

/* terminal.c */
extern int console_fd; /* the console socket, when a terminal is asked for */
void connect_console(struct plan *p);
void setup_terminal(struct plan *p, bool console_dev);

/* seccomp.c */
void connect_listener(struct plan *p);
void load_seccomp(struct plan *p);

/* lsm.c */
void apply_apparmor(struct plan *p);
void apply_selinux(struct plan *p);
void selinux_keycreate(struct plan *p);

/* hooks.c */
void run_hooks(struct plan *p, uint32_t kind, const char *state_json);

/* process.c */
void apply_sysctls(struct plan *p);
void apply_oom_score_adj(struct plan *p);
void apply_process_attrs(struct plan *p);
void apply_rlimits(struct plan *p);
void switch_user(struct plan *p);
const char *resolve_exec(struct plan *p);
void default_home(struct plan *p);

#endif
