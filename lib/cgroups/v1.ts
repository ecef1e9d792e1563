// The cgroup v1 driver (legacy and hybrid hosts): one directory per mounted hierarchy, plus
// the cgroup2 one on hybrid hosts (as runc does: systemd and cgroup.kill use it). File
// names, write order and read-backs follow runc's libcontainer cgroups/fs.
import { existsSync } from 'node:fs';
import { CapsaError } from '../errors';
import { BaseManager, type FreezerState } from './base';
import { checkPageSize, intString, parseCpuList, pidsLimitString, rdmaLine, v1DeviceRule } from './convert';
import type { Hierarchies } from './detect';
import {
  type U64,
  parseFlatKeyed,
  parseU64,
  readOptional,
  readU64,
  readU64Optional,
  readValue,
  sleepMs,
  writeValue,
} from './files';
import type { LinuxBlockIO, LinuxCPU, LinuxMemory, LinuxResources } from './resources';
import { hugePageSizes } from './hugepages';
import {
  type BlkioEntry,
  type BlkioStats,
  type CpuUsage,
  type HugetlbStats,
  type Stats,
  emptyStats,
  memoryEntry,
  putNonZero,
} from './stats';

/** USER_HZ: cpuacct.stat counts in clock ticks; runc converts with the same constant. */
const CLOCK_TICKS = 100;

export class V1Manager extends BaseManager {
  readonly mode: 'hybrid' | 'legacy';
  readonly dirs: Map<string, string>;
  private readonly unifiedDir: string | undefined;

  constructor(path: string, layout: Hierarchies) {
    super(path, layout);
    this.mode = layout.mode === 'hybrid' ? 'hybrid' : 'legacy';
    this.dirs = new Map();
    for (const [ctrl, mount] of layout.v1) this.dirs.set(ctrl, mount + path);
    this.unifiedDir = layout.unified !== undefined ? layout.unified + path : undefined;
    if (this.unifiedDir !== undefined) this.dirs.set('', this.unifiedDir);
  }

  protected mounts(): string[] {
    const m = new Set(this.layout.v1.values());
    if (this.layout.unified !== undefined) m.add(this.layout.unified);
    return [...m];
  }

  protected primary(): string {
    const d = this.dirs;
    const dir = d.get('pids') ?? d.get('freezer') ?? d.get('devices') ?? d.get('memory') ?? d.values().next().value;
    if (dir === undefined) throw new CapsaError('cgroup', 'no cgroup v1 hierarchy is mounted', '/sys/fs/cgroup');
    return dir;
  }

  protected killDir(): string | undefined {
    return this.unifiedDir;
  }

  protected override afterMade(dir: string, mount: string): void {
    if (mount === this.layout.v1.get('cpuset')) copyCpuset(dir, mount);
  }

  /** The container's directory for a controller, or a clear error naming the resource. */
  private ctl(controller: string, what: string): string {
    const dir = this.dirs.get(controller);
    if (dir === undefined)
      throw new CapsaError(
        'cgroup',
        `the ${controller} cgroup controller is not mounted on this host (cgroup v1), so it cannot be applied`,
        `linux.resources.${what}`,
      );
    return dir;
  }

  apply(r: LinuxResources): string[] {
    const warnings: string[] = [];
    if (r.unified && Object.keys(r.unified).length > 0)
      throw new CapsaError(
        'cgroup',
        'needs cgroup v2, and this host runs its controllers on cgroup v1',
        'linux.resources.unified',
      );
    // Every controller needed is checked before anything is written.
    const m = r.memory;
    const memorySet =
      m && [m.limit, m.swap, m.reservation, m.swappiness, m.disableOOMKiller].some((v) => v !== undefined);
    const c = r.cpu;
    const cpuSet =
      c &&
      [c.shares, c.quota, c.period, c.burst, c.idle, c.realtimePeriod, c.realtimeRuntime].some((v) => v !== undefined);
    const cpusetSet = c && (!!c.cpus || !!c.mems);
    const b = r.blockIO;
    const blkioSet =
      b &&
      (b.weight !== undefined ||
        b.leafWeight !== undefined ||
        [
          b.weightDevice,
          b.throttleReadBpsDevice,
          b.throttleWriteBpsDevice,
          b.throttleReadIOPSDevice,
          b.throttleWriteIOPSDevice,
        ].some((a) => a && a.length > 0));
    const dev = r.devices && r.devices.length > 0 ? this.ctl('devices', 'devices') : undefined;
    const mem = memorySet ? this.ctl('memory', 'memory') : undefined;
    const cpu = cpuSet ? this.ctl('cpu', 'cpu') : undefined;
    const cpuset = cpusetSet ? this.ctl('cpuset', 'cpu.cpus') : undefined;
    const pids = r.pids?.limit !== undefined ? this.ctl('pids', 'pids') : undefined;
    const blkio = blkioSet ? this.ctl('blkio', 'blockIO') : undefined;
    const huge = r.hugepageLimits && r.hugepageLimits.length > 0 ? this.ctl('hugetlb', 'hugepageLimits') : undefined;
    const netCls = r.network?.classID !== undefined ? this.ctl('net_cls', 'network.classID') : undefined;
    const netPrio = r.network?.priorities?.length ? this.ctl('net_prio', 'network.priorities') : undefined;
    const rdma = r.rdma && Object.keys(r.rdma).length > 0 ? this.ctl('rdma', 'rdma') : undefined;

    if (m?.useHierarchy === false)
      warnings.push('linux.resources.memory.useHierarchy false is ignored: the kernel is always hierarchical');

    if (dev && r.devices) {
      // Deny everything, then each rule in order: devices.list then lists them in that order.
      writeValue(dev, 'devices.deny', 'a');
      for (const rule of r.devices) writeValue(dev, rule.allow ? 'devices.allow' : 'devices.deny', v1DeviceRule(rule));
    }
    if (mem && m) {
      setMemory(mem, m);
      setKernelMemory(mem, m, warnings);
    }
    if (cpu && c) setCpu(cpu, c, warnings);
    if (cpuset && c) {
      if (c.cpus) writeValue(cpuset, 'cpuset.cpus', c.cpus);
      if (c.mems) writeValue(cpuset, 'cpuset.mems', c.mems);
    }
    if (pids && r.pids?.limit !== undefined) writeValue(pids, 'pids.max', pidsLimitString(r.pids.limit));
    if (blkio && b) setBlkio(blkio, b);
    if (huge && r.hugepageLimits) {
      for (const h of r.hugepageLimits) {
        const prefix = `hugetlb.${checkPageSize(h.pageSize)}`;
        writeValue(huge, `${prefix}.limit_in_bytes`, intString(h.limit));
        if (existsSync(`${huge}/${prefix}.rsvd.limit_in_bytes`))
          writeValue(huge, `${prefix}.rsvd.limit_in_bytes`, intString(h.limit));
      }
    }
    if (netCls && r.network?.classID !== undefined) writeValue(netCls, 'net_cls.classid', intString(r.network.classID));
    if (netPrio && r.network?.priorities)
      for (const p of r.network.priorities) writeValue(netPrio, 'net_prio.ifpriomap', `${p.name} ${intString(p.priority)}`);
    if (rdma && r.rdma)
      for (const [name, v] of Object.entries(r.rdma))
        writeValue(rdma, 'rdma.max', rdmaLine(name, v.hcaHandles, v.hcaObjects));
    return warnings;
  }

  freeze(): void {
    const dir = this.ctl('freezer', 'freezer');
    // Processes forking while the freezer works can leave it FREEZING; runc retries the
    // write, with an occasional thaw and pause, and so does this.
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        writeValue(dir, 'freezer.state', 'THAWED');
        sleepMs(10);
      }
      writeValue(dir, 'freezer.state', 'FROZEN');
      if (i % 25 === 24) sleepMs(1);
      const s = readValue(dir, 'freezer.state').trim();
      if (s === 'FROZEN') return;
      if (s !== 'FREEZING') break;
    }
    try {
      writeValue(dir, 'freezer.state', 'THAWED');
    } catch {
      // The freeze error below is the one to report.
    }
    throw new CapsaError('cgroup', 'unable to freeze: processes kept the cgroup in FREEZING', `${dir}/freezer.state`);
  }

  thaw(): void {
    writeValue(this.ctl('freezer', 'freezer'), 'freezer.state', 'THAWED');
  }

  state(): FreezerState {
    const dir = this.dirs.get('freezer');
    if (dir === undefined) return 'undefined';
    for (let i = 0; i < 1000; i++) {
      const s = readOptional(dir, 'freezer.state')?.trim();
      if (s === undefined) return 'undefined';
      if (s === 'THAWED') return 'thawed';
      if (s === 'FROZEN') {
        // Frozen because an ancestor is counts as running (runc's GetState agrees).
        const self = readOptional(dir, 'freezer.self_freezing')?.trim();
        return self === '0' ? 'thawed' : 'frozen';
      }
      sleepMs(1);
    }
    return 'frozen';
  }

  protected thawQuietly(): void {
    const dir = this.dirs.get('freezer');
    if (dir === undefined) return;
    try {
      writeValue(dir, 'freezer.state', 'THAWED');
    } catch {
      // Missing directory or freezer: nothing is frozen there.
    }
  }

  oomKillCount(): number {
    const dir = this.dirs.get('memory');
    const t = dir === undefined ? undefined : readOptional(dir, 'memory.oom_control');
    return Number(t === undefined ? 0 : parseFlatKeyed(t).get('oom_kill') ?? 0);
  }

  stats(): Stats {
    const s = emptyStats();
    const cpuacct = this.dirs.get('cpuacct');
    if (cpuacct && existsSync(cpuacct)) {
      const percpu = (f: string) =>
        (readOptional(cpuacct, f) ?? '')
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map((v) => parseU64(v));
      const ticks = parseFlatKeyed(readValue(cpuacct, 'cpuacct.stat'));
      const ns = (v: U64 | undefined): U64 => {
        if (v === undefined) return 0;
        return typeof v === 'bigint' ? (v * 1000000000n) / BigInt(CLOCK_TICKS) : (v * 1e9) / CLOCK_TICKS;
      };
      const usage: CpuUsage = { kernel: ns(ticks.get('system')), user: ns(ticks.get('user')) };
      putNonZero(usage, 'total', readU64(cpuacct, 'cpuacct.usage'));
      putNonZero(usage, 'percpu', percpu('cpuacct.usage_percpu'));
      putNonZero(usage, 'percpu_kernel', percpu('cpuacct.usage_percpu_sys'));
      putNonZero(usage, 'percpu_user', percpu('cpuacct.usage_percpu_user'));
      s.cpu.usage = usage;
    }
    const cpu = this.dirs.get('cpu');
    const cpuStat = cpu === undefined ? undefined : readOptional(cpu, 'cpu.stat');
    if (cpuStat !== undefined) {
      const kv = parseFlatKeyed(cpuStat);
      s.cpu.throttling = {};
      putNonZero(s.cpu.throttling, 'periods', kv.get('nr_periods'));
      putNonZero(s.cpu.throttling, 'throttledPeriods', kv.get('nr_throttled'));
      putNonZero(s.cpu.throttling, 'throttledTime', kv.get('throttled_time'));
    }
    const cpuset = this.dirs.get('cpuset');
    if (cpuset && existsSync(cpuset)) {
      const n = (f: string) => readU64Optional(cpuset, `cpuset.${f}`) ?? 0;
      putNonZero(s.cpuset, 'cpus', parseCpuList(readValue(cpuset, 'cpuset.cpus')));
      putNonZero(s.cpuset, 'mems', parseCpuList(readValue(cpuset, 'cpuset.mems')));
      s.cpuset.cpu_exclusive = n('cpu_exclusive');
      s.cpuset.mem_hardwall = n('mem_hardwall');
      s.cpuset.mem_exclusive = n('mem_exclusive');
      s.cpuset.memory_migrate = n('memory_migrate');
      s.cpuset.memory_spread_page = n('memory_spread_page');
      s.cpuset.memory_spread_slab = n('memory_spread_slab');
      s.cpuset.memory_pressure = n('memory_pressure');
      s.cpuset.sched_load_balance = n('sched_load_balance');
      s.cpuset.sched_relax_domain_level = Number(n('sched_relax_domain_level'));
    }
    const mem = this.dirs.get('memory');
    if (mem && existsSync(mem)) {
      const raw = parseFlatKeyed(readValue(mem, 'memory.stat'));
      s.memory.raw = Object.fromEntries(raw);
      putNonZero(s.memory, 'cache', raw.get('cache'));
      const entry = (prefix: string) => {
        const usage = readU64Optional(mem, `${prefix}.usage_in_bytes`);
        if (usage === undefined) return undefined;
        return memoryEntry(
          readU64Optional(mem, `${prefix}.limit_in_bytes`) ?? 0,
          usage,
          readU64(mem, `${prefix}.max_usage_in_bytes`),
          readU64(mem, `${prefix}.failcnt`),
        );
      };
      s.memory.usage = entry('memory');
      s.memory.swap = entry('memory.memsw') ?? memoryEntry(0, 0, 0, 0);
      s.memory.kernel = entry('memory.kmem') ?? memoryEntry(0, 0, 0, 0);
      s.memory.kernelTCP = entry('memory.kmem.tcp') ?? memoryEntry(0, 0, 0, 0);
    }
    const pids = this.dirs.get('pids');
    if (pids && existsSync(pids)) {
      putNonZero(s.pids, 'current', readU64(pids, 'pids.current'));
      const max = readU64(pids, 'pids.max');
      // runc reports "no limit" as 0.
      putNonZero(s.pids, 'limit', typeof max === 'bigint' ? 0 : max);
    }
    const blkio = this.dirs.get('blkio');
    if (blkio && existsSync(blkio)) s.blkio = blkioStats(blkio);
    const huge = this.dirs.get('hugetlb');
    if (huge && existsSync(huge)) {
      for (const size of hugePageSizes()) {
        const p = `hugetlb.${size}`;
        const e: HugetlbStats = { failcnt: readU64(huge, `${p}.failcnt`) };
        putNonZero(e, 'usage', readU64(huge, `${p}.usage_in_bytes`));
        putNonZero(e, 'max', readU64(huge, `${p}.max_usage_in_bytes`));
        s.hugetlb[size] = e;
      }
    }
    return s;
  }
}

/**
 * A new cpuset cgroup starts with empty cpus and mems (unless the parent has
 * cgroup.clone_children), and adding a task to it fails with ENOSPC: copy them from the
 * parent, filling an empty parent first (runc's cpusetEnsureParent; a sibling container may
 * have just made that parent and not filled it yet).
 */
function copyCpuset(dir: string, mount: string): void {
  const parent = dir.slice(0, dir.lastIndexOf('/'));
  let cpus = readValue(parent, 'cpuset.cpus').trim();
  let mems = readValue(parent, 'cpuset.mems').trim();
  if ((cpus === '' || mems === '') && parent !== mount) {
    copyCpuset(parent, mount);
    cpus = readValue(parent, 'cpuset.cpus').trim();
    mems = readValue(parent, 'cpuset.mems').trim();
  }
  writeValue(dir, 'cpuset.cpus', cpus);
  writeValue(dir, 'cpuset.mems', mems);
}

/**
 * Kernel memory: since Linux 5.16 memory.kmem.limit_in_bytes accepts a value and ignores it
 * (it reads back unlimited), so that is a warning, as runc warns; the TCP buffer limit
 * (memory.kmem.tcp.limit_in_bytes) still works and is applied.
 */
function setKernelMemory(dir: string, m: LinuxMemory, warnings: string[]): void {
  for (const [value, file, name] of [
    [m.kernel, 'memory.kmem.limit_in_bytes', 'kernel'],
    [m.kernelTCP, 'memory.kmem.tcp.limit_in_bytes', 'kernelTCP'],
  ] as const) {
    if (value === undefined) continue;
    if (readOptional(dir, file) === undefined) {
      warnings.push(`linux.resources.memory.${name} is ignored: this kernel has no ${file}`);
      continue;
    }
    writeValue(dir, file, intString(value));
    if (value >= 0 && readValue(dir, file).trim() !== String(value))
      warnings.push(`linux.resources.memory.${name} is ignored: this kernel no longer limits it (${file} reads back unlimited)`);
  }
}

/** memory.limit_in_bytes and memory.memsw.limit_in_bytes, in the order the kernel accepts. */
function setMemory(dir: string, m: LinuxMemory): void {
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  const memswFile = 'memory.memsw.limit_in_bytes';
  const hasMemsw = limit === -1 || swap !== 0 ? existsSync(`${dir}/${memswFile}`) : false;
  // Unlimited memory with swap unset means unlimited swap too (runc).
  if (limit === -1 && swap === 0 && hasMemsw) swap = -1;
  if (swap !== 0 && !hasMemsw) {
    if (swap !== -1)
      throw new CapsaError(
        'cgroup',
        'a swap limit needs swap accounting, which this kernel has off (boot with swapaccount=1)',
        `${dir}/${memswFile}`,
        'ENOENT',
      );
    swap = 0;
  }
  const setLimit = (v: number) => {
    try {
      writeValue(dir, 'memory.limit_in_bytes', intString(v));
    } catch (err) {
      if (!(err instanceof CapsaError) || err.errnoCode !== 'EBUSY') throw err;
      const usage = readU64(dir, 'memory.usage_in_bytes');
      const peak = readU64(dir, 'memory.max_usage_in_bytes');
      throw new CapsaError(
        'cgroup',
        `cannot set memory limit to ${v}: lower than the current usage ${usage} (peak ${peak})`,
        `${dir}/memory.limit_in_bytes`,
        'EBUSY',
      );
    }
  };
  const setSwap = (v: number) => writeValue(dir, memswFile, intString(v));
  // memsw must stay >= limit at every step: raise memsw first when it grows past the
  // current limit, else lower the limit first.
  if (limit !== 0 && swap !== 0) {
    const cur = readU64(dir, 'memory.limit_in_bytes');
    if (swap === -1 || BigInt(cur) < BigInt(swap)) {
      setSwap(swap);
      setLimit(limit);
      swap = 0;
    } else {
      setLimit(limit);
    }
  } else if (limit !== 0) {
    setLimit(limit);
  }
  if (swap !== 0) setSwap(swap);
  if (m.reservation !== undefined && m.reservation !== 0)
    writeValue(dir, 'memory.soft_limit_in_bytes', intString(m.reservation));
  if (m.disableOOMKiller !== undefined) writeValue(dir, 'memory.oom_control', m.disableOOMKiller ? '1' : '0');
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    if (m.swappiness < 0 || m.swappiness > 100)
      throw new CapsaError(
        'cgroup',
        'swappiness must be between 0 and 100',
        `linux.resources.memory.swappiness=${m.swappiness}`,
      );
    writeValue(dir, 'memory.swappiness', intString(m.swappiness));
  }
}

function setCpu(dir: string, c: LinuxCPU, warnings: string[]): void {
  if (c.shares !== undefined && c.shares !== 0) {
    writeValue(dir, 'cpu.shares', intString(c.shares));
    // The kernel clamps out-of-range shares silently; read back to tell the user.
    const got = Number(readU64(dir, 'cpu.shares'));
    const subject = `linux.resources.cpu.shares=${c.shares}`;
    if (c.shares > got) throw new CapsaError('cgroup', `the maximum allowed cpu-shares is ${got}`, subject);
    if (c.shares < got) throw new CapsaError('cgroup', `the minimum allowed cpu-shares is ${got}`, subject);
  }
  const quota = c.quota ?? 0;
  // A period or burst the kernel rejects against the old quota is retried after the quota.
  let period = '';
  if (c.period !== undefined && c.period !== 0) {
    try {
      writeValue(dir, 'cpu.cfs_period_us', intString(c.period));
    } catch (err) {
      if (!(err instanceof CapsaError) || err.errnoCode !== 'EINVAL' || quota === 0) throw err;
      period = intString(c.period);
    }
  }
  let burst = '';
  if (c.burst !== undefined) {
    if (!existsSync(`${dir}/cpu.cfs_burst_us`))
      warnings.push('linux.resources.cpu.burst is ignored: this kernel has no cpu.cfs_burst_us');
    else
      try {
        writeValue(dir, 'cpu.cfs_burst_us', intString(c.burst));
      } catch (err) {
        if (!(err instanceof CapsaError) || err.errnoCode !== 'EINVAL' || quota === 0) throw err;
        burst = intString(c.burst);
      }
  }
  if (quota !== 0) {
    writeValue(dir, 'cpu.cfs_quota_us', intString(quota));
    if (period) writeValue(dir, 'cpu.cfs_period_us', period);
    if (burst) writeValue(dir, 'cpu.cfs_burst_us', burst);
  }
  if (c.idle !== undefined) writeValue(dir, 'cpu.idle', intString(c.idle));
  setRealtime(dir, c);
}

/** cpu.rt_period_us and cpu.rt_runtime_us depend on each other; runc's SetRtSched order. */
function setRealtime(dir: string, c: LinuxCPU): void {
  const runtime = c.realtimeRuntime ?? 0;
  const periodV = c.realtimePeriod ?? 0;
  if (runtime === 0 && periodV === 0) return;
  if (!existsSync(`${dir}/cpu.rt_runtime_us`))
    throw new CapsaError(
      'cgroup',
      'realtime CPU limits need a kernel with CONFIG_RT_GROUP_SCHED (cpu.rt_runtime_us is absent)',
      'linux.resources.cpu.realtimeRuntime',
    );
  let period = '';
  if (periodV !== 0) {
    try {
      writeValue(dir, 'cpu.rt_period_us', intString(periodV));
    } catch (err) {
      if (!(err instanceof CapsaError) || err.errnoCode !== 'EINVAL' || runtime === 0) throw err;
      period = intString(periodV);
    }
  }
  if (runtime !== 0) {
    try {
      writeValue(dir, 'cpu.rt_runtime_us', intString(runtime));
    } catch (err) {
      if (err instanceof CapsaError && err.errnoCode === 'EINVAL')
        throw new CapsaError(
          'cgroup',
          `cannot set realtime runtime ${runtime}: the parent cgroup's cpu.rt_runtime_us must leave room for it`,
          `${dir}/cpu.rt_runtime_us`,
          'EINVAL',
        );
      throw err;
    }
    if (period) writeValue(dir, 'cpu.rt_period_us', period);
  }
}

function setBlkio(dir: string, b: LinuxBlockIO): void {
  const needWeight = (b.weight !== undefined && b.weight !== 0) || b.weightDevice?.some((w) => w.weight);
  let weightFile = 'blkio.weight';
  let weightDeviceFile = 'blkio.weight_device';
  if (needWeight && !existsSync(`${dir}/blkio.weight`)) {
    if (!existsSync(`${dir}/blkio.bfq.weight`))
      throw new CapsaError(
        'cgroup',
        'block I/O weights need the BFQ (or CFQ) I/O scheduler: there is neither blkio.weight nor blkio.bfq.weight',
        'linux.resources.blockIO.weight',
      );
    weightFile = 'blkio.bfq.weight';
    weightDeviceFile = 'blkio.bfq.weight_device';
  }
  const needLeaf = (b.leafWeight !== undefined && b.leafWeight !== 0) || b.weightDevice?.some((w) => w.leafWeight);
  if (needLeaf && !existsSync(`${dir}/blkio.leaf_weight`))
    throw new CapsaError(
      'cgroup',
      'block I/O leaf weights need the CFQ I/O scheduler, which this kernel does not have (blkio.leaf_weight is absent)',
      'linux.resources.blockIO.leafWeight',
    );
  if (b.weight) writeValue(dir, weightFile, intString(b.weight));
  if (b.leafWeight) writeValue(dir, 'blkio.leaf_weight', intString(b.leafWeight));
  for (const w of b.weightDevice ?? []) {
    const dev = `${intString(w.major)}:${intString(w.minor)}`;
    if (w.weight) writeValue(dir, weightDeviceFile, `${dev} ${intString(w.weight)}`);
    if (w.leafWeight) writeValue(dir, 'blkio.leaf_weight_device', `${dev} ${intString(w.leafWeight)}`);
  }
  const throttle: [string, LinuxBlockIO['throttleReadBpsDevice']][] = [
    ['blkio.throttle.read_bps_device', b.throttleReadBpsDevice],
    ['blkio.throttle.write_bps_device', b.throttleWriteBpsDevice],
    ['blkio.throttle.read_iops_device', b.throttleReadIOPSDevice],
    ['blkio.throttle.write_iops_device', b.throttleWriteIOPSDevice],
  ];
  for (const [file, list] of throttle)
    for (const t of list ?? []) writeValue(dir, file, `${intString(t.major)}:${intString(t.minor)} ${intString(t.rate)}`);
}

/** "8:0 Read 1282048" lines; a file with no entries is treated as absent (runc). */
function blkioEntries(dir: string, file: string): BlkioEntry[] | undefined {
  const t = readOptional(dir, file);
  if (t === undefined) return undefined;
  const out: BlkioEntry[] = [];
  for (const line of t.split('\n')) {
    const f = line.trim().split(/[\s:]+/);
    if (f.length < 3) continue;
    const e: BlkioEntry = {};
    putNonZero(e, 'major', Number(f[0]));
    putNonZero(e, 'minor', Number(f[1]));
    if (f.length === 4) putNonZero(e, 'op', f[2]);
    putNonZero(e, 'value', parseU64(f[f.length - 1] ?? '0'));
    out.push(e);
  }
  return out.length ? out : undefined;
}

/** runc's order: BFQ debug, BFQ, CFQ, throttle recursive, throttle; the first group present wins. */
function blkioStats(dir: string): BlkioStats {
  type Key = keyof Omit<BlkioStats, 'psi'>;
  const groups: [string, Key][][] = [
    [
      ['blkio.bfq.sectors_recursive', 'sectorsRecursive'],
      ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
      ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'],
      ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
      ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'],
      ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
      ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.sectors_recursive', 'sectorsRecursive'],
      ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
      ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'],
      ['blkio.io_merged_recursive', 'ioMergedRecursive'],
      ['blkio.io_queued_recursive', 'ioQueueRecursive'],
      ['blkio.time_recursive', 'ioTimeRecursive'],
      ['blkio.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.throttle.io_serviced', 'ioServicedRecursive'],
      ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive'],
    ],
  ];
  for (const group of groups) {
    const first = group[0];
    if (!first || blkioEntries(dir, first[0]) === undefined) continue;
    const out: BlkioStats = {};
    for (const [file, key] of group) {
      const e = blkioEntries(dir, file);
      if (e) out[key] = e;
    }
    return out;
  }
  return {};
}
