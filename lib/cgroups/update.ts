// `update`: the resources asked for (a LinuxResources document or runc's flags), merged with
// what the container has recorded, and the part of the merge that is written to the cgroup.
// Pure: no file access. The rules follow runc's update.go, which containerd's shim relies on
// (it sends the pod's whole LinuxResources with `update --resources -` on every change).
import { CapsaError } from '../errors';
import type { LinuxBlockIO, LinuxResources, LinuxThrottleDevice, LinuxWeightDevice } from './resources';

/** runc's update flags, as given on the command line (all strings, unparsed). */
export interface UpdateFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuBurst?: string;
  cpuShare?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpuIdle?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

const BINARY: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/**
 * A size as runc's flags take it (docker/go-units RAMInBytes): a decimal number, an optional
 * space, then b, or k/m/g/t/p in any case with an optional "b" or "ib" — all binary, so 100M,
 * 100mb and 100MiB are each 104857600. Fractions are truncated after scaling.
 */
export function ramInBytes(text: string, flag = 'size'): number {
  const bad = (why: string) => new CapsaError('update', `${why}: ${JSON.stringify(text)}`, `--${flag}`);
  let sep = -1;
  for (let i = text.length - 1; i >= 0; i--)
    if ('0123456789. '.includes(text[i] as string)) {
      sep = i;
      break;
    }
  if (sep === -1) throw bad('invalid size');
  const num = text[sep] === ' ' ? text.slice(0, sep) : text.slice(0, sep + 1);
  let sfx = text.slice(sep + 1);
  if (!/^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) throw bad('invalid size');
  let size = Number(num);
  if (sfx === '') return Math.trunc(size);
  sfx = sfx.toLowerCase();
  const unit = BINARY[sfx[0] as string];
  const okTail = sfx.length === 1 || (sfx.length === 2 && sfx[1] === 'b') || (sfx.length === 3 && sfx.slice(1) === 'ib');
  if (sfx === 'b') return Math.trunc(size);
  if (unit === undefined || !okTail) throw bad('invalid suffix');
  size *= unit;
  if (!Number.isSafeInteger(Math.trunc(size))) throw bad('size out of range');
  return Math.trunc(size);
}

function uintFlag(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw new CapsaError('update', `invalid value for ${flag}: ${JSON.stringify(text)}`, `--${flag}`);
  return Number(text);
}

function intFlag(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw new CapsaError('update', `invalid value for ${flag}: ${JSON.stringify(text)}`, `--${flag}`);
  return Number(text);
}

/** runc's flags → the LinuxResources they mean (only what was given). */
export function resourcesFromFlags(f: UpdateFlags): LinuxResources {
  const r: LinuxResources = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (f.blkioWeight !== undefined) {
    const w = intFlag(f.blkioWeight, 'blkio-weight');
    // runc: 0 means "not given".
    if (w !== 0) r.blockIO = { weight: w };
  }
  if (f.cpusetCpus) cpu.cpus = f.cpusetCpus;
  if (f.cpusetMems) cpu.mems = f.cpusetMems;
  if (f.cpuIdle !== undefined) cpu.idle = intFlag(f.cpuIdle, 'cpu-idle');
  if (f.cpuBurst !== undefined) cpu.burst = uintFlag(f.cpuBurst, 'cpu-burst');
  if (f.cpuPeriod !== undefined) cpu.period = uintFlag(f.cpuPeriod, 'cpu-period');
  if (f.cpuRtPeriod !== undefined) cpu.realtimePeriod = uintFlag(f.cpuRtPeriod, 'cpu-rt-period');
  if (f.cpuShare !== undefined) cpu.shares = uintFlag(f.cpuShare, 'cpu-share');
  if (f.cpuQuota !== undefined) cpu.quota = intFlag(f.cpuQuota, 'cpu-quota');
  if (f.cpuRtRuntime !== undefined) cpu.realtimeRuntime = intFlag(f.cpuRtRuntime, 'cpu-rt-runtime');
  const size = (v: string | undefined, flag: string) => (v === undefined ? undefined : v === '-1' ? -1 : ramInBytes(v, flag));
  const sizes: [keyof typeof memory, string | undefined, string][] = [
    ['limit', f.memory, 'memory'],
    ['swap', f.memorySwap, 'memory-swap'],
    ['kernel', f.kernelMemory, 'kernel-memory'],
    ['kernelTCP', f.kernelMemoryTcp, 'kernel-memory-tcp'],
    ['reservation', f.memoryReservation, 'memory-reservation'],
  ];
  for (const [key, v, flag] of sizes) {
    const n = size(v, flag);
    if (n !== undefined) (memory as Record<string, number>)[key] = n;
  }
  if (f.pidsLimit !== undefined) r.pids = { limit: intFlag(f.pidsLimit, 'pids-limit') };
  if (Object.keys(memory).length) r.memory = memory;
  if (Object.keys(cpu).length) r.cpu = cpu;
  return r;
}

function upsert<T extends { major: number; minor: number }>(list: T[] | undefined, add: T[] | undefined, merge: (old: T, n: T) => T): T[] | undefined {
  if (!add?.length) return list;
  const out = [...(list ?? [])];
  for (const d of add) {
    const i = out.findLastIndex((o) => o.major === d.major && o.minor === d.minor);
    if (i >= 0) out[i] = merge(out[i] as T, d);
    else out.push({ ...d });
  }
  return out;
}

function mergeBlockIO(old: LinuxBlockIO | undefined, n: LinuxBlockIO | undefined): LinuxBlockIO | undefined {
  if (!n) return old;
  const b: LinuxBlockIO = { ...old };
  if (n.weight !== undefined) b.weight = n.weight;
  if (n.leafWeight !== undefined) b.leafWeight = n.leafWeight;
  const weights = upsert<LinuxWeightDevice>(b.weightDevice, n.weightDevice, (o, d) => ({
    ...o,
    ...(d.weight !== undefined ? { weight: d.weight } : {}),
    ...(d.leafWeight !== undefined ? { leafWeight: d.leafWeight } : {}),
  }));
  if (weights) b.weightDevice = weights;
  const rate = (o: LinuxThrottleDevice, d: LinuxThrottleDevice) => ({ ...o, rate: d.rate });
  for (const k of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
    const l = upsert(b[k], n[k], rate);
    if (l) b[k] = l;
  }
  return b;
}

export interface UpdatePlan {
  /** What state.json records from now on: the recorded resources with the update merged in. */
  record: LinuxResources;
  /** What is written to the cgroup: the values the update gives, with what they depend on. */
  apply: LinuxResources;
  /** Asked for, but not something an update changes (runc's words where it has them). */
  warnings: string[];
}

/**
 * Merges an update into the recorded resources, field by field: what the update gives wins,
 * what it leaves out stays. As runc:
 * - a lone cpu period or quota keeps the other at its recorded value (v2 writes both into
 *   cpu.max, so a lone period must not reset the quota to "max");
 * - memory limit and swap go together (v1 orders the two writes by them, v2's swap.max is
 *   their difference), so either brings the other's recorded value;
 * - block I/O device entries are upserted by major:minor;
 * - memory limit -1 without swap sets swap to 0 (unset), so unlimited memory means
 *   unlimited swap instead of "swap limit without memory limit";
 * - cpu idle without shares drops shares (cpu.weight cannot be written once idle is set);
 * - devices, hugepage limits, network and rdma are not changed by update (runc ignores
 *   them; containerd sends them with every update): they stay as recorded;
 * - kernel memory is ignored with runc's warning; checkBeforeUpdate applies to this update
 *   only; unified values are written as given and recorded merged.
 */
export function planUpdate(recorded: LinuxResources | undefined, u: LinuxResources): UpdatePlan {
  const old = recorded ?? {};
  const warnings: string[] = [];
  const rec: LinuxResources = { ...old };
  const apply: LinuxResources = {};
  if (u.memory) {
    const { kernel, kernelTCP, checkBeforeUpdate, ...m } = u.memory;
    if (kernel !== undefined || kernelTCP !== undefined) warnings.push('Kernel memory settings are ignored and will be removed');
    const mem = { ...old.memory, ...m };
    if (m.limit === -1 && m.swap === undefined) mem.swap = 0;
    rec.memory = mem;
    const a: NonNullable<LinuxResources['memory']> = { ...m };
    if (m.limit !== undefined || m.swap !== undefined) {
      if (mem.limit !== undefined) a.limit = mem.limit;
      if (mem.swap !== undefined) a.swap = mem.swap;
    }
    if (checkBeforeUpdate !== undefined) a.checkBeforeUpdate = checkBeforeUpdate;
    if (Object.keys(a).length) apply.memory = a;
  }
  if (u.cpu) {
    const cpu = { ...old.cpu, ...u.cpu };
    const a = { ...u.cpu };
    if (u.cpu.idle !== undefined && u.cpu.shares === undefined) {
      cpu.shares = 0;
      a.shares = 0;
    }
    if (u.cpu.quota !== undefined || u.cpu.period !== undefined) {
      if (cpu.quota !== undefined) a.quota = cpu.quota;
      if (cpu.period !== undefined) a.period = cpu.period;
    }
    rec.cpu = cpu;
    apply.cpu = a;
  }
  const bio = mergeBlockIO(old.blockIO, u.blockIO);
  if (bio) rec.blockIO = bio;
  if (u.blockIO) apply.blockIO = u.blockIO;
  if (u.pids) {
    rec.pids = { ...old.pids, ...u.pids };
    apply.pids = u.pids;
  }
  if (u.unified && Object.keys(u.unified).length) {
    rec.unified = { ...old.unified, ...u.unified };
    apply.unified = u.unified;
  }
  return { record: rec, apply, warnings };
}
