// config.json → launch plan. Pure: everything about the host that matters arrives in the
// context, so the whole policy is unit-tested without root.
import { CapsaError } from '../errors';
import { CAPABILITIES, NAMESPACE_FLAGS, RLIMITS } from '../spec/names';
import { sysctlComponents } from '../spec/semantic';
import { u64, type LinuxCapabilities, type LinuxSeccomp, type Process, type Spec } from '../spec/types';
import { DEV_SYMLINKS, hostDev, planDevices } from './devices';
import { MS, labelMount, planMount, propagationFlags } from './mounts';
import type { Capabilities, LaunchPlan, PlanHook, PlanMount } from './types';

export interface PlanContext {
  id: string;
  /** Absolute bundle directory. */
  bundle: string;
  /** Absolute, symlink-free rootfs path. */
  rootfs: string;
  stateDir: string;
  parentPid: number;
  noPivot: boolean;
  noNewKeyring: boolean;
  consoleSocket?: string;
  /** Compiles linux.seccomp (through libseccomp in the addon). */
  compileSeccomp(s: LinuxSeccomp): { program: Buffer; flags: number };
  /** Expands a mount of type "cgroup" into what this host needs (see lib/cgroups). */
  cgroupMounts(m: PlanMount, cgroupns: boolean): PlanMount[];
  /** The runtime's environment: createContainer hooks without an `env` get it. */
  hookEnv?: string[];
}

export const CLONE_NEWUSER = NAMESPACE_FLAGS.user;

export const PERSONALITY: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };
const IOPRIO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

function capMask(names: string[] | undefined): bigint {
  let mask = 0n;
  for (const n of names ?? []) mask |= 1n << BigInt(CAPABILITIES[n]);
  return mask;
}

export function planCaps(c: LinuxCapabilities | undefined): Capabilities {
  return {
    bounding: capMask(c?.bounding),
    effective: capMask(c?.effective),
    permitted: capMask(c?.permitted),
    inheritable: capMask(c?.inheritable),
    ambient: capMask(c?.ambient),
  };
}

/** The settings of a process, shared by create and exec. */
export function planProcess(p: Process) {
  return {
    uid: p.user.uid,
    gid: p.user.gid,
    additionalGids: p.user.additionalGids ?? [],
    umask: p.user.umask,
    cwd: p.cwd,
    env: p.env ?? [],
    args: p.args ?? [],
    caps: planCaps(p.capabilities),
    noNewPrivileges: p.noNewPrivileges ?? false,
    rlimits: (p.rlimits ?? []).map((r) => ({ type: RLIMITS[r.type], soft: u64(r.soft), hard: u64(r.hard) })),
    oomScoreAdj: p.oomScoreAdj,
    terminal: p.terminal ?? false,
    consoleSize: p.consoleSize,
    ioprio: p.ioPriority ? (IOPRIO_CLASS[p.ioPriority.class] << 13) | p.ioPriority.priority : undefined,
    // As in Go's specs, an empty string means unset.
    apparmorProfile: p.apparmorProfile || undefined,
    selinuxLabel: p.selinuxLabel || undefined,
  };
}

/** The hooks capsa-init runs. Without an `env` of their own they get what runc gives them:
 *  createContainer the runtime's environment, startContainer the container process's. */
function planHooks(config: Spec, hookEnv: string[]): PlanHook[] {
  const out: PlanHook[] = [];
  for (const kind of ['createContainer', 'startContainer'] as const)
    for (const h of config.hooks?.[kind] ?? []) {
      const env = h.env ?? (kind === 'startContainer' ? (config.process?.env ?? []) : hookEnv);
      out.push({ kind, path: h.path, args: h.args?.length ? h.args : [h.path], env, timeout: h.timeout ?? 0 });
    }
  return out;
}

function timeOffsets(config: Spec): string | undefined {
  const t = config.linux?.timeOffsets;
  if (!t) return undefined;
  return Object.entries(t)
    .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
    .join('');
}

/** net.ipv4.ip_forward → net/ipv4/ip_forward (both spellings, as runc), refusing anything
 *  that would leave /proc/sys. */
export function sysctlPath(key: string): string {
  const parts = sysctlComponents(key);
  if (!parts) throw new CapsaError('config.json', 'is not a valid sysctl name', `/linux/sysctl/${key}`);
  return parts.join('/');
}

/** The session keyring create and exec join: runc's name for it, so tools that look for a
 *  container's keyring find it. */
export function sessionKeyring(id: string, noNewKeyring: boolean): string | undefined {
  return noNewKeyring ? undefined : `_ses.${id}`;
}

export function buildPlan(config: Spec, ctx: PlanContext): LaunchPlan {
  const process = config.process;
  if (!process) throw new CapsaError('config.json', 'process is required to create a container', '/process');
  const linux = config.linux ?? {};

  let cloneFlags = 0;
  const joins: LaunchPlan['joins'] = [];
  for (const ns of linux.namespaces ?? []) {
    const flag = NAMESPACE_FLAGS[ns.type];
    if (ns.path) joins.push({ type: flag, path: ns.path });
    else cloneFlags |= flag;
  }
  const hasNs = (type: keyof typeof NAMESPACE_FLAGS) => (linux.namespaces ?? []).some((n) => n.type === type);
  const newUserns = (cloneFlags & CLONE_NEWUSER) !== 0;

  const mounts: PlanMount[] = [];
  (config.mounts ?? []).forEach((m, i) => {
    const pm = labelMount(planMount(m, i, ctx.bundle), linux.mountLabel);
    if (m.type === 'cgroup' || m.type === 'cgroup2') {
      // Read-only unless the config says "rw": a writable cgroupfs lets the container change
      // its own limits, or more (CVE-2023-25809).
      if (!m.options?.includes('rw')) pm.flags |= MS.RDONLY;
      mounts.push(...ctx.cgroupMounts(pm, hasNs('cgroup')));
    } else mounts.push(pm);
  });

  const setupDev = !hostDev(config.mounts ?? []);
  const rootfsPropagation = linux.rootfsPropagation ? propagationFlags(linux.rootfsPropagation) : undefined;
  if (linux.rootfsPropagation && rootfsPropagation === undefined)
    throw new CapsaError('config.json', `"${linux.rootfsPropagation}" is not a propagation type`, '/linux/rootfsPropagation');

  const p = planProcess(process);
  return {
    mode: 'create',
    parentPid: ctx.parentPid,
    cloneFlags,
    joins,
    uidMappings: newUserns ? (linux.uidMappings ?? []) : [],
    gidMappings: newUserns ? (linux.gidMappings ?? []) : [],
    timeOffsets: timeOffsets(config),
    rootfs: ctx.rootfs,
    rootfsPropagation: rootfsPropagation ?? 0n,
    readonlyRoot: config.root?.readonly ?? false,
    noPivot: ctx.noPivot,
    mounts,
    devices: setupDev ? planDevices(linux.devices ?? [], newUserns) : [],
    symlinks: setupDev ? DEV_SYMLINKS : [],
    maskedPaths: linux.maskedPaths ?? [],
    readonlyPaths: linux.readonlyPaths ?? [],
    // As in Go's specs, an empty string means unset.
    hostname: config.hostname || undefined,
    domainname: config.domainname || undefined,
    sysctls: Object.entries(linux.sysctl ?? {}).map(([k, value]) => ({ path: sysctlPath(k), value })),
    ...p,
    seccomp: linux.seccomp ? ctx.compileSeccomp(linux.seccomp) : undefined,
    consoleSocket: p.terminal ? ctx.consoleSocket : undefined,
    stateDir: ctx.stateDir,
    hooks: planHooks(config, ctx.hookEnv ?? []),
    sessionKeyring: sessionKeyring(ctx.id, ctx.noNewKeyring),
    personality: linux.personality ? PERSONALITY[linux.personality.domain] : undefined,
    mountLabel: linux.mountLabel || undefined,
  };
}

