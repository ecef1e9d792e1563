// The container's /dev: the default nodes every container gets (config-linux.md "Default
// Devices"), the config's own, and the standard symlinks.
import { DEVICE_TYPE_BITS } from '../spec/names';
import type { LinuxDevice, Mount } from '../spec/types';
import type { PlanDevice } from './types';

const S_IFCHR = DEVICE_TYPE_BITS.c;

// In runc's order, which shows in mountinfo where they are bind mounts (a user namespace).
const DEFAULTS: [string, number, number][] = [
  ['/dev/null', 1, 3],
  ['/dev/random', 1, 8],
  ['/dev/full', 1, 7],
  ['/dev/tty', 5, 0],
  ['/dev/zero', 1, 5],
  ['/dev/urandom', 1, 9],
];

export const DEV_SYMLINKS = [
  { target: '/proc/self/fd', path: '/dev/fd' },
  { target: '/proc/self/fd/0', path: '/dev/stdin' },
  { target: '/proc/self/fd/1', path: '/dev/stdout' },
  { target: '/proc/self/fd/2', path: '/dev/stderr' },
  { target: 'pts/ptmx', path: '/dev/ptmx' },
];

/** A bind-mounted /dev comes from the host as it is: nothing is created in it (as runc). */
export function hostDev(mounts: Mount[]): boolean {
  return mounts.some((m) => m.destination === '/dev' && (m.type === 'bind' || m.options?.some((o) => o === 'bind' || o === 'rbind')));
}

/** Default devices first, the config's after (same path: the config wins). Owners are ids in
 *  the container's user namespace. In a new user namespace nodes cannot be made, so the
 *  host's are bound instead. */
export function planDevices(devices: LinuxDevice[], bind: boolean): PlanDevice[] {
  const byPath = new Map<string, PlanDevice>();
  for (const [path, major, minor] of DEFAULTS)
    byPath.set(path, { path, mode: S_IFCHR | 0o666, major, minor, uid: 0, gid: 0, bind });
  for (const d of devices) {
    byPath.set(d.path, {
      path: d.path,
      mode: DEVICE_TYPE_BITS[d.type] | ((d.fileMode ?? 0o666) & 0o777),
      major: d.major ?? 0,
      minor: d.minor ?? 0,
      uid: d.uid ?? 0,
      gid: d.gid ?? 0,
      bind,
    });
  }
  return [...byPath.values()];
}
