// The statistics document `events --stats` prints, shaped like runc's types.Stats
// (runc types/events.go): JSON field names and Go's omitempty are mirrored, so a field that
// runc leaves out when zero is left out here too. Numbers past 2^53 are bigints (a v2 "max"
// is 18446744073709551615); statsJson() prints them exactly.
import type { U64 } from './files';

export interface PsiData {
  avg10: number;
  avg60: number;
  avg300: number;
  total: U64;
}

export interface PsiStats {
  some: PsiData;
  full: PsiData;
}

export interface CpuUsage {
  /** Nanoseconds. */
  total?: U64;
  percpu?: U64[];
  percpu_kernel?: U64[];
  percpu_user?: U64[];
  kernel: U64;
  user: U64;
}

export interface Throttling {
  periods?: U64;
  throttledPeriods?: U64;
  throttledTime?: U64;
}

export interface CpuStats {
  usage?: CpuUsage;
  throttling?: Throttling;
  psi?: PsiStats;
}

export interface CpusetStats {
  cpus?: number[];
  cpu_exclusive: U64;
  mems?: number[];
  mem_hardwall: U64;
  mem_exclusive: U64;
  memory_migrate: U64;
  memory_spread_page: U64;
  memory_spread_slab: U64;
  memory_pressure: U64;
  sched_load_balance: U64;
  sched_relax_domain_level: number;
}

export interface MemoryEntry {
  limit: U64;
  usage?: U64;
  max?: U64;
  failcnt: U64;
}

export interface MemoryStats {
  cache?: U64;
  usage?: MemoryEntry;
  swap?: MemoryEntry;
  kernel?: MemoryEntry;
  kernelTCP?: MemoryEntry;
  raw?: Record<string, U64>;
  psi?: PsiStats;
}

export interface PidsStats {
  current?: U64;
  limit?: U64;
}

export interface BlkioEntry {
  major?: number;
  minor?: number;
  op?: string;
  value?: U64;
}

export interface BlkioStats {
  ioServiceBytesRecursive?: BlkioEntry[];
  ioServicedRecursive?: BlkioEntry[];
  ioQueueRecursive?: BlkioEntry[];
  ioServiceTimeRecursive?: BlkioEntry[];
  ioWaitTimeRecursive?: BlkioEntry[];
  ioMergedRecursive?: BlkioEntry[];
  ioTimeRecursive?: BlkioEntry[];
  sectorsRecursive?: BlkioEntry[];
  psi?: PsiStats;
}

export interface HugetlbStats {
  usage?: U64;
  max?: U64;
  failcnt: U64;
}

export interface Stats {
  cpu: CpuStats;
  cpuset: CpusetStats;
  memory: MemoryStats;
  pids: PidsStats;
  blkio: BlkioStats;
  hugetlb: Record<string, HugetlbStats>;
  intel_rdt: Record<string, never>;
  /** Filled by the events command from the container's network namespace, when known. */
  network_interfaces: null;
}

export function emptyStats(): Stats {
  return {
    cpu: {},
    cpuset: {
      cpu_exclusive: 0,
      mem_hardwall: 0,
      mem_exclusive: 0,
      memory_migrate: 0,
      memory_spread_page: 0,
      memory_spread_slab: 0,
      memory_pressure: 0,
      sched_load_balance: 0,
      sched_relax_domain_level: 0,
    },
    memory: {},
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** Sets obj[key] only when the value is non-zero (Go's omitempty). */
export function putNonZero<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value === undefined || value === 0 || value === 0n || (Array.isArray(value) && value.length === 0)) return;
  obj[key] = value as T[K];
}

/** A memory entry as runc prints it: limit and failcnt always, usage and max when non-zero. */
export function memoryEntry(limit: U64, usage: U64, max: U64, failcnt: U64): MemoryEntry {
  const e: MemoryEntry = { limit, failcnt };
  putNonZero(e, 'usage', usage);
  putNonZero(e, 'max', max);
  return e;
}

/** cpu.pressure-style text → runc's PSIStats. */
export function parsePsi(text: string | undefined): PsiStats | undefined {
  if (text === undefined) return undefined;
  const zero = (): PsiData => ({ avg10: 0, avg60: 0, avg300: 0, total: 0 });
  const out: PsiStats = { some: zero(), full: zero() };
  for (const line of text.split('\n')) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    const d = out[kind];
    for (const f of fields) {
      const [k, v = ''] = f.split('=');
      if (k === 'avg10' || k === 'avg60' || k === 'avg300') d[k] = Number(v);
      else if (k === 'total') d.total = /^\d+$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : BigInt(v);
    }
  }
  return out;
}

/** JSON text with bigints printed as plain numbers (JSON.stringify refuses them). */
export function statsJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `\u0000${v}\u0000` : v)).replace(
    /"\\u0000(\d+)\\u0000"/g,
    '$1',
  );
}
