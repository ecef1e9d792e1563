// Pure conversions between OCI resource values and cgroup file contents, v1 and v2.
// The OCI fields were designed for cgroup v1; on v2 several need translating, and the
// formulas here are the ones runc and crun use, so a config behaves the same under each.
import { CapsaError } from '../errors';
import type { LinuxDeviceCgroup } from './resources';

/** An integer as the kernel parses it: never exponent notation, even past 2^53. JSON's
 *  18446744073709551615 parses as 2^64 (see lib/spec/types.ts): that is the u64 maximum. */
export function intString(n: number): string {
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw new CapsaError('cgroup', 'not an integer', String(n));
  if (Number.isSafeInteger(n)) return String(n);
  return n >= 2 ** 64 ? '18446744073709551615' : BigInt(n).toString();
}

/** A limit where -1 means unlimited: "max" on v2 (memory.max, memory.swap.max, pids.max). */
export function limitString(n: number): string {
  return n === -1 ? 'max' : intString(n);
}

/**
 * pids.max (v1 and v2): negative means "max". 0 is written as 0: config-linux.md says a
 * limit of 0 is valid and SHOULD be treated as such (runc maps it to 1 for systemd's sake).
 */
export function pidsLimitString(limit: number): string {
  return limit < 0 ? 'max' : intString(limit);
}

/**
 * cpu shares (v1, 2..262144, default 1024) → cpu.weight (v2, 1..10000, default 100).
 * The quadratic fit over log2(shares) that maps 2→1, 1024→100 and 262144→10000:
 *   l = log2(shares); weight = ceil(10^((l² + 125·l) / 612 − 7/34))
 * Source: opencontainers/cgroups utils.go ConvertCPUSharesToCgroupV2Value (runc ≥ 1.3.1;
 * crun uses the same fit). 0 means unset.
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(Math.pow(10, (l * l + 125 * l) / 612.0 - 7.0 / 34.0));
}

/**
 * The older linear mapping, `1 + ((shares - 2) * 9999) / 262142` in integer arithmetic
 * (runc ≤ 1.3.0, crun before the fit; the kernel's own cgroup v1→v2 doc). It maps the
 * default 1024 shares to 39 rather than 100, which is why runc moved away from it.
 */
export function sharesToWeightLinear(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/**
 * blkio weight (v1, 10..1000) → io.weight (v2, 1..10000), linear:
 *   1 + (weight - 10) * 9999 / 990   (integer division)
 * Source: opencontainers/cgroups utils.go ConvertBlkIOToIOWeightValue; crun the same.
 * With BFQ, io.bfq.weight takes the v1 value unconverted (1..1000), as runc does.
 */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * OCI memory.swap is memory+swap (v1's memory.memsw.limit_in_bytes); v2's memory.swap.max
 * is swap alone, so swap.max = swap - limit. Returns -1 for "max", 0 for "leave unset"
 * (or "0" when swap == limit: see swapMaxString). Rules from opencontainers/cgroups
 * ConvertMemorySwapToCgroupV2Value:
 * - limit -1 and swap unset → max (unlimited memory means unlimited swap, as on v1);
 * - swap -1 or unset → as is; limit -1 → swap as is;
 * - limit unset with swap set → error (nothing to subtract from); swap < limit → error.
 */
export function swapToV2(swap: number, limit: number): number {
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (limit === -1) return swap;
  if (limit === 0) throw new CapsaError('cgroup', 'a swap limit needs a memory limit on cgroup v2', `memory.swap=${swap}`);
  if (limit < 0) throw new CapsaError('cgroup', 'invalid memory limit', `memory.limit=${limit}`);
  if (swap < limit)
    throw new CapsaError('cgroup', 'memory+swap limit must be >= memory limit', `memory.swap=${swap} memory.limit=${limit}`);
  return swap - limit;
}

/** The memory.swap.max text for OCI (swap, limit), or undefined when nothing is to be written. */
export function swapMaxString(swap: number | undefined, limit: number | undefined): string | undefined {
  if (swap === undefined && limit === undefined) return undefined;
  const v = swapToV2(swap ?? 0, limit ?? 0);
  if (v === -1) return 'max';
  if (v === 0) return swap !== undefined && swap > 0 ? '0' : undefined;
  return intString(v);
}

/**
 * cpu.max is "$QUOTA $PERIOD": quota -1 or unset → "max"; period unset → 100000 (the
 * kernel default), as runc writes it when only one of the two is given.
 */
export function cpuMaxString(quota: number | undefined, period: number | undefined): string {
  const q = quota !== undefined && quota > 0 ? intString(quota) : 'max';
  return `${q} ${intString(period && period > 0 ? period : 100000)}`;
}

/** A v1 devices.allow/deny line: "c 1:3 rwm"; unset or negative numbers are "*". */
export function v1DeviceRule(rule: LinuxDeviceCgroup): string {
  const type = rule.type || 'a';
  if (!['a', 'b', 'c'].includes(type)) throw new CapsaError('cgroup', 'device type must be a, b or c', JSON.stringify(type));
  const num = (n?: number) => (n === undefined || n === null || n < 0 ? '*' : intString(n));
  const access = rule.access ?? 'rwm';
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length)
    throw new CapsaError('cgroup', 'device access must be a combination of r, w and m', JSON.stringify(access));
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${access}`;
}

/** Parses a cpu or node list ("0-3,7") into numbers, as runc's cpuset stats do. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  const s = text.trim();
  if (s === '') return out;
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new CapsaError('cgroup', 'malformed cpu list', JSON.stringify(text));
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > to) throw new CapsaError('cgroup', 'malformed cpu list', JSON.stringify(text));
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

/** Hugepage size names as the cgroup files spell them ("2MB", "1GB"); guards file names. */
export function checkPageSize(pageSize: string): string {
  if (!/^[1-9][0-9]*[KMG]B$/.test(pageSize))
    throw new CapsaError('cgroup', 'hugepage size must look like 2MB, 64KB or 1GB', JSON.stringify(pageSize));
  return pageSize;
}

/** The kernel's hugepage directory name (hugepages-2048kB) → the cgroup file name (2MB). */
export function pageSizeFromKb(kb: number): string {
  if (kb >= 1 << 20 && kb % (1 << 20) === 0) return `${kb >> 20}GB`;
  if (kb >= 1 << 10 && kb % (1 << 10) === 0) return `${kb >> 10}MB`;
  return `${kb}KB`;
}

/** The rdma.max line for one device: "mlx5_1 hca_handle=3 hca_object=10000". */
export function rdmaLine(device: string, handles?: number, objects?: number): string {
  if (!/^[^\s/]+$/.test(device))
    throw new CapsaError('cgroup', 'rdma device name must be a plain name', JSON.stringify(device));
  if (handles === undefined && objects === undefined)
    throw new CapsaError('cgroup', 'rdma entry needs hcaHandles or hcaObjects', device);
  let line = device;
  if (handles !== undefined) line += ` hca_handle=${intString(handles)}`;
  if (objects !== undefined) line += ` hca_object=${intString(objects)}`;
  return line;
}
