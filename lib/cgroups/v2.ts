// The cgroup v2 driver (unified hosts): one directory, controllers enabled down the path
// through cgroup.subtree_control. OCI's v1-shaped values are converted (./convert.ts);
// file names, order and fallbacks follow runc's libcontainer cgroups/fs2.
import { existsSync } from 'node:fs';
import { CapsaError } from '../errors';
import { BaseManager, type FreezerState } from './base';
import {
  blkioWeightToIoWeight,
  checkPageSize,
  cpuMaxString,
  intString,
  limitString,
  pidsLimitString,
  rdmaLine,
  sharesToWeight,
  swapMaxString,
} from './convert';
import type { Hierarchies } from './detect';
import {
  errno,
  parseFlatKeyed,
  readOptional,
  readProcs,
  readU64,
  readU64Optional,
  readValue,
  sleepMs,
  u64Add,
  writeValue,
} from './files';
import { DEVICE_FILTER_LICENSE, deviceFilter } from './devfilter';
import { hugePageSizes } from './hugepages';
import { native } from '../native';
import type { LinuxBlockIO, LinuxCPU, LinuxMemory, LinuxResources } from './resources';
import {
  type BlkioEntry,
  type BlkioStats,
  type CpuUsage,
  type HugetlbStats,
  type Stats,
  emptyStats,
  memoryEntry,
  parsePsi,
  putNonZero,
} from './stats';

const U64_MAX = 18446744073709551615n;

export class V2Manager extends BaseManager {
  readonly mode = 'unified' as const;
  readonly dirs: Map<string, string>;
  private readonly dir: string;
  private enable: string | undefined;

  constructor(path: string, layout: Hierarchies) {
    super(path, layout);
    if (layout.unified === undefined) throw new CapsaError('cgroup', 'no cgroup2 hierarchy is mounted', '/sys/fs/cgroup');
    this.dir = layout.unified + path;
    this.dirs = new Map([['', this.dir]]);
  }

  protected mounts(): string[] {
    return [this.layout.unified as string];
  }

  protected primary(): string {
    return this.dir;
  }

  protected killDir(): string {
    return this.dir;
  }

  /** Enables every controller the root offers in each parent on the way down (runc does the same). */
  protected override beforeLevel(parent: string, mount: string): void {
    this.enable ??= readValue(mount, 'cgroup.controllers')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((c) => '+' + c)
      .join(' ');
    if (!this.enable) return;
    try {
      writeValue(parent, 'cgroup.subtree_control', this.enable);
    } catch {
      // One controller the parent lacks fails the whole write: enable what can be, one by one.
      for (const c of this.enable.split(' ')) {
        try {
          writeValue(parent, 'cgroup.subtree_control', c);
        } catch {
          // Not available at this level; a resource that needs it reports that when written.
        }
      }
    }
  }

  /** Writes a controller file; a missing file means the controller is not enabled here. */
  private w(file: string, value: string): void {
    try {
      writeValue(this.dir, file, value);
    } catch (err) {
      if (err instanceof CapsaError && err.errnoCode === 'ENOENT' && existsSync(this.dir)) {
        const ctl = file.slice(0, file.indexOf('.'));
        throw new CapsaError(
          'cgroup',
          `the ${ctl} controller is not available in this cgroup (not in the parent's ` +
            `cgroup.subtree_control, or not in this kernel): cannot write ${JSON.stringify(value)}`,
          `${this.dir}/${file}`,
          'ENOENT',
        );
      }
      throw err;
    }
  }

  apply(r: LinuxResources): string[] {
    const warnings: string[] = [];
    const c = r.cpu;
    if (c && ((c.realtimeRuntime ?? 0) !== 0 || (c.realtimePeriod ?? 0) !== 0))
      throw new CapsaError(
        'cgroup',
        'realtime CPU limits need cgroup v1: cgroup v2 has no realtime bandwidth control',
        'linux.resources.cpu.realtimeRuntime',
      );
    if (r.network && (r.network.classID !== undefined || r.network.priorities?.length))
      throw new CapsaError(
        'cgroup',
        'network classID and priorities need the v1 net_cls and net_prio controllers, which cgroup v2 does not have',
        'linux.resources.network',
      );
    // Built (and its rules checked) before anything is written.
    const filter = r.devices && r.devices.length > 0 ? deviceFilter(r.devices) : undefined;
    for (const k of Object.keys(r.unified ?? {}))
      if (!/^[^/.][^/]*\.[^/]+$/.test(k))
        throw new CapsaError(
          'cgroup',
          'a unified key must be a file name of the form controller.parameter',
          `linux.resources.unified[${JSON.stringify(k)}]`,
        );

    if (r.pids?.limit !== undefined) this.w('pids.max', pidsLimitString(r.pids.limit));
    if (r.memory) this.setMemory(r.memory, warnings);
    if (r.blockIO) this.setIo(r.blockIO, warnings);
    if (c) this.setCpu(c);
    if (c?.cpus) this.w('cpuset.cpus', c.cpus);
    if (c?.mems) this.w('cpuset.mems', c.mems);
    for (const h of r.hugepageLimits ?? []) {
      const prefix = `hugetlb.${checkPageSize(h.pageSize)}`;
      this.w(`${prefix}.max`, intString(h.limit));
      if (existsSync(`${this.dir}/${prefix}.rsvd.max`)) this.w(`${prefix}.rsvd.max`, intString(h.limit));
    }
    for (const [name, v] of Object.entries(r.rdma ?? {})) this.w('rdma.max', rdmaLine(name, v.hcaHandles, v.hcaObjects));
    if (filter) attachDeviceFilter(this.dir, filter);
    // Last, so explicit v2 values win over converted ones (runc's order).
    for (const [k, v] of Object.entries(r.unified ?? {})) this.setUnified(k, v);
    return warnings;
  }

  private setMemory(m: LinuxMemory, warnings: string[]): void {
    if (m.kernel !== undefined || m.kernelTCP !== undefined)
      warnings.push(
        'linux.resources.memory.kernel and kernelTCP are ignored: current kernels no longer limit kernel memory',
      );
    if (m.swappiness !== undefined && m.swappiness !== -1)
      warnings.push('linux.resources.memory.swappiness is ignored: cgroup v2 has no per-cgroup swappiness');
    if (m.disableOOMKiller)
      warnings.push('linux.resources.memory.disableOOMKiller is ignored: cgroup v2 cannot disable the OOM killer');
    const limit = m.limit ?? 0;
    const swap = m.swap ?? 0;
    if (limit === 0 && swap === 0 && (m.reservation ?? 0) === 0) return;
    if (m.checkBeforeUpdate) {
      // v1 kernels refuse a limit under the usage; v2 would OOM-kill instead. Best effort.
      const usage = readU64Optional(this.dir, 'memory.current');
      if (usage !== undefined) {
        const at = 'linux.resources.memory';
        if (swap > 0 && BigInt(swap) <= BigInt(usage))
          throw new CapsaError('cgroup', `rejecting memory+swap limit ${swap} <= usage ${usage}`, `${at}.swap`);
        if (limit > 0 && BigInt(limit) <= BigInt(usage))
          throw new CapsaError('cgroup', `rejecting memory limit ${limit} <= usage ${usage}`, `${at}.limit`);
      }
    }
    const swapMax = swapMaxString(m.swap === 0 ? undefined : m.swap, m.limit === 0 ? undefined : m.limit);
    if (swapMax !== undefined) {
      try {
        writeValue(this.dir, 'memory.swap.max', swapMax);
      } catch (err) {
        // No swap accounting: "max" and "0" ask for nothing the kernel does not already do.
        if (!(err instanceof CapsaError && err.errnoCode === 'ENOENT' && (swapMax === 'max' || swapMax === '0'))) {
          if (err instanceof CapsaError && err.errnoCode === 'ENOENT')
            throw new CapsaError(
              'cgroup',
              'a swap limit needs swap accounting, which this kernel has off',
              `${this.dir}/memory.swap.max`,
              'ENOENT',
            );
          throw err;
        }
      }
    }
    if (limit !== 0) this.w('memory.max', limitString(limit));
    if (m.reservation !== undefined && m.reservation !== 0) this.w('memory.low', limitString(m.reservation));
  }

  private setIo(b: LinuxBlockIO, warnings: string[]): void {
    if (b.leafWeight || b.weightDevice?.some((w) => w.leafWeight))
      warnings.push('linux.resources.blockIO.leafWeight is ignored: cgroup v2 has no leaf weights');
    const bfq = (b.weight || b.weightDevice?.length) && existsSync(`${this.dir}/io.bfq.weight`);
    // BFQ takes the v1 weight (1..1000) as is; io.weight wants the converted 1..10000.
    if (b.weight) {
      if (bfq) this.w('io.bfq.weight', intString(b.weight));
      else this.w('io.weight', `default ${blkioWeightToIoWeight(b.weight)}`);
    }
    for (const wd of b.weightDevice ?? []) {
      if (!wd.weight) continue;
      const dev = `${intString(wd.major)}:${intString(wd.minor)}`;
      if (bfq) this.w('io.bfq.weight', `${dev} ${intString(wd.weight)}`);
      else this.w('io.weight', `${dev} ${blkioWeightToIoWeight(wd.weight)}`);
    }
    const throttle: [string, LinuxBlockIO['throttleReadBpsDevice']][] = [
      ['rbps', b.throttleReadBpsDevice],
      ['wbps', b.throttleWriteBpsDevice],
      ['riops', b.throttleReadIOPSDevice],
      ['wiops', b.throttleWriteIOPSDevice],
    ];
    for (const [key, list] of throttle)
      for (const t of list ?? [])
        this.w('io.max', `${intString(t.major)}:${intString(t.minor)} ${key}=${intString(t.rate)}`);
  }

  private setCpu(c: LinuxCPU): void {
    if (c.idle !== undefined) this.w('cpu.idle', intString(c.idle));
    if (c.shares) this.w('cpu.weight', String(sharesToWeight(c.shares)));
    const quota = c.quota ?? 0;
    const period = c.period ?? 0;
    // A burst over the old quota is refused (EINVAL): then set it after cpu.max.
    let burst = '';
    if (c.burst !== undefined) {
      try {
        this.w('cpu.max.burst', intString(c.burst));
      } catch (err) {
        if (!(err instanceof CapsaError) || err.errnoCode !== 'EINVAL' || quota === 0) throw err;
        burst = intString(c.burst);
      }
    }
    if (quota !== 0 || period !== 0) {
      // A period alone keeps the quota cpu.max has (both share one file).
      const keep = c.quota === undefined ? readOptional(this.dir, 'cpu.max')?.trim().split(/\s+/)[0] : undefined;
      this.w('cpu.max', keep && keep !== 'max' ? `${keep} ${intString(period)}` : cpuMaxString(quota, period));
      if (burst) this.w('cpu.max.burst', burst);
    }
  }

  private setUnified(key: string, value: string): void {
    // Multi-line values (io.max for several devices) go one line per write, as runc does.
    const lines = value.includes('\n') ? value.split('\n').filter((l) => l !== '') : [value];
    for (const line of lines) {
      try {
        writeValue(this.dir, key, line);
      } catch (err) {
        const code = errno(err);
        if (code === 'ENOENT' || code === 'EPERM' || code === 'EACCES') {
          const ctl = key.slice(0, key.indexOf('.'));
          const avail = (readOptional(this.dir, 'cgroup.controllers') ?? '').trim().split(/\s+/);
          if (ctl !== 'cgroup' && !avail.includes(ctl))
            throw new CapsaError(
              'cgroup',
              `unified resource ${JSON.stringify(key)} cannot be set: controller "${ctl}" is not available`,
              `${this.dir}/${key}`,
              code,
            );
        }
        throw err;
      }
    }
  }

  freeze(): void {
    try {
      writeValue(this.dir, 'cgroup.freeze', '1');
    } catch (err) {
      if (err instanceof CapsaError && err.errnoCode === 'ENOENT' && existsSync(this.dir))
        throw new CapsaError(
          'cgroup',
          'the freezer needs Linux 5.2 or later (cgroup.freeze is absent)',
          `${this.dir}/cgroup.freeze`,
          'ENOENT',
        );
      throw err;
    }
    for (let i = 0; i < 1000; i++) {
      if (parseFlatKeyed(readValue(this.dir, 'cgroup.events')).get('frozen') === 1) return;
      sleepMs(10);
    }
    this.thawQuietly();
    throw new CapsaError(
      'cgroup',
      'timed out after 10s waiting for the cgroup to freeze',
      `${this.dir}/cgroup.events`,
      'ETIMEDOUT',
    );
  }

  thaw(): void {
    writeValue(this.dir, 'cgroup.freeze', '0');
  }

  state(): FreezerState {
    const t = readOptional(this.dir, 'cgroup.freeze');
    if (t === undefined) return 'undefined';
    return t.trim() === '1' ? 'frozen' : 'thawed';
  }

  protected thawQuietly(): void {
    try {
      writeValue(this.dir, 'cgroup.freeze', '0');
    } catch {
      // Missing directory or freezer: nothing is frozen there.
    }
  }

  oomKillCount(): number {
    const t = readOptional(this.dir, 'memory.events');
    return Number(t === undefined ? 0 : parseFlatKeyed(t).get('oom_kill') ?? 0);
  }

  stats(): Stats {
    const s = emptyStats();
    const d = this.dir;
    const cur = readU64Optional(d, 'pids.current');
    if (cur !== undefined) {
      putNonZero(s.pids, 'current', cur);
      const max = readU64(d, 'pids.max');
      putNonZero(s.pids, 'limit', typeof max === 'bigint' ? 0 : max);
    } else {
      putNonZero(s.pids, 'current', readProcs(d).length);
    }
    const memStat = readOptional(d, 'memory.stat');
    if (memStat !== undefined) {
      const raw = parseFlatKeyed(memStat);
      s.memory.raw = Object.fromEntries(raw);
      putNonZero(s.memory, 'cache', raw.get('file'));
      const usage = readU64(d, 'memory.current');
      const limit = readU64(d, 'memory.max');
      s.memory.usage = memoryEntry(limit, usage, readU64Optional(d, 'memory.peak') ?? 0, 0);
      // runc's v2 "swap" is memory+swap, like v1's memsw, with no peak.
      const swapUsage = readU64Optional(d, 'memory.swap.current');
      const swapLimit = readU64Optional(d, 'memory.swap.max');
      if (swapUsage !== undefined && swapLimit !== undefined) {
        const l = typeof swapLimit === 'bigint' && swapLimit === U64_MAX ? swapLimit : u64Add(swapLimit, limit);
        s.memory.swap = memoryEntry(typeof l === 'bigint' && l > U64_MAX ? U64_MAX : l, u64Add(swapUsage, usage), 0, 0);
      } else {
        s.memory.swap = memoryEntry(0, 0, 0, 0);
      }
      s.memory.kernel = memoryEntry(0, 0, 0, 0);
      s.memory.kernelTCP = memoryEntry(0, 0, 0, 0);
      s.memory.psi = parsePsi(readOptional(d, 'memory.pressure'));
    }
    const cpuStat = readOptional(d, 'cpu.stat');
    if (cpuStat !== undefined) {
      const kv = parseFlatKeyed(cpuStat);
      const us = (k: string) => {
        const v = kv.get(k) ?? 0;
        return typeof v === 'bigint' ? v * 1000n : Number.isSafeInteger(v * 1000) ? v * 1000 : BigInt(v) * 1000n;
      };
      const usage: CpuUsage = { kernel: us('system_usec'), user: us('user_usec') };
      putNonZero(usage, 'total', us('usage_usec'));
      s.cpu.usage = usage;
      s.cpu.throttling = {};
      putNonZero(s.cpu.throttling, 'periods', kv.get('nr_periods'));
      putNonZero(s.cpu.throttling, 'throttledPeriods', kv.get('nr_throttled'));
      putNonZero(s.cpu.throttling, 'throttledTime', us('throttled_usec'));
      s.cpu.psi = parsePsi(readOptional(d, 'cpu.pressure'));
    }
    const ioStat = readOptional(d, 'io.stat');
    if (ioStat !== undefined) s.blkio = ioStats(ioStat);
    const ioPsi = parsePsi(readOptional(d, 'io.pressure'));
    if (ioPsi) s.blkio.psi = ioPsi;
    for (const size of hugePageSizes()) {
      const p = `hugetlb.${size}`;
      const usage = readU64Optional(d, `${p}.rsvd.current`) ?? readU64Optional(d, `${p}.current`);
      if (usage === undefined) continue;
      const e: HugetlbStats = { failcnt: parseFlatKeyed(readValue(d, `${p}.events`)).get('max') ?? 0 };
      putNonZero(e, 'usage', usage);
      s.hugetlb[size] = e;
    }
    return s;
  }
}

/** Makes `filter` the cgroup's device program (v2 has no devices controller: eBPF does it). */
export function attachDeviceFilter(dir: string, filter: Buffer): void {
  try {
    native().attachDeviceFilter(dir, filter, DEVICE_FILTER_LICENSE);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { verifierLog?: string };
    const log = e.verifierLog ? `; verifier: ${e.verifierLog.trim().split('\n').slice(-3).join(' | ')}` : '';
    throw new CapsaError('cgroup', `${e.syscall ?? 'bpf'} for the device filter (eBPF)${log}`, dir, errno(err));
  }
}

/** io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...") → runc's blkio entries. */
function ioStats(text: string): BlkioStats {
  const out: BlkioStats = {};
  const ops: Record<string, [string, 'ioServiceBytesRecursive' | 'ioServicedRecursive']> = {
    rbytes: ['Read', 'ioServiceBytesRecursive'],
    wbytes: ['Write', 'ioServiceBytesRecursive'],
    rios: ['Read', 'ioServicedRecursive'],
    wios: ['Write', 'ioServicedRecursive'],
  };
  for (const line of text.split('\n')) {
    const [dev, ...fields] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    for (const f of fields) {
      const [k = '', v = ''] = f.split('=');
      const op = ops[k];
      if (!op || !/^\d+$/.test(v)) continue;
      const e: BlkioEntry = {};
      putNonZero(e, 'major', Number(m[1]));
      putNonZero(e, 'minor', Number(m[2]));
      e.op = op[0];
      putNonZero(e, 'value', Number.isSafeInteger(Number(v)) ? Number(v) : BigInt(v));
      (out[op[1]] ??= []).push(e);
    }
  }
  return out;
}
