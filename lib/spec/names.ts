// Kernel numbers for the names config.json uses, shared by the validator (is the name known?)
// and the plan builder (what number does it become?). x86_64 / asm-generic values.

/** Namespace types in the order config-linux.md lists them. */
export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

/** Namespace type → CLONE_NEW* flag (clone(2), unshare(2), setns(2)). */
export const NAMESPACE_FLAGS: Readonly<Record<NamespaceType, number>> = Object.freeze({
  pid: 0x20000000,
  network: 0x40000000,
  mount: 0x00020000,
  ipc: 0x08000000,
  uts: 0x04000000,
  user: 0x10000000,
  cgroup: 0x02000000,
  time: 0x00000080,
});

/** Namespace type → file name under /proc/PID/ns/. */
export const NAMESPACE_PROC_NAMES: Readonly<Record<NamespaceType, string>> = Object.freeze({
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
});

/**
 * Capability name → bit number (linux/capability.h), in bit order. Indexing with an arbitrary
 * string is typed as possible, so look names up with capabilityBit() unless the validator has
 * already accepted them.
 */
export const CAPABILITIES: Readonly<Record<string, number>> = Object.freeze({
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
});

/** linux.devices type → the file type bits of its node (S_IFCHR, S_IFBLK, S_IFIFO). */
export const DEVICE_TYPE_BITS: Readonly<Record<string, number>> = Object.freeze({ c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 });

/** The highest capability bit capsa knows (CAP_LAST_CAP of the headers it was written against). */
export const CAP_LAST_CAP = 40;

/** RLIMIT_* name → resource number for getrlimit(2)/prlimit(2) on Linux x86_64. */
export const RLIMITS: Readonly<Record<string, number>> = Object.freeze({
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
});

// Object.hasOwn, so that "constructor" or "__proto__" never look like known names.
export function capabilityBit(name: string): number | undefined {
  return Object.hasOwn(CAPABILITIES, name) ? CAPABILITIES[name] : undefined;
}

export function rlimitResource(name: string): number | undefined {
  return Object.hasOwn(RLIMITS, name) ? RLIMITS[name] : undefined;
}

// The schema's string patterns and how problems describe a value that fails one ("<value>
// <text>"). Here rather than in schema.ts because lib/spec/validate.ts needs the texts at
// run time, and schema.ts (TypeBox) is a build-time module.

/**
 * No NUL byte: every string that reaches a system call or capsa-init goes through C. The
 * build turns these patterns into a table walked only when a document contains a NUL at
 * all (see scripts/gen-validator.ts), so valid documents do not pay a regex per string.
 */
export const NO_NUL = '^[^\\u0000]*$';
/** SemVer 2.0.0, as semver.org gives it. */
export const SEMVER =
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)' +
  '(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?' +
  '(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$';
export const RLIMIT_NAME = '^RLIMIT_[A-Z]+$';
export const PAGE_SIZE = '^[1-9][0-9]*[KMG]B$';
export const CPU_LIST_CHARS = '^[0-9, -]*$';
export const MB_SCHEMA = '^MB:[^\\n]*$';
export const ONE_LINE = '^[^\\n\\u0000]*$';
export const DEVICE_ACCESS = '^[rwm]*$';

export const PATTERN_TEXT: Readonly<Record<string, string>> = Object.freeze({
  [NO_NUL]: 'must not contain a NUL byte',
  [SEMVER]: 'is not a SemVer 2.0.0 version such as "1.0.2"',
  [RLIMIT_NAME]: 'is not an RLIMIT_* name',
  [PAGE_SIZE]: 'is not a page size such as 64KB, 2MB or 1GB',
  [CPU_LIST_CHARS]: 'is not a CPU list such as 0-3,7',
  [MB_SCHEMA]: 'must start with "MB:" and be a single line',
  [ONE_LINE]: 'must be a single line without NUL bytes',
  [DEVICE_ACCESS]: 'must be a combination of r, w and m',
});
