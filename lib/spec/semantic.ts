// Checks a JSON Schema cannot express: rules between fields (a hostname needs a uts
// namespace), the spec's MUSTs on values (absolute paths, no duplicate namespaces or rlimits),
// and kernel limits that would otherwise surface as a bare EINVAL deep inside capsa-init.
// Each check reads only parts of the document that passed the schema (`clean`), so it can
// trust their types; a document that failed the schema somewhere is still checked elsewhere.
import { capabilityBit, DEVICE_TYPE_BITS, rlimitResource, type NamespaceType } from './names';
import type {
  LinuxDevice,
  LinuxIDMapping,
  LinuxNamespace,
  LinuxResources,
  LinuxSeccomp,
  Mount,
  Process,
  Spec,
} from './types';
import type { Problem } from './validate';

/** Where the schema found problems, as semantic checks need to know it. */
export interface Guard {
  /** No schema problem at, under or above the pointer: the whole subtree has its types. */
  clean(pointer: string): boolean;
  /** No schema problem at or above the pointer: the value itself has its type. */
  usable(pointer: string): boolean;
}

export const escapePointer = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/** A value as problems name it: primitives as JSON (long strings cut), containers by kind. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? v.slice(0, 77) + '...' : v);
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

class Report {
  readonly problems: Problem[] = [];
  constructor(private readonly guard: Guard) {}
  clean(pointer: string): boolean {
    return this.guard.clean(pointer);
  }
  usable(pointer: string): boolean {
    return this.guard.usable(pointer);
  }
  add(pointer: string, reason: string): void {
    this.problems.push({ pointer, reason });
  }
}

const at = (base: string, ...keys: (string | number)[]) =>
  base + keys.map((k) => '/' + (typeof k === 'number' ? String(k) : escapePointer(k))).join('');

// --------------------------------------------------------------------------------- config

export function checkConfig(spec: Spec, guard: Guard, requireProcess: boolean): Problem[] {
  const r = new Report(guard);
  if (!guard.usable('')) return r.problems;
  const clean = (p: string) => guard.clean(p);
  const ns = new Namespaces(spec, clean);

  if (clean('/ociVersion')) {
    const major = Number(spec.ociVersion.split('.')[0]);
    if (major > 1) r.add('/ociVersion', `${describe(spec.ociVersion)} is not supported: capsa implements runtime-spec 1.x`);
  }
  if (spec.process === undefined) {
    if (requireProcess) r.add('/process', 'is required to create a container');
  } else {
    r.problems.push(...checkProcess(spec.process, '/process', guard));
  }
  if (clean('/root/path') && spec.root.path === '') r.add('/root/path', 'must not be empty');

  for (const field of ['hostname', 'domainname'] as const) {
    const name = spec[field];
    if (!name || !clean(`/${field}`)) continue;
    if (Buffer.byteLength(name) > 64) r.add(`/${field}`, `${describe(name)} is longer than 64 bytes, the kernel's limit`);
    if (ns.known && !ns.has('uts')) r.add(`/${field}`, 'needs a uts namespace in /linux/namespaces');
  }

  if (spec.mounts && clean('/mounts')) checkMounts(r, spec.mounts, ns);
  if (spec.hooks && r.usable('/hooks'))
    for (const kind of HOOK_KINDS) {
      if (!clean(`/hooks/${kind}`)) continue;
      (spec.hooks[kind] ?? []).forEach((h, i) => {
        absolute(r, `/hooks/${kind}/${i}/path`, h.path);
        envList(r, `/hooks/${kind}/${i}/env`, h.env);
      });
    }
  if (spec.annotations && clean('/annotations') && Object.hasOwn(spec.annotations, ''))
    r.add('/annotations/', 'annotation keys must not be empty');

  if (spec.linux && r.usable('/linux')) checkLinux(r, spec, ns);
  return r.problems;
}

const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

/** The namespaces the config asks for, when that list passed the schema. */
class Namespaces {
  readonly known: boolean;
  private readonly list: LinuxNamespace[];
  constructor(spec: Spec, clean: (pointer: string) => boolean) {
    this.known = clean('/linux/namespaces');
    this.list = this.known ? (spec.linux?.namespaces ?? []) : [];
  }
  get(type: NamespaceType): LinuxNamespace | undefined {
    return this.list.find((n) => n.type === type);
  }
  has(type: NamespaceType): boolean {
    return this.get(type) !== undefined;
  }
  /** Created by capsa rather than joined by path ("" means no path, as in Go). */
  isNew(type: NamespaceType): boolean {
    const n = this.get(type);
    return n !== undefined && !n.path;
  }
  isJoined(type: NamespaceType): boolean {
    return !!this.get(type)?.path;
  }
}

// One small function per property: V8 compiles a function the first time it runs, and
// validation runs once per process, so checks for absent properties should cost nothing.
type LinuxCheck = (r: Report, spec: Spec, ns: Namespaces) => void;
type LinuxKey = keyof NonNullable<Spec['linux']>;

function checkLinux(r: Report, spec: Spec, ns: Namespaces): void {
  const linux = spec.linux!;
  if (linux.namespaces && r.usable('/linux/namespaces')) checkNamespaces(r, linux.namespaces);
  checkUserNamespace(r, spec, ns);
  for (const [key, check] of LINUX_CHECKS) if (linux[key] !== undefined && r.clean(`/linux/${key}`)) check(r, spec, ns);
}

const LINUX_CHECKS: [LinuxKey, LinuxCheck][] = [
  ['sysctl', checkSysctls],
  ['devices', (r, spec) => checkDevices(r, spec.linux!.devices!)],
  ['resources', (r, spec) => checkResources(r, spec.linux!.resources!)],
  ['seccomp', (r, spec) => checkSeccomp(r, spec.linux!.seccomp!)],
  ['maskedPaths', (r, spec) => checkPathList(r, spec, 'maskedPaths')],
  ['readonlyPaths', (r, spec) => checkPathList(r, spec, 'readonlyPaths')],
  ['cgroupsPath', checkCgroupsPath],
  ['timeOffsets', checkTimeOffsets],
  ['personality', checkPersonality],
  ['intelRdt', checkIntelRdt],
  ['memoryPolicy', checkMemoryPolicy],
  ['netDevices', checkNetDevices],
];

function checkUserNamespace(r: Report, spec: Spec, ns: Namespaces): void {
  for (const kind of ['uidMappings', 'gidMappings'] as const) {
    const maps = spec.linux![kind];
    if (!r.clean(`/linux/${kind}`)) continue;
    if (maps?.length) checkMappings(r, `/linux/${kind}`, maps);
    if (!ns.known) continue;
    if (ns.isNew('user') && !maps?.length) r.add(`/linux/${kind}`, 'is required with a new user namespace');
    if (!ns.has('user') && maps?.length) r.add(`/linux/${kind}`, 'needs a user namespace in /linux/namespaces');
  }
}

// Without a mount namespace of its own the container shares the runtime's: masks and
// read-only remounts are then made there, under the rootfs, and removed by delete.
function checkPathList(r: Report, spec: Spec, kind: 'maskedPaths' | 'readonlyPaths'): void {
  spec.linux![kind]!.forEach((p, i) => containerPath(r, `/linux/${kind}/${i}`, p));
}

function checkCgroupsPath(r: Report, spec: Spec): void {
  const path = spec.linux!.cgroupsPath!;
  if (path.split(/[/:]/).includes('..')) r.add('/linux/cgroupsPath', `${describe(path)} must not contain ".." components`);
}

function checkTimeOffsets(r: Report, spec: Spec, ns: Namespaces): void {
  const offsets = spec.linux!.timeOffsets!;
  if (!Object.keys(offsets).length) return;
  if (ns.known && !ns.has('time')) r.add('/linux/timeOffsets', 'needs a time namespace in /linux/namespaces');
  // The kernel takes offsets only before the first process enters the namespace.
  if (ns.known && ns.isJoined('time')) r.add('/linux/timeOffsets', 'cannot be set for a joined time namespace');
  for (const [clock, o] of Object.entries(offsets)) {
    if (clock !== 'monotonic' && clock !== 'boottime')
      r.add(at('/linux/timeOffsets', clock), `${describe(clock)} is not a clock a time namespace offsets (monotonic, boottime)`);
    if (o.nanosecs !== undefined && o.nanosecs > 999_999_999)
      r.add(at('/linux/timeOffsets', clock, 'nanosecs'), `must be <= 999999999, not ${o.nanosecs}`);
  }
}

function checkPersonality(r: Report, spec: Spec): void {
  (spec.linux!.personality!.flags ?? []).forEach((f, i) =>
    r.add(`/linux/personality/flags/${i}`, `${describe(f)} is not supported: runtime-spec 1.3 defines no personality flags`),
  );
}

function checkIntelRdt(r: Report, spec: Spec): void {
  const rdt = spec.linux!.intelRdt!;
  const id = rdt.closID;
  // "/" is the default CLOS (1.3); anything else names one directory of resctrl.
  if (id !== undefined && id !== '/' && (id === '' || id === '.' || id === '..' || id.includes('/') || /\s/.test(id)))
    r.add('/linux/intelRdt/closID', `${describe(id)} is not a resctrl group name`);
  if (rdt.l3CacheSchema?.includes('\n')) r.add('/linux/intelRdt/l3CacheSchema', 'must be a single line');
}

// set_mempolicy(2): which modes take nodes, and which flags combine.
function checkMemoryPolicy(r: Report, spec: Spec): void {
  const mp = spec.linux!.memoryPolicy!;
  const nodes = (mp.nodes ?? '').trim();
  if (nodes !== '') cpuList(r, '/linux/memoryPolicy/nodes', nodes);
  if ((mp.mode === 'MPOL_DEFAULT' || mp.mode === 'MPOL_LOCAL') && nodes !== '')
    r.add('/linux/memoryPolicy/nodes', `must be empty with ${mp.mode}`);
  const needNodes = ['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY'];
  if (needNodes.includes(mp.mode) && nodes === '') r.add('/linux/memoryPolicy/nodes', `is required with ${mp.mode}`);
  const flags = mp.flags ?? [];
  const i = flags.indexOf('MPOL_F_RELATIVE_NODES');
  if (i >= 0 && flags.includes('MPOL_F_STATIC_NODES'))
    r.add(`/linux/memoryPolicy/flags/${i}`, 'MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES exclude each other');
}

// Without a network namespace there is nowhere to move a device to, but the spec's own
// schema vector (linux-netdevice.json) is valid without one: that is left to `create`.
function checkNetDevices(r: Report, spec: Spec): void {
  const names = new Map<string, string>();
  for (const [host, d] of Object.entries(spec.linux!.netDevices!)) {
    const p = at('/linux/netDevices', host);
    if (!ifName(host)) r.add(p, `${describe(host)} is not a network interface name`);
    const name = d.name || host;
    if (d.name && !ifName(d.name, true)) r.add(`${p}/name`, `${describe(d.name)} is not a network interface name`);
    if (name.includes('%d')) continue;
    const first = names.get(name);
    if (first !== undefined) r.add(p, `moves a second device to the name ${describe(name)} (also ${first})`);
    else names.set(name, p);
  }
}

// Entry by entry, so that one misspelt type does not hide a duplicate elsewhere.
function checkNamespaces(r: Report, list: LinuxNamespace[]): void {
  const seen = new Map<string, number>();
  list.forEach((n, i) => {
    if (!r.clean(`/linux/namespaces/${i}`)) return;
    const first = seen.get(n.type);
    if (first !== undefined) r.add(`/linux/namespaces/${i}/type`, `${describe(n.type)} is listed twice (also /linux/namespaces/${first})`);
    else seen.set(n.type, i);
    if (n.path) absolute(r, `/linux/namespaces/${i}/path`, n.path);
  });
}

// The kernel's rules for uid_map/gid_map (user_namespaces(7)): non-empty ranges inside
// 32 bits, neither the container nor the host ranges overlapping, at most 340 lines.
function checkMappings(r: Report, base: string, maps: LinuxIDMapping[]): void {
  if (maps.length > 340) r.add(base, `has ${maps.length} entries; Linux accepts at most 340`);
  maps.forEach((m, i) => {
    if (m.size === 0) return r.add(`${base}/${i}/size`, 'must be at least 1: an empty mapping maps nothing');
    if (m.containerID + m.size > 2 ** 32) r.add(`${base}/${i}`, 'maps container ids beyond 4294967295');
    if (m.hostID + m.size > 2 ** 32) r.add(`${base}/${i}`, 'maps host ids beyond 4294967295');
    for (let j = 0; j < i; j++) {
      const o = maps[j];
      if (o.size === 0) continue;
      if (m.containerID < o.containerID + o.size && o.containerID < m.containerID + m.size)
        r.add(`${base}/${i}`, `container ids overlap ${base}/${j}`);
      if (m.hostID < o.hostID + o.size && o.hostID < m.hostID + m.size) r.add(`${base}/${i}`, `host ids overlap ${base}/${j}`);
    }
  });
}

function checkMounts(r: Report, mounts: Mount[], ns: Namespaces): void {
  mounts.forEach((m, i) => {
    const p = `/mounts/${i}`;
    if (m.destination === '') r.add(`${p}/destination`, 'must not be empty');
    // Relative destinations are deprecated but allowed (config.md): they mean relative to "/".
    else if (hasDotDot(m.destination)) r.add(`${p}/destination`, `${describe(m.destination)} must not contain ".." components`);
    const opts = m.options ?? [];
    const bind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
    if (bind && !m.source) r.add(`${p}/source`, 'is required for a bind mount');
    const uid = m.uidMappings;
    const gid = m.gidMappings;
    if (uid !== undefined && gid === undefined) r.add(`${p}/gidMappings`, 'is required with uidMappings');
    if (gid !== undefined && uid === undefined) r.add(`${p}/uidMappings`, 'is required with gidMappings');
    if (uid?.length) checkMappings(r, `${p}/uidMappings`, uid);
    if (gid?.length) checkMappings(r, `${p}/gidMappings`, gid);
    opts.forEach((o, k) => {
      if ((o === 'idmap' || o === 'ridmap') && !uid?.length && !gid?.length && ns.known && !ns.has('user'))
        r.add(`${p}/options/${k}`, `${describe(o)} needs uidMappings and gidMappings on the mount, or a user namespace`);
    });
  });
}

// Which namespace makes a sysctl the container's own (runc's rules, libcontainer/configs/validate).
const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem',
  'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

function checkSysctls(r: Report, spec: Spec, ns: Namespaces): void {
  for (const key of Object.keys(spec.linux!.sysctl!)) {
    const p = at('/linux/sysctl', key);
    const parts = sysctlComponents(key);
    if (!parts) {
      r.add(p, `${describe(key)} is not a valid sysctl name`);
      continue;
    }
    const name = parts.join('.');
    if (!ns.known) continue;
    if (IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.')) {
      if (!ns.has('ipc')) r.add(p, 'needs an ipc namespace in /linux/namespaces: it would change the host');
    } else if (name.startsWith('net.')) {
      if (!ns.has('network')) r.add(p, 'needs a network namespace in /linux/namespaces: it would change the host');
    } else if (name === 'kernel.hostname' || name === 'kernel.domainname') {
      const field = name === 'kernel.hostname' ? 'hostname' : 'domainname';
      if (!ns.has('uts')) r.add(p, 'needs a uts namespace in /linux/namespaces: it would change the host');
      else if (spec[field]) r.add(p, `conflicts with /${field}: set only one of them`);
    } else {
      r.add(p, `${describe(key)} is not namespaced: it would change the host`);
    }
  }
}

/**
 * A sysctl name as the components of its path under /proc/sys, or undefined if it is not a
 * valid name. As sysctl(8) and runc read it: "." separates, and "/" stands for a "." inside a
 * component (net.ipv4.conf.eth0/100.rp_filter); a name whose first separator is "/" is written
 * the other way round (net/ipv4/conf/eth0.100/rp_filter).
 */
export function sysctlComponents(key: string): string[] | undefined {
  const sep = key.search(/[./]/);
  const dotted = sep >= 0 && key[sep] === '/' ? key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.')) : key;
  const parts = dotted.split('.').map((c) => c.replace(/\//g, '.'));
  return parts.every((c) => c !== '' && c !== '.' && c !== '..' && !/[\s\0]/.test(c)) ? parts : undefined;
}

function checkDevices(r: Report, devices: LinuxDevice[]): void {
  const seen = new Map<string, number>();
  devices.forEach((d, i) => {
    const p = `/linux/devices/${i}`;
    if (containerPath(r, `${p}/path`, d.path)) {
      const first = seen.get(d.path);
      if (first !== undefined) r.add(`${p}/path`, `${describe(d.path)} is listed twice (also /linux/devices/${first})`);
      else seen.set(d.path, i);
    }
    // The schema's limit is 0777, but podman (--device, --privileged) adds the node's file
    // type bits, and runc and crun take that: so does capsa, when they are the type's.
    const typeBits = DEVICE_TYPE_BITS[d.type];
    if (d.fileMode !== undefined && d.fileMode > 0o777 && (d.fileMode & ~0o777) !== typeBits)
      r.add(`${p}/fileMode`, `must be <= 511 (0777), or that plus the file type bits of type "${d.type}" (${typeBits}), not ${d.fileMode}`);
    if (d.type === 'p') return;
    // dev_t as mknod(2) takes it: 12 bits of major, 20 of minor.
    if (d.major !== undefined && (d.major < 0 || d.major > 4095)) r.add(`${p}/major`, `must be between 0 and 4095, not ${d.major}`);
    if (d.minor !== undefined && (d.minor < 0 || d.minor > 1048575))
      r.add(`${p}/minor`, `must be between 0 and 1048575, not ${d.minor}`);
  });
}

function checkResources(r: Report, res: LinuxResources): void {
  for (const [key, check] of RESOURCE_CHECKS)
    if (res[key] !== undefined && r.clean(`/linux/resources/${key}`)) check(r, res, '/linux/resources');
}

type ResourceCheck = (r: Report, res: LinuxResources, base: string) => void;
const RESOURCE_CHECKS: [keyof LinuxResources, ResourceCheck][] = [
  ['devices', checkDeviceRules],
  ['memory', checkMemory],
  ['cpu', checkCpu],
  ['blockIO', checkBlockIO],
  ['network', checkNetPriorities],
  ['rdma', checkRdma],
  ['unified', checkUnified],
];

function minusOneOrMore(r: Report, p: string, v: number | undefined, what = 'unlimited'): void {
  if (v !== undefined && v < -1) r.add(p, `must be -1 (${what}) or >= 0, not ${v}`);
}

function checkDeviceRules(r: Report, res: LinuxResources, base: string): void {
  res.devices!.forEach((d, i) => {
    minusOneOrMore(r, `${base}/devices/${i}/major`, d.major, 'any');
    minusOneOrMore(r, `${base}/devices/${i}/minor`, d.minor, 'any');
  });
}

function checkMemory(r: Report, res: LinuxResources, base: string): void {
  const mem = res.memory!;
  for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP'] as const) minusOneOrMore(r, `${base}/memory/${k}`, mem[k]);
  if (mem.limit !== undefined && mem.limit > 0 && mem.swap !== undefined && mem.swap > 0 && mem.swap < mem.limit)
    r.add(`${base}/memory/swap`, `must be >= limit (${mem.limit}): it counts memory and swap together, not ${mem.swap}`);
  // 2^64 is Go's uint64(-1), which Docker sends for "unset" and runc ignores.
  if (mem.swappiness !== undefined && mem.swappiness > 100 && mem.swappiness !== 2 ** 64)
    r.add(`${base}/memory/swappiness`, `must be between 0 and 100, not ${mem.swappiness}`);
}

function checkCpu(r: Report, res: LinuxResources, base: string): void {
  const cpu = res.cpu!;
  if (cpu.quota !== undefined && cpu.quota < -1) r.add(`${base}/cpu/quota`, `must be -1 (unlimited) or > 0, not ${cpu.quota}`);
  if (cpu.burst !== undefined && cpu.quota !== undefined && cpu.quota > 0 && cpu.burst > cpu.quota)
    r.add(`${base}/cpu/burst`, `must not be larger than quota (${cpu.quota}), not ${cpu.burst}`);
  if (cpu.idle !== undefined && cpu.idle !== 0 && cpu.idle !== 1) r.add(`${base}/cpu/idle`, `must be 0 or 1, not ${cpu.idle}`);
  if (cpu.cpus) cpuList(r, `${base}/cpu/cpus`, cpu.cpus);
  if (cpu.mems) cpuList(r, `${base}/cpu/mems`, cpu.mems);
}

function checkBlockIO(r: Report, res: LinuxResources, base: string): void {
  const bio = res.blockIO!;
  (bio.weightDevice ?? []).forEach((d, i) => {
    const p = `${base}/blockIO/weightDevice/${i}`;
    if (d.weight === undefined && d.leafWeight === undefined) r.add(p, 'needs weight or leafWeight');
    blockDevice(r, p, d);
  });
  for (const k of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const)
    (bio[k] ?? []).forEach((d, i) => blockDevice(r, `${base}/blockIO/${k}/${i}`, d));
}

// Names end up in net_prio.ifpriomap lines: a space or newline would write another rule.
function checkNetPriorities(r: Report, res: LinuxResources, base: string): void {
  (res.network!.priorities ?? []).forEach((p, i) => {
    if (!ifName(p.name)) r.add(`${base}/network/priorities/${i}/name`, `${describe(p.name)} is not a network interface name`);
  });
}

function checkRdma(r: Report, res: LinuxResources, base: string): void {
  for (const [dev, limits] of Object.entries(res.rdma!)) {
    const p = at(`${base}/rdma`, dev);
    if (dev === '' || /[\s/]/.test(dev)) r.add(p, `${describe(dev)} is not an RDMA device name`);
    if (limits.hcaHandles === undefined && limits.hcaObjects === undefined) r.add(p, 'needs hcaHandles or hcaObjects');
  }
}

// Keys name files in the container's cgroup directory: nothing that could leave it.
function checkUnified(r: Report, res: LinuxResources, base: string): void {
  for (const key of Object.keys(res.unified!))
    if (!/^[a-z0-9_]+\.[^/\s]+$/i.test(key) || key.split('.').includes(''))
      r.add(at(`${base}/unified`, key), `${describe(key)} is not a cgroup v2 file name such as "memory.max"`);
}

function blockDevice(r: Report, p: string, d: { major: number; minor: number }): void {
  if (d.major < 0) r.add(`${p}/major`, `must be >= 0, not ${d.major}`);
  if (d.minor < 0) r.add(`${p}/minor`, `must be >= 0, not ${d.minor}`);
}

const ERRNO_ACTIONS = ['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE'];

function checkSeccomp(r: Report, s: LinuxSeccomp): void {
  const base = '/linux/seccomp';
  if (s.defaultAction === 'SCMP_ACT_NOTIFY') r.add(`${base}/defaultAction`, 'SCMP_ACT_NOTIFY cannot be the default action');
  if (s.defaultErrnoRet !== undefined && !ERRNO_ACTIONS.includes(s.defaultAction))
    r.add(`${base}/defaultErrnoRet`, `applies only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${s.defaultAction}`);
  if (s.listenerMetadata && !s.listenerPath) r.add(`${base}/listenerMetadata`, 'must not be set without listenerPath');
  const syscalls = s.syscalls ?? [];
  // A path on the host (abstract sockets, "@name", are not paths); ignored without NOTIFY.
  if (s.listenerPath && syscalls.some((c) => c.action === 'SCMP_ACT_NOTIFY')) absolute(r, `${base}/listenerPath`, s.listenerPath);
  if (!s.listenerPath && syscalls.some((c) => c.action === 'SCMP_ACT_NOTIFY'))
    r.add(`${base}/listenerPath`, 'is required when an action is SCMP_ACT_NOTIFY');
  syscalls.forEach((c, i) => {
    const p = `${base}/syscalls/${i}`;
    c.names.forEach((n, j) => {
      if (n === '') r.add(`${p}/names/${j}`, 'must not be empty');
    });
    if (c.errnoRet !== undefined && !ERRNO_ACTIONS.includes(c.action))
      r.add(`${p}/errnoRet`, `applies only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${c.action}`);
    (c.args ?? []).forEach((a, k) => {
      if (a.index > 5) r.add(`${p}/args/${k}/index`, `must be between 0 and 5 (a system call has 6 arguments), not ${a.index}`);
    });
  });
}

// -------------------------------------------------------------------------------- process

/** Checks of a process, at `base` ("/process" in a config, "" in an exec process file). */
export function checkProcess(p: Process, base: string, guard: Guard): Problem[] {
  const r = new Report(guard);
  if (!guard.usable(base)) return r.problems;
  for (const [key, check] of PROCESS_CHECKS)
    if (p[key] !== undefined && r.clean(`${base}/${key}`)) check(r, p, base);
  return r.problems;
}

type ProcessCheck = (r: Report, p: Process, base: string) => void;
const PROCESS_CHECKS: [keyof Process, ProcessCheck][] = [
  ['args', (r, p, base) => {
    if (p.args[0] === '') r.add(`${base}/args/0`, 'must not be empty: it names the program to run');
  }],
  ['cwd', (r, p, base) => absolute(r, `${base}/cwd`, p.cwd)],
  ['env', (r, p, base) => envList(r, `${base}/env`, p.env)],
  ['capabilities', checkCapabilities],
  ['rlimits', checkRlimits],
  ['oomScoreAdj', checkOomScoreAdj],
  ['user', checkUser],
  ['consoleSize', checkConsoleSize],
  ['scheduler', checkScheduler],
  ['ioPriority', checkIOPriority],
  ['execCPUAffinity', checkCPUAffinity],
];

// Unknown names are refused, where runc only warns: a misspelt capability that silently
// goes missing is worse than a clear error.
function checkCapabilities(r: Report, p: Process, base: string): void {
  const c = p.capabilities!;
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const)
    (c[set] ?? []).forEach((n, i) => {
      if (capabilityBit(n) === undefined) r.add(`${base}/capabilities/${set}/${i}`, `${describe(n)} is not a known capability`);
    });
}

function checkRlimits(r: Report, p: Process, base: string): void {
  const seen = new Map<string, number>();
  p.rlimits!.forEach((l, i) => {
    const lp = `${base}/rlimits/${i}`;
    if (rlimitResource(l.type) === undefined) r.add(`${lp}/type`, `${describe(l.type)} is not a Linux resource limit`);
    const first = seen.get(l.type);
    if (first !== undefined) r.add(`${lp}/type`, `${describe(l.type)} is listed twice (also ${base}/rlimits/${first})`);
    else seen.set(l.type, i);
    if (l.soft > l.hard) r.add(`${lp}/soft`, `must not be larger than hard (${l.hard}), not ${l.soft}`);
  });
}

function checkOomScoreAdj(r: Report, p: Process, base: string): void {
  const v = p.oomScoreAdj!;
  if (v < -1000 || v > 1000) r.add(`${base}/oomScoreAdj`, `must be between -1000 and 1000, not ${v}`);
}

function checkUser(r: Report, p: Process, base: string): void {
  if (p.user.umask !== undefined && p.user.umask > 0o777) r.add(`${base}/user/umask`, `must be <= 511 (0777), not ${p.user.umask}`);
  const groups = p.user.additionalGids?.length ?? 0;
  if (groups > 65536) r.add(`${base}/user/additionalGids`, `has ${groups} groups; Linux accepts at most 65536`);
}

// TIOCSWINSZ takes unsigned shorts.
function checkConsoleSize(r: Report, p: Process, base: string): void {
  for (const k of ['height', 'width'] as const)
    if (p.consoleSize![k] > 0xffff) r.add(`${base}/consoleSize/${k}`, `must be <= 65535, not ${p.consoleSize![k]}`);
}

// sched_setattr(2), as runc checks it.
function checkScheduler(r: Report, p: Process, base: string): void {
  const s = p.scheduler!;
  const sp = `${base}/scheduler`;
  if (s.nice !== undefined && (s.nice < -20 || s.nice > 19)) r.add(`${sp}/nice`, `must be between -20 and 19, not ${s.nice}`);
  const realtime = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
  if (realtime && (s.priority ?? 0) < 1) r.add(`${sp}/priority`, `must be between 1 and 99 with ${s.policy}`);
  if (realtime && (s.priority ?? 0) > 99) r.add(`${sp}/priority`, `must be between 1 and 99, not ${s.priority}`);
  if (!realtime && s.priority) r.add(`${sp}/priority`, `applies only to SCHED_FIFO and SCHED_RR, not ${s.policy}`);
  if (s.policy !== 'SCHED_DEADLINE') {
    for (const k of ['runtime', 'deadline', 'period'] as const)
      if (s[k]) r.add(`${sp}/${k}`, `applies only to SCHED_DEADLINE, not ${s.policy}`);
    return;
  }
  const { runtime = 0, deadline = 0, period = 0 } = s;
  if (runtime > deadline) r.add(`${sp}/runtime`, `must not be larger than deadline (${deadline})`);
  if (period && deadline > period) r.add(`${sp}/deadline`, `must not be larger than period (${period})`);
}

function checkIOPriority(r: Report, p: Process, base: string): void {
  const v = p.ioPriority!.priority;
  if (v < 0 || v > 7) r.add(`${base}/ioPriority/priority`, `must be between 0 (highest) and 7 (lowest), not ${v}`);
}

function checkCPUAffinity(r: Report, p: Process, base: string): void {
  for (const k of ['initial', 'final'] as const) {
    const list = p.execCPUAffinity![k];
    if (list) cpuList(r, `${base}/execCPUAffinity/${k}`, list);
  }
}

// -------------------------------------------------------------------------------- helpers

function absolute(r: Report, p: string, path: string): boolean {
  if (path.startsWith('/')) return true;
  r.add(p, path === '' ? 'must not be empty' : `must be an absolute path, not ${describe(path)}`);
  return false;
}

const hasDotDot = (path: string) => path.split('/').includes('..');

/** A path inside the container: absolute, and no ".." that could climb out of the rootfs. */
function containerPath(r: Report, p: string, path: string): boolean {
  if (!absolute(r, p, path)) return false;
  if (!hasDotDot(path)) return true;
  r.add(p, `${describe(path)} must not contain ".." components`);
  return false;
}

function envList(r: Report, p: string, env: string[] | undefined): void {
  (env ?? []).forEach((e, i) => {
    const eq = e.indexOf('=');
    if (eq < 0) r.add(`${p}/${i}`, `${describe(e)} must have the form NAME=value`);
    else if (eq === 0) r.add(`${p}/${i}`, `${describe(e)} has an empty variable name`);
  });
}

/** "0-3,7" as cpusets and set_mempolicy(2) read it, ranges in order, strides allowed. */
function cpuList(r: Report, p: string, list: string): void {
  for (const item of list.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+)(?::(\d+)\/(\d+))?)?\s*$/.exec(item);
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1])) || (m[3] !== undefined && Number(m[4]) < 1)) {
      r.add(p, `${describe(list)} is not a list such as 0-3,7`);
      return;
    }
  }
}

/** A Linux interface name (dev_valid_name): 1-15 bytes, no "/", ":" or white space, not "." or "..". */
function ifName(name: string, template = false): boolean {
  if (name === '' || name === '.' || name === '..' || Buffer.byteLength(name) > 15) return false;
  if (/[/:\s]/.test(name)) return false;
  return template || !name.includes('%');
}

