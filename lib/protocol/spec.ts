/**
 * The parent ↔ capsa-init protocol. This file is its only description: the C header
 * native/gen/protocol.h is generated from it (scripts/gen-protocol.ts), so the two sides
 * cannot drift apart.
 *
 * Transport: a SOCK_STREAM socketpair. capsa-init gets its end as fd `3 + preserveFds`
 * (named in the environment as _CAPSA_SYNC_FD); the container process inherits it until it
 * reports READY.
 *
 * Framing (host byte order, every field checked by the reader):
 *   message := header attr*
 *   header  := magic u32 | version u16 | type u16 | length u32 | reserved u32   (16 bytes)
 *              `length` counts the bytes after the header, at most MAX_MESSAGE.
 *   attr    := type u16 | reserved u16 | length u32 | payload[length] | zero pad to 4
 *              `length` must fit in what is left of the message and match the attribute's
 *              kind: u32 = 4 bytes, u64/i64 = 8, str = at least 1 byte ending in the only
 *              NUL, bytes = anything, nest = a well-formed attr list of its own.
 * Repeated attributes form lists, in order (ARG, ENV, MOUNT, ...).
 *
 * Conversation for `create` (exec is the same without the rootfs steps):
 *   parent                                   capsa-init (stage 0, then the container process)
 *   spawn, put in cgroup, PLAN       →
 *                                            join namespaces, unshare(user)
 *                                    ←       MAPS_REQUEST{PID}      (only for a new user ns)
 *   write uid_map/gid_map, MAPS_DONE →
 *                                            unshare(rest), fork the container process
 *                                    ←       PID{PID}, stage 0 exits
 *   reap stage 0, CONTINUE{SECCOMP_STATE} →  (container process) set PDEATHSIG, check ppid
 *                                            mounts, devices
 *                                    ←       HOOKS_REQUEST          (only with hooks)
 *   prestart + createRuntime hooks,
 *   HOOKS_DONE{STATE_JSON}           →       createContainer hooks, pivot_root, the rest
 *                                    ←       READY
 *   write state.json and pid file,
 *   COMMIT                           →       clear PDEATHSIG, close the socket, block on the
 *   (then wait until it closes)              exec fifo until `start`
 * With SECCOMP_LISTENER, stage 0 connects to that socket before it enters any namespace; once
 * the filter is loaded (with SECCOMP_FILTER_FLAG_NEW_LISTENER) the container process sends
 * the listener fd (SCM_RIGHTS) and SECCOMP_STATE, the container process state of
 * config-linux.md, in one sendmsg on that connection, and closes it.
 * Any step may instead answer ERROR{STEP, PATH, ERRNO, MSG}, after which init exits.
 */

export const MAGIC = 0x41535043; // "CPSA" in little-endian bytes
export const VERSION = 1;
export const HEADER_SIZE = 16;
export const ATTR_HEADER_SIZE = 8;
/** Upper bound on any message, so a corrupt length can never make either side allocate wildly. */
export const MAX_MESSAGE = 16 << 20;
/** Upper bound on nesting (MOUNT and friends are one level deep). */
export const MAX_DEPTH = 2;

export const Msg = {
  PLAN: 1,
  MAPS_REQUEST: 2,
  MAPS_DONE: 3,
  PID: 4,
  CONTINUE: 5,
  HOOKS_REQUEST: 6,
  HOOKS_DONE: 7,
  READY: 8,
  COMMIT: 9,
  ERROR: 10,
  WARNING: 11,
} as const;

export type Kind = 'u32' | 'u64' | 'i64' | 'str' | 'bytes' | 'nest';

interface AttrDef {
  id: number;
  kind: Kind;
  doc: string;
}

/** Every attribute, in every message. Ids are unique across messages and never reused. */
export const Attr = {
  // PLAN, top level
  MODE: { id: 1, kind: 'u32', doc: 'Mode.CREATE or Mode.EXEC' },
  PARENT_PID: { id: 2, kind: 'u32', doc: 'pid of the capsa parent; the container process checks it after CONTINUE' },
  CLONE_FLAGS: { id: 3, kind: 'u64', doc: 'CLONE_NEW* flags of the namespaces to create' },
  NS_JOIN: { id: 4, kind: 'nest', doc: 'a namespace to join: NS_TYPE, NS_PATH' },
  TIME_OFFSETS: { id: 5, kind: 'str', doc: 'text written to /proc/self/timens_offsets' },
  ROOTFS: { id: 6, kind: 'str', doc: 'absolute host path of the root filesystem' },
  ROOTFS_PROPAGATION: { id: 7, kind: 'u64', doc: 'propagation flags for / of the new mount namespace' },
  ROOTFS_READONLY: { id: 8, kind: 'u32', doc: '1: remount the root read-only at the end' },
  NO_PIVOT: { id: 9, kind: 'u32', doc: '1: MS_MOVE + chroot instead of pivot_root' },
  MOUNT: { id: 10, kind: 'nest', doc: 'a mount, in order: M_*' },
  DEVICE: { id: 11, kind: 'nest', doc: 'a device node: D_*' },
  SYMLINK: { id: 12, kind: 'nest', doc: 'a symlink in the rootfs: L_TARGET, L_PATH' },
  MASKED_PATH: { id: 13, kind: 'str', doc: 'a path to mask' },
  READONLY_PATH: { id: 14, kind: 'str', doc: 'a path to make read-only' },
  HOSTNAME: { id: 15, kind: 'str', doc: 'hostname' },
  DOMAINNAME: { id: 16, kind: 'str', doc: 'domainname' },
  SYSCTL: { id: 17, kind: 'nest', doc: 'a sysctl: S_PATH (relative to /proc/sys), S_VALUE' },
  RLIMIT: { id: 18, kind: 'nest', doc: 'an rlimit: R_TYPE, R_SOFT, R_HARD' },
  OOM_SCORE_ADJ: { id: 19, kind: 'i64', doc: 'oom_score_adj, when set' },
  UID: { id: 20, kind: 'u32', doc: 'uid of the process' },
  GID: { id: 21, kind: 'u32', doc: 'gid of the process' },
  ADDITIONAL_GID: { id: 22, kind: 'u32', doc: 'a supplementary group' },
  UMASK: { id: 23, kind: 'u32', doc: 'umask, when set' },
  CWD: { id: 24, kind: 'str', doc: 'working directory inside the container' },
  ENV: { id: 25, kind: 'str', doc: 'an environment entry KEY=value' },
  ARG: { id: 26, kind: 'str', doc: 'an argv entry; the first is resolved through PATH' },
  CAP_BOUNDING: { id: 27, kind: 'u64', doc: 'capability mask' },
  CAP_EFFECTIVE: { id: 28, kind: 'u64', doc: 'capability mask' },
  CAP_PERMITTED: { id: 29, kind: 'u64', doc: 'capability mask' },
  CAP_INHERITABLE: { id: 30, kind: 'u64', doc: 'capability mask' },
  CAP_AMBIENT: { id: 31, kind: 'u64', doc: 'capability mask' },
  NO_NEW_PRIVS: { id: 32, kind: 'u32', doc: '1: PR_SET_NO_NEW_PRIVS' },
  SECCOMP_PROG: { id: 33, kind: 'bytes', doc: 'struct sock_filter[] compiled by the parent' },
  SECCOMP_FLAGS: { id: 34, kind: 'u32', doc: 'SECCOMP_FILTER_FLAG_* for seccomp(2)' },
  TERMINAL: { id: 35, kind: 'u32', doc: '1: make a pty, send its master to CONSOLE_SOCKET' },
  CONSOLE_SOCKET: { id: 36, kind: 'str', doc: 'unix socket path (runtime namespace) for the pty master' },
  CONSOLE_WIDTH: { id: 37, kind: 'u32', doc: 'columns of the pty' },
  CONSOLE_HEIGHT: { id: 38, kind: 'u32', doc: 'rows of the pty' },
  STATE_DIR: { id: 39, kind: 'str', doc: 'the container state directory, holding exec.fifo' },
  HOOK: { id: 40, kind: 'nest', doc: 'a hook run by init: H_KIND, H_PATH, H_ARG*, H_ENV*, H_TIMEOUT' },
  SESSION_KEYRING: { id: 41, kind: 'str', doc: 'name of a new session keyring to join, when set' },
  PERSONALITY: { id: 42, kind: 'u32', doc: 'personality(2) domain, when set' },
  APPARMOR_PROFILE: { id: 43, kind: 'str', doc: 'AppArmor profile to exec under' },
  SELINUX_LABEL: { id: 44, kind: 'str', doc: 'SELinux label to exec under' },
  MOUNT_LABEL: { id: 45, kind: 'str', doc: 'SELinux context for mounts' },
  SECCOMP_LISTENER: { id: 46, kind: 'str', doc: 'unix socket path that receives the seccomp notify fd' },
  IOPRIO: { id: 47, kind: 'u32', doc: 'ioprio_set value (class << 13 | level), when set' },

  // NS_JOIN
  NS_TYPE: { id: 60, kind: 'u32', doc: 'CLONE_NEW* flag of the namespace' },
  NS_PATH: { id: 61, kind: 'str', doc: 'path of the namespace file, opened before any setns' },

  // MOUNT
  M_SOURCE: { id: 70, kind: 'str', doc: 'source; host path for binds' },
  M_DEST: { id: 71, kind: 'str', doc: 'absolute destination inside the rootfs' },
  M_FSTYPE: { id: 72, kind: 'str', doc: 'filesystem type (empty for binds)' },
  M_FLAGS: { id: 73, kind: 'u64', doc: 'MS_* flags for mount(2)' },
  M_PROPAGATION: { id: 74, kind: 'u64', doc: 'propagation flags, applied after the mount' },
  M_DATA: { id: 75, kind: 'str', doc: 'filesystem data (comma-separated options)' },
  M_ATTR_SET: { id: 76, kind: 'u64', doc: 'MOUNT_ATTR_* to set recursively (rro, rnosuid, ...)' },
  M_ATTR_CLR: { id: 77, kind: 'u64', doc: 'MOUNT_ATTR_* to clear recursively' },
  M_COPYUP: { id: 78, kind: 'u32', doc: '1: the tmpfs starts with a copy of the directory it covers (tmpcopyup)' },

  // DEVICE
  D_PATH: { id: 80, kind: 'str', doc: 'absolute path inside the container' },
  D_MODE: { id: 81, kind: 'u32', doc: 'S_IFCHR/S_IFBLK/S_IFIFO | permission bits' },
  D_MAJOR: { id: 82, kind: 'u64', doc: 'major number' },
  D_MINOR: { id: 83, kind: 'u64', doc: 'minor number' },
  D_UID: { id: 84, kind: 'u32', doc: 'owner' },
  D_GID: { id: 85, kind: 'u32', doc: 'group' },
  D_BIND: { id: 86, kind: 'u32', doc: '1: bind-mount the host node instead of mknod (user namespaces)' },

  // SYMLINK
  L_TARGET: { id: 90, kind: 'str', doc: 'what the link points to' },
  L_PATH: { id: 91, kind: 'str', doc: 'absolute path of the link inside the container' },

  // SYSCTL
  S_PATH: { id: 95, kind: 'str', doc: 'path relative to /proc/sys' },
  S_VALUE: { id: 96, kind: 'str', doc: 'value' },

  // RLIMIT
  R_TYPE: { id: 100, kind: 'u32', doc: 'RLIMIT_* number' },
  R_SOFT: { id: 101, kind: 'u64', doc: 'soft limit' },
  R_HARD: { id: 102, kind: 'u64', doc: 'hard limit' },

  // HOOK
  H_KIND: { id: 110, kind: 'u32', doc: 'HookKind' },
  H_PATH: { id: 111, kind: 'str', doc: 'absolute path of the hook' },
  H_ARG: { id: 112, kind: 'str', doc: 'argv entry' },
  H_ENV: { id: 113, kind: 'str', doc: 'environment entry' },
  H_TIMEOUT: { id: 114, kind: 'u32', doc: 'seconds; 0 = none' },

  // MAPS_REQUEST, PID
  PID: { id: 120, kind: 'u32', doc: 'a pid in the runtime pid namespace' },
  // HOOKS_DONE
  STATE_JSON: { id: 121, kind: 'str', doc: 'the state document given to hooks on stdin' },
  // CONTINUE
  SECCOMP_STATE: { id: 122, kind: 'str', doc: 'the container process state (JSON) for the seccomp agent, with SECCOMP_LISTENER' },
  // ERROR, WARNING
  E_STEP: { id: 130, kind: 'str', doc: 'the setup step that failed' },
  E_PATH: { id: 131, kind: 'str', doc: 'the path or value it failed on' },
  E_ERRNO: { id: 132, kind: 'u32', doc: 'errno, 0 if none' },
  E_MSG: { id: 133, kind: 'str', doc: 'extra detail' },
} as const satisfies Record<string, AttrDef>;

export type AttrName = keyof typeof Attr;

export const Mode = { CREATE: 1, EXEC: 2 } as const;
export const HookKind = { CREATE_CONTAINER: 1, START_CONTAINER: 2 } as const;

/** Bytes written into exec.fifo by the container process once `start` opened it. */
export const FIFO_OK = 0x30; // '0': startContainer hooks ran; EOF follows at execve
export const FIFO_ERR = 0x45; // 'E': followed by an error text; the process exits
