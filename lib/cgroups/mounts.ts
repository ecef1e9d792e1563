// A config mount of type "cgroup"/"cgroup2", expanded into what this host needs so that
// /sys/fs/cgroup inside the container shows the container's own cgroups (runc's
// mountCgroupV1 / mountCgroupV2 in libcontainer/rootfs_linux.go).
import { MS } from '../plan/mounts';
import type { PlanMount } from '../plan/types';
import type { Hierarchies } from './detect';

/** runc's defaultMountFlags for the tmpfs and the per-hierarchy cgroup mounts. */
const DEFAULT_FLAGS = MS.NOEXEC | MS.NOSUID | MS.NODEV;

/**
 * - cgroup v2: with a cgroup namespace, a fresh cgroup2 mount (rooted at the container's
 *   cgroup by the namespace); without one, a bind of the container's own directory.
 * - cgroup v1: a tmpfs at the destination, then per hierarchy a directory named like the
 *   host's mount point ("memory", "systemd"): a fresh cgroup mount of that hierarchy with a
 *   cgroup namespace, else a bind of the container's directory in it. Hybrid hosts' cgroup2
 *   is not shown (runc neither). Co-mounted hierarchies ("cpu,cpuacct") get no alias links.
 */
export function cgroupMounts(layout: Hierarchies, path: string, m: PlanMount, cgroupns: boolean): PlanMount[] {
  const base = { propagation: m.propagation, attrSet: m.attrSet, attrClr: m.attrClr };
  if (layout.mode === 'unified') {
    if (cgroupns) return [{ ...m, ...base, source: 'cgroup', fstype: 'cgroup2', flags: m.flags & ~(MS.BIND | MS.REC) }];
    return [{ ...m, ...base, source: layout.unified + path, fstype: '', flags: m.flags | MS.BIND, data: '' }];
  }
  const out: PlanMount[] = [
    { ...base, source: 'tmpfs', destination: m.destination, fstype: 'tmpfs', flags: DEFAULT_FLAGS, data: 'mode=755' },
  ];
  const seen = new Set<string>();
  for (const [ctrl, mount] of layout.v1) {
    if (seen.has(mount)) continue;
    seen.add(mount);
    const name = mount.slice(mount.lastIndexOf('/') + 1);
    const destination = `${m.destination}/${name}`;
    if (cgroupns) {
      const opts = [...layout.v1].filter(([, mp]) => mp === mount).map(([c]) => c);
      out.push({
        ...base,
        source: ctrl.startsWith('name=') ? ctrl.slice(5) : 'cgroup',
        destination,
        fstype: 'cgroup',
        flags: DEFAULT_FLAGS | (m.flags & MS.RDONLY),
        data: opts.join(','),
      });
    } else {
      out.push({ ...base, source: mount + path, destination, fstype: '', flags: MS.BIND | MS.REC | m.flags, data: '' });
    }
  }
  // The tmpfs holding them is made read-only too once they are in place (as runc).
  if (m.flags & MS.RDONLY)
    out.push({ ...base, source: 'tmpfs', destination: m.destination, fstype: 'tmpfs', flags: MS.REMOUNT | MS.RDONLY | DEFAULT_FLAGS, data: '' });
  return out;
}
