/* The wire format of lib/protocol/spec.ts, read defensively: every length is checked against
 * what is left of its enclosing buffer before it is used. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

static int read_full(int fd, void *buf, size_t len) {
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return -EPIPE;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int write_full(int fd, const void *buf, size_t len) {
  const uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static uint16_t get16(const uint8_t *p) {
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
}
static uint32_t get32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

int msg_recv(int fd, struct msg *m) {
  uint8_t head[CAPSA_HEADER_SIZE];
  int r = read_full(fd, head, sizeof head);
  if (r < 0) return r;
  if (get32(head) != CAPSA_MAGIC || get16(head + 4) != CAPSA_VERSION) return -EPROTO;
  m->type = get16(head + 6);
  m->len = get32(head + 8);
  if (m->len > CAPSA_MAX_MESSAGE) return -EMSGSIZE;
  m->body = malloc(m->len ? m->len : 1);
  if (!m->body) return -ENOMEM;
  r = read_full(fd, m->body, m->len);
  if (r < 0) {
    msg_free(m);
    return r;
  }
  return 0;
}

void msg_free(struct msg *m) {
  free(m->body);
  m->body = NULL;
}

/* One attribute of a list, checked against its kind. */
struct attr {
  uint16_t type;
  const uint8_t *data;
  uint32_t len;
};

struct cursor {
  const uint8_t *p;
  uint32_t left;
};

/* Returns 1 with the next attribute, 0 at the end, -1 (and *why) on a malformed one. */
static int next_attr(struct cursor *c, struct attr *a, const char **why) {
  if (c->left == 0) return 0;
  if (c->left < CAPSA_ATTR_HEADER_SIZE) return *why = "truncated attribute header", -1;
  a->type = get16(c->p);
  a->len = get32(c->p + 4);
  a->data = c->p + CAPSA_ATTR_HEADER_SIZE;
  uint32_t room = c->left - CAPSA_ATTR_HEADER_SIZE;
  if (a->len > room) return *why = "attribute length overruns its message", -1;
  if (a->type == 0 || a->type > CAPSA_ATTR_MAX || capsa_attr_kind[a->type] == CAPSA_K_NONE)
    return *why = "unknown attribute", -1;
  switch (capsa_attr_kind[a->type]) {
    case CAPSA_K_U32:
      if (a->len != 4) return *why = "u32 attribute of wrong length", -1;
      break;
    case CAPSA_K_U64:
    case CAPSA_K_I64:
      if (a->len != 8) return *why = "u64 attribute of wrong length", -1;
      break;
    case CAPSA_K_STR:
      if (a->len == 0 || memchr(a->data, 0, a->len) != a->data + a->len - 1)
        return *why = "string attribute not NUL-terminated or with an inner NUL", -1;
      break;
  }
  uint32_t padded = (a->len + 3u) & ~3u;
  if (padded > room) padded = room;
  c->p += CAPSA_ATTR_HEADER_SIZE + padded;
  c->left = room - padded;
  return 1;
}

#define STR(a) ((const char *)(a)->data)

static int grow(void **v, size_t *n, size_t size) {
  if (*n >= (1u << 20)) return -1;
  void *nv = realloc(*v, (*n + 1) * size);
  if (!nv) return -1;
  *v = nv;
  memset((char *)nv + *n * size, 0, size);
  (*n)++;
  return 0;
}
#define PUSH(list) (grow((void **)&(list).v, &(list).n, sizeof *(list).v) ? NULL : &(list).v[(list).n - 1])

/* String lists keep a trailing NULL so they can be passed to execve as they are. */
static int ensure_list(struct str_list *l) {
  if (l->v) return 0;
  l->v = calloc(1, sizeof *l->v);
  return l->v ? 0 : -1;
}

static int push_str(struct str_list *l, const char *s) {
  if (l->n >= (1u << 20)) return -1;
  const char **nv = realloc(l->v, (l->n + 2) * sizeof *nv);
  if (!nv) return -1;
  nv[l->n++] = s;
  nv[l->n] = NULL;
  l->v = nv;
  return 0;
}

int plan_add_env(struct plan *p, const char *entry) {
  return push_str(&p->env, entry);
}

#define NEST_LOOP(a, c2, b)                                                   \
  struct cursor c2 = {(a)->data, (a)->len};                                   \
  struct attr b;                                                              \
  for (int rr; (rr = next_attr(&c2, &b, why)) != 0;)                          \
    if (rr < 0) return -1;                                                    \
    else

static int parse_ns(const struct attr *a, struct ns_join *j, const char **why) {
  NEST_LOOP(a, c, b) switch (b.type) {
      case CAPSA_A_NS_TYPE: j->type = get32(b.data); break;
      case CAPSA_A_NS_PATH: j->path = STR(&b); break;
      default: return *why = "unexpected attribute in NS_JOIN", -1;
    }
  if (!j->type || !j->path) return *why = "NS_JOIN without NS_TYPE or NS_PATH", -1;
  j->fd = -1;
  return 0;
}

static int parse_mount(const struct attr *a, struct mount_entry *m, const char **why) {
  NEST_LOOP(a, c, b) switch (b.type) {
      case CAPSA_A_M_SOURCE: m->source = STR(&b); break;
      case CAPSA_A_M_DEST: m->dest = STR(&b); break;
      case CAPSA_A_M_FSTYPE: m->fstype = STR(&b); break;
      case CAPSA_A_M_DATA: m->data = STR(&b); break;
      case CAPSA_A_M_FLAGS: m->flags = get64(b.data); break;
      case CAPSA_A_M_PROPAGATION: m->propagation = get64(b.data); break;
      case CAPSA_A_M_ATTR_SET: m->attr_set = get64(b.data); break;
      case CAPSA_A_M_ATTR_CLR: m->attr_clr = get64(b.data); break;
      case CAPSA_A_M_COPYUP: m->copyup = get32(b.data) != 0; break;
      default: return *why = "unexpected attribute in MOUNT", -1;
    }
  if (!m->dest || m->dest[0] != '/') return *why = "MOUNT without an absolute M_DEST", -1;
  return 0;
}

static int parse_device(const struct attr *a, struct device_entry *d, const char **why) {
  NEST_LOOP(a, c, b) switch (b.type) {
      case CAPSA_A_D_PATH: d->path = STR(&b); break;
      case CAPSA_A_D_MODE: d->mode = get32(b.data); break;
      case CAPSA_A_D_MAJOR: d->major = get64(b.data); break;
      case CAPSA_A_D_MINOR: d->minor = get64(b.data); break;
      case CAPSA_A_D_UID: d->uid = get32(b.data); break;
      case CAPSA_A_D_GID: d->gid = get32(b.data); break;
      case CAPSA_A_D_BIND: d->bind = get32(b.data) != 0; break;
      default: return *why = "unexpected attribute in DEVICE", -1;
    }
  if (!d->path || d->path[0] != '/') return *why = "DEVICE without an absolute D_PATH", -1;
  return 0;
}

static int parse_symlink(const struct attr *a, struct symlink_entry *l, const char **why) {
  NEST_LOOP(a, c, b) switch (b.type) {
      case CAPSA_A_L_TARGET: l->target = STR(&b); break;
      case CAPSA_A_L_PATH: l->path = STR(&b); break;
      default: return *why = "unexpected attribute in SYMLINK", -1;
    }
  if (!l->target || !l->path || l->path[0] != '/') return *why = "SYMLINK without L_TARGET or absolute L_PATH", -1;
  return 0;
}

static int parse_sysctl(const struct attr *a, struct sysctl_entry *s, const char **why) {
  NEST_LOOP(a, c, b) switch (b.type) {
      case CAPSA_A_S_PATH: s->path = STR(&b); break;
      case CAPSA_A_S_VALUE: s->value = STR(&b); break;
      default: return *why = "unexpected attribute in SYSCTL", -1;
    }
  if (!s->path || !s->value) return *why = "SYSCTL without S_PATH or S_VALUE", -1;
  return 0;
}

static int parse_rlimit(const struct attr *a, struct rlimit_entry *r, const char **why) {
  bool type = false;
  NEST_LOOP(a, c, b) switch (b.type) {
      case CAPSA_A_R_TYPE: r->type = get32(b.data), type = true; break;
      case CAPSA_A_R_SOFT: r->soft = get64(b.data); break;
      case CAPSA_A_R_HARD: r->hard = get64(b.data); break;
      default: return *why = "unexpected attribute in RLIMIT", -1;
    }
  if (!type) return *why = "RLIMIT without R_TYPE", -1;
  return 0;
}

static int parse_hook(const struct attr *a, struct hook_entry *h, const char **why) {
  NEST_LOOP(a, c, b) switch (b.type) {
      case CAPSA_A_H_KIND: h->kind = get32(b.data); break;
      case CAPSA_A_H_PATH: h->path = STR(&b); break;
      case CAPSA_A_H_ARG:
        if (push_str(&h->args, STR(&b))) return *why = "list too long, or out of memory", -1;
        break;
      case CAPSA_A_H_ENV:
        if (push_str(&h->env, STR(&b))) return *why = "list too long, or out of memory", -1;
        break;
      case CAPSA_A_H_TIMEOUT: h->timeout = get32(b.data); break;
      default: return *why = "unexpected attribute in HOOK", -1;
    }
  if (!h->path || h->path[0] != '/' || !h->kind) return *why = "HOOK without H_KIND or absolute H_PATH", -1;
  if (!h->args.n && push_str(&h->args, h->path)) return *why = "list too long, or out of memory", -1;
  if (ensure_list(&h->env)) return *why = "list too long, or out of memory", -1;
  return 0;
}

const char *msg_str(const struct msg *m, uint16_t type) {
  struct cursor c = {m->body, m->len};
  struct attr a;
  const char *why;
  while (next_attr(&c, &a, &why) > 0)
    if (a.type == type && capsa_attr_kind[type] == CAPSA_K_STR) return STR(&a);
  return NULL;
}

#define ITEM(list, parser)                                         \
  do {                                                             \
    void *it = PUSH(list);                                         \
    if (!it) return *why = "list too long, or out of memory", -1;                    \
    if (parser(&a, it, why)) return -1;                            \
  } while (0)

#define ADD_STR(list)                                                 \
  do {                                                                \
    if (push_str(&(list), STR(&a))) return *why = "list too long, or out of memory", -1; \
  } while (0)

int plan_parse(const uint8_t *body, uint32_t len, struct plan *p, const char **why) {
  memset(p, 0, sizeof *p);
  struct cursor c = {body, len};
  struct attr a;
  int r;
  while ((r = next_attr(&c, &a, why)) > 0) {
    switch (a.type) {
      case CAPSA_A_MODE: p->mode = get32(a.data); break;
      case CAPSA_A_PARENT_PID: p->parent_pid = (pid_t)get32(a.data); break;
      case CAPSA_A_CLONE_FLAGS: p->clone_flags = get64(a.data); break;
      case CAPSA_A_NS_JOIN: ITEM(p->joins, parse_ns); break;
      case CAPSA_A_TIME_OFFSETS: p->time_offsets = STR(&a); break;
      case CAPSA_A_ROOTFS: p->rootfs = STR(&a); break;
      case CAPSA_A_ROOTFS_PROPAGATION: p->rootfs_propagation = get64(a.data); break;
      case CAPSA_A_ROOTFS_READONLY: p->rootfs_readonly = get32(a.data) != 0; break;
      case CAPSA_A_NO_PIVOT: p->no_pivot = get32(a.data) != 0; break;
      case CAPSA_A_MOUNT: ITEM(p->mounts, parse_mount); break;
      case CAPSA_A_DEVICE: ITEM(p->devices, parse_device); break;
      case CAPSA_A_SYMLINK: ITEM(p->symlinks, parse_symlink); break;
      case CAPSA_A_MASKED_PATH: ADD_STR(p->masked); break;
      case CAPSA_A_READONLY_PATH: ADD_STR(p->readonly); break;
      case CAPSA_A_HOSTNAME: p->hostname = STR(&a); break;
      case CAPSA_A_DOMAINNAME: p->domainname = STR(&a); break;
      case CAPSA_A_SYSCTL: ITEM(p->sysctls, parse_sysctl); break;
      case CAPSA_A_RLIMIT: ITEM(p->rlimits, parse_rlimit); break;
      case CAPSA_A_OOM_SCORE_ADJ: p->has_oom_score_adj = true, p->oom_score_adj = (int64_t)get64(a.data); break;
      case CAPSA_A_UID: p->uid = get32(a.data); break;
      case CAPSA_A_GID: p->gid = get32(a.data); break;
      case CAPSA_A_ADDITIONAL_GID: {
        uint32_t *g = PUSH(p->gids);
        if (!g) return *why = "list too long, or out of memory", -1;
        *g = get32(a.data);
        break;
      }
      case CAPSA_A_UMASK: p->has_umask = true, p->umask = get32(a.data); break;
      case CAPSA_A_CWD: p->cwd = STR(&a); break;
      case CAPSA_A_ENV: ADD_STR(p->env); break;
      case CAPSA_A_ARG: ADD_STR(p->args); break;
      case CAPSA_A_CAP_BOUNDING: p->cap_bounding = get64(a.data); break;
      case CAPSA_A_CAP_EFFECTIVE: p->cap_effective = get64(a.data); break;
      case CAPSA_A_CAP_PERMITTED: p->cap_permitted = get64(a.data); break;
      case CAPSA_A_CAP_INHERITABLE: p->cap_inheritable = get64(a.data); break;
      case CAPSA_A_CAP_AMBIENT: p->cap_ambient = get64(a.data); break;
      case CAPSA_A_NO_NEW_PRIVS: p->no_new_privs = get32(a.data) != 0; break;
      case CAPSA_A_SECCOMP_PROG:
        if (a.len == 0 || a.len % 8 != 0 || a.len / 8 > 0xffff) return *why = "SECCOMP_PROG is not a filter", -1;
        p->seccomp_prog = a.data, p->seccomp_len = a.len;
        break;
      case CAPSA_A_SECCOMP_FLAGS: p->seccomp_flags = get32(a.data); break;
      case CAPSA_A_SECCOMP_LISTENER: p->seccomp_listener = STR(&a); break;
      case CAPSA_A_TERMINAL: p->terminal = get32(a.data) != 0; break;
      case CAPSA_A_CONSOLE_SOCKET: p->console_socket = STR(&a); break;
      case CAPSA_A_CONSOLE_WIDTH: p->console_width = get32(a.data); break;
      case CAPSA_A_CONSOLE_HEIGHT: p->console_height = get32(a.data); break;
      case CAPSA_A_STATE_DIR: p->state_dir = STR(&a); break;
      case CAPSA_A_HOOK: ITEM(p->hooks, parse_hook); break;
      case CAPSA_A_SESSION_KEYRING: p->session_keyring = STR(&a); break;
      case CAPSA_A_PERSONALITY: p->has_personality = true, p->personality = get32(a.data); break;
      case CAPSA_A_IOPRIO: p->has_ioprio = true, p->ioprio = get32(a.data); break;
      case CAPSA_A_APPARMOR_PROFILE: p->apparmor_profile = STR(&a); break;
      case CAPSA_A_SELINUX_LABEL: p->selinux_label = STR(&a); break;
      case CAPSA_A_MOUNT_LABEL: p->mount_label = STR(&a); break;
      default: return *why = "unexpected attribute in PLAN", -1;
    }
  }
  if (r < 0) return -1;
  if (p->mode != CAPSA_MODE_CREATE && p->mode != CAPSA_MODE_EXEC) return *why = "PLAN without a valid MODE", -1;
  if (!p->args.n) return *why = "PLAN without ARG", -1;
  if (!p->cwd || p->cwd[0] != '/') return *why = "PLAN without an absolute CWD", -1;
  if (ensure_list(&p->env)) return *why = "list too long, or out of memory", -1;
  if (p->mode == CAPSA_MODE_CREATE && (!p->rootfs || !p->state_dir)) return *why = "create PLAN without ROOTFS or STATE_DIR", -1;
  return 0;
}

/* Messages to the parent. A failed write means the parent is gone: nothing to do but exit. */
static void send_msg(uint16_t type, const uint8_t *body, uint32_t len) {
  uint8_t head[CAPSA_HEADER_SIZE] = {0};
  uint32_t magic = CAPSA_MAGIC;
  uint16_t version = CAPSA_VERSION;
  memcpy(head, &magic, 4);
  memcpy(head + 4, &version, 2);
  memcpy(head + 6, &type, 2);
  memcpy(head + 8, &len, 4);
  if (sync_fd < 0 || write_full(sync_fd, head, sizeof head) || write_full(sync_fd, body, len)) _exit(1);
}

void send_simple(uint16_t type) {
  send_msg(type, NULL, 0);
}

/* Appends one attribute to buf (capacity cap); returns the new length, or cap+1 if full. */
size_t put_attr(uint8_t *buf, size_t at, size_t cap, uint16_t type, const void *data, uint32_t len) {
  size_t padded = (len + 3u) & ~3u;
  if (at > cap || cap - at < CAPSA_ATTR_HEADER_SIZE + padded) return cap + 1;
  uint16_t zero = 0;
  memcpy(buf + at, &type, 2);
  memcpy(buf + at + 2, &zero, 2);
  memcpy(buf + at + 4, &len, 4);
  memcpy(buf + at + 8, data, len);
  memset(buf + at + 8 + len, 0, padded - len);
  return at + CAPSA_ATTR_HEADER_SIZE + padded;
}

void send_pid(uint16_t type, pid_t pid) {
  uint8_t buf[16];
  uint32_t v = (uint32_t)pid;
  size_t n = put_attr(buf, 0, sizeof buf, CAPSA_A_PID, &v, 4);
  send_msg(type, buf, (uint32_t)n);
}

/* Sends ERROR or WARNING; long texts are cut, never overflowed. */
void send_report(uint16_t type, const char *step, const char *path, int err, const char *text) {
  static uint8_t buf[16384];
  size_t n = 0, cap = sizeof buf;
  uint32_t e = (uint32_t)err;
  char cut[4096];
  const char *fields[] = {step, path, text};
  const uint16_t ids[] = {CAPSA_A_E_STEP, CAPSA_A_E_PATH, CAPSA_A_E_MSG};
  for (int i = 0; i < 3; i++) {
    if (!fields[i]) continue;
    snprintf(cut, sizeof cut, "%s", fields[i]);
    n = put_attr(buf, n, cap, ids[i], cut, (uint32_t)strlen(cut) + 1);
  }
  n = put_attr(buf, n, cap, CAPSA_A_E_ERRNO, &e, 4);
  if (n > cap) _exit(1);
  send_msg(type, buf, (uint32_t)n);
}

/* Waits for one message of the given type; any other, or EOF, is fatal. */
void expect(uint16_t type, struct msg *out) {
  struct msg m;
  int r = msg_recv(sync_fd, &m);
  if (r < 0) fail("sync", NULL, -r, "reading message %u from the parent", type);
  if (m.type != type) fail("sync", NULL, EPROTO, "expected message %u, got %u", type, m.type);
  if (out)
    *out = m;
  else
    msg_free(&m);
}
