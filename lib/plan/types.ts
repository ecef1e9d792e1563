// The launch plan: everything capsa-init needs, decided in TypeScript before any process
// exists. Plain data; ./encode.ts turns it into the PLAN message.

export interface PlanMount {
  source: string;
  destination: string;
  fstype: string;
  /** MS_* flags for mount(2), without propagation. */
  flags: bigint;
  /** Propagation flags applied after mounting. */
  propagation: bigint;
  data: string;
  /** MOUNT_ATTR_* set / cleared recursively with mount_setattr (rro, rnosuid, ...). */
  attrSet: bigint;
  attrClr: bigint;
  /** tmpcopyup: the tmpfs starts with a copy of the directory it covers. */
  copyUp?: boolean;
}

export interface PlanDevice {
  path: string;
  /** S_IFCHR, S_IFBLK or S_IFIFO | permission bits. */
  mode: number;
  major: number;
  minor: number;
  uid: number;
  gid: number;
  /** Bind the host's node instead of mknod (no mknod in a new user namespace). */
  bind: boolean;
}

export interface PlanHook {
  kind: 'createContainer' | 'startContainer';
  path: string;
  args: string[];
  env: string[];
  timeout: number;
}

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface PlanRlimit {
  type: number;
  soft: bigint;
  hard: bigint;
}

export interface Capabilities {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export interface LaunchPlan {
  mode: 'create' | 'exec';
  parentPid: number;
  /** CLONE_NEW* of the namespaces to create. */
  cloneFlags: number;
  /** Namespaces to join, by path. */
  joins: { type: number; path: string }[];
  /** Written by the parent into /proc/PID/{uid,gid}_map when a user namespace is created. */
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  timeOffsets?: string;
  rootfs?: string;
  rootfsPropagation: bigint;
  readonlyRoot: boolean;
  noPivot: boolean;
  mounts: PlanMount[];
  devices: PlanDevice[];
  symlinks: { target: string; path: string }[];
  maskedPaths: string[];
  readonlyPaths: string[];
  hostname?: string;
  domainname?: string;
  /** Path relative to /proc/sys, and value. */
  sysctls: { path: string; value: string }[];
  rlimits: PlanRlimit[];
  oomScoreAdj?: number;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask?: number;
  cwd: string;
  env: string[];
  args: string[];
  caps: Capabilities;
  noNewPrivileges: boolean;
  seccomp?: { program: Buffer; flags: number; listenerPath?: string };
  terminal: boolean;
  consoleSocket?: string;
  consoleSize?: { width: number; height: number };
  stateDir?: string;
  hooks: PlanHook[];
  sessionKeyring?: string;
  personality?: number;
  ioprio?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
  mountLabel?: string;
}
