// Mount options as mount(8) and runc understand them: each option either sets or clears an
// MS_* flag, sets a propagation type, sets or clears a recursive MOUNT_ATTR_*, or is passed
// to the filesystem as data.
import { isAbsolute, resolve } from 'node:path';
import { CapsaError } from '../errors';
import type { Mount } from '../spec/types';
import type { PlanMount } from './types';

export const MS = {
  RDONLY: 0x1n,
  NOSUID: 0x2n,
  NODEV: 0x4n,
  NOEXEC: 0x8n,
  SYNCHRONOUS: 0x10n,
  REMOUNT: 0x20n,
  MANDLOCK: 0x40n,
  DIRSYNC: 0x80n,
  NOSYMFOLLOW: 0x100n,
  NOATIME: 0x400n,
  NODIRATIME: 0x800n,
  BIND: 0x1000n,
  MOVE: 0x2000n,
  REC: 0x4000n,
  SILENT: 0x8000n,
  UNBINDABLE: 0x20000n,
  PRIVATE: 0x40000n,
  SLAVE: 0x80000n,
  SHARED: 0x100000n,
  RELATIME: 0x200000n,
  I_VERSION: 0x800000n,
  STRICTATIME: 0x1000000n,
  LAZYTIME: 0x2000000n,
} as const;

const ATTR = {
  RDONLY: 0x1n,
  NOSUID: 0x2n,
  NODEV: 0x4n,
  NOEXEC: 0x8n,
  ATIME: 0x70n,
  RELATIME: 0x0n,
  NOATIME: 0x10n,
  STRICTATIME: 0x20n,
  NODIRATIME: 0x80n,
  NOSYMFOLLOW: 0x200000n,
} as const;

type Effect =
  | { set: bigint }
  | { clear: bigint }
  | { propagation: bigint }
  | { attrSet: bigint; attrClr?: bigint }
  | { attrClr: bigint }
  | { copyUp: true };

const OPTIONS: Record<string, Effect> = {
  async: { clear: MS.SYNCHRONOUS },
  atime: { clear: MS.NOATIME },
  bind: { set: MS.BIND },
  defaults: { set: 0n },
  dev: { clear: MS.NODEV },
  diratime: { clear: MS.NODIRATIME },
  dirsync: { set: MS.DIRSYNC },
  exec: { clear: MS.NOEXEC },
  iversion: { set: MS.I_VERSION },
  lazytime: { set: MS.LAZYTIME },
  loud: { clear: MS.SILENT },
  mand: { set: MS.MANDLOCK },
  noatime: { set: MS.NOATIME },
  nodev: { set: MS.NODEV },
  nodiratime: { set: MS.NODIRATIME },
  noexec: { set: MS.NOEXEC },
  noiversion: { clear: MS.I_VERSION },
  nolazytime: { clear: MS.LAZYTIME },
  nomand: { clear: MS.MANDLOCK },
  norelatime: { clear: MS.RELATIME },
  nostrictatime: { clear: MS.STRICTATIME },
  nosuid: { set: MS.NOSUID },
  nosymfollow: { set: MS.NOSYMFOLLOW },
  rbind: { set: MS.BIND | MS.REC },
  relatime: { set: MS.RELATIME },
  remount: { set: MS.REMOUNT },
  ro: { set: MS.RDONLY },
  rw: { clear: MS.RDONLY },
  silent: { set: MS.SILENT },
  strictatime: { set: MS.STRICTATIME },
  suid: { clear: MS.NOSUID },
  sync: { set: MS.SYNCHRONOUS },
  symfollow: { clear: MS.NOSYMFOLLOW },

  private: { propagation: MS.PRIVATE },
  rprivate: { propagation: MS.PRIVATE | MS.REC },
  shared: { propagation: MS.SHARED },
  rshared: { propagation: MS.SHARED | MS.REC },
  slave: { propagation: MS.SLAVE },
  rslave: { propagation: MS.SLAVE | MS.REC },
  unbindable: { propagation: MS.UNBINDABLE },
  runbindable: { propagation: MS.UNBINDABLE | MS.REC },

  rro: { attrSet: ATTR.RDONLY },
  rrw: { attrClr: ATTR.RDONLY },
  rnosuid: { attrSet: ATTR.NOSUID },
  rsuid: { attrClr: ATTR.NOSUID },
  rnodev: { attrSet: ATTR.NODEV },
  rdev: { attrClr: ATTR.NODEV },
  rnoexec: { attrSet: ATTR.NOEXEC },
  rexec: { attrClr: ATTR.NOEXEC },
  rnodiratime: { attrSet: ATTR.NODIRATIME },
  rdiratime: { attrClr: ATTR.NODIRATIME },
  rrelatime: { attrSet: ATTR.RELATIME, attrClr: ATTR.ATIME },
  rnorelatime: { attrClr: ATTR.ATIME },
  rnoatime: { attrSet: ATTR.NOATIME, attrClr: ATTR.ATIME },
  ratime: { attrClr: ATTR.ATIME },
  rstrictatime: { attrSet: ATTR.STRICTATIME, attrClr: ATTR.ATIME },
  rnostrictatime: { attrClr: ATTR.ATIME },
  rnosymfollow: { attrSet: ATTR.NOSYMFOLLOW },
  rsymfollow: { attrClr: ATTR.NOSYMFOLLOW },
  tmpcopyup: { copyUp: true },
};

/** Options that name a feature capsa does not implement: refused, never ignored. */
const UNSUPPORTED = new Set(['idmap', 'ridmap']);

export function propagationFlags(name: string): bigint | undefined {
  const e = OPTIONS[name];
  return e && 'propagation' in e ? e.propagation : undefined;
}

/** Turns one config mount into plan form. `bundle` anchors relative bind sources. */
export function planMount(m: Mount, index: number, bundle: string): PlanMount {
  const out: PlanMount = {
    source: m.source ?? '',
    // Relative destinations are deprecated but valid: relative to the container's root.
    destination: m.destination.startsWith('/') ? m.destination : `/${m.destination}`,
    fstype: m.type ?? '',
    flags: 0n,
    propagation: 0n,
    data: '',
    attrSet: 0n,
    attrClr: 0n,
  };
  const data: string[] = [];
  for (const opt of m.options ?? []) {
    if (UNSUPPORTED.has(opt))
      throw new CapsaError('config.json', `mount option "${opt}" is not supported by capsa`, `/mounts/${index}/options`);
    const e = OPTIONS[opt];
    if (!e) data.push(opt);
    else if ('set' in e) out.flags |= e.set;
    else if ('clear' in e) out.flags &= ~e.clear;
    else if ('propagation' in e) out.propagation |= e.propagation;
    else if ('copyUp' in e) out.copyUp = true;
    else {
      if ('attrSet' in e) out.attrSet |= e.attrSet;
      if (e.attrClr) out.attrClr |= e.attrClr;
    }
  }
  if (m.type === 'bind') out.flags |= MS.BIND;
  if (out.flags & MS.BIND) {
    out.fstype = '';
    if (!isAbsolute(out.source)) out.source = resolve(bundle, out.source);
  }
  if (out.copyUp && out.fstype !== 'tmpfs')
    throw new CapsaError('config.json', 'mount option "tmpcopyup" is for tmpfs mounts only', `/mounts/${index}/options`);
  if (m.uidMappings || m.gidMappings)
    throw new CapsaError('config.json', 'id-mapped mounts are not supported by capsa', `/mounts/${index}`);
  out.data = data.join(',');
  return out;
}

/** Filesystems that runc mounts without the SELinux mount label: proc and sysfs keep their
 *  own labels, cgroupfs takes none, and an mqueue root is labelled afterwards (capsa-init sets
 *  its xattr). Bind mounts ignore mount data, so they are never labelled either. */
const UNLABELED = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2']);

/** `linux.mountLabel` as the mount data that applies it to every file of the mount (runc's
 *  label.FormatMountLabel): quoted, because an MLS range like s0:c1,c2 has commas. */
export function labelMount(m: PlanMount, label: string | undefined): PlanMount {
  if (!label || m.flags & MS.BIND || UNLABELED.has(m.fstype)) return m;
  const context = `context="${label}"`;
  return { ...m, data: m.data ? `${m.data},${context}` : context };
}

/** Every option capsa understands, for `features`. */
export const MOUNT_OPTIONS = Object.keys(OPTIONS);
