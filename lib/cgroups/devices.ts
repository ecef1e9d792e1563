// The device rule list a container's cgroup gets, in the order runc builds it
// (libcontainer/specconv CreateCgroupConfig + createDevices): the config's
// linux.resources.devices first, then runc's AllowedDevices, minus those whose path the
// config's linux.devices redefines. Clients depend on the defaults: podman sends only
// "deny all" and expects /dev/null and friends to keep working.
import type { LinuxDeviceCgroup } from './resources';

const rw = 'rwm';

/** runc's AllowedDevices: mknod of anything, the standard nodes, ptys, and /dev/net/tun. */
export const DEFAULT_DEVICE_RULES: ReadonlyArray<{ rule: LinuxDeviceCgroup; path?: string }> = [
  { rule: { allow: true, type: 'c', major: -1, minor: -1, access: 'm' } },
  { rule: { allow: true, type: 'b', major: -1, minor: -1, access: 'm' } },
  { path: '/dev/null', rule: { allow: true, type: 'c', major: 1, minor: 3, access: rw } },
  { path: '/dev/random', rule: { allow: true, type: 'c', major: 1, minor: 8, access: rw } },
  { path: '/dev/full', rule: { allow: true, type: 'c', major: 1, minor: 7, access: rw } },
  { path: '/dev/tty', rule: { allow: true, type: 'c', major: 5, minor: 0, access: rw } },
  { path: '/dev/zero', rule: { allow: true, type: 'c', major: 1, minor: 5, access: rw } },
  { path: '/dev/urandom', rule: { allow: true, type: 'c', major: 1, minor: 9, access: rw } },
  { rule: { allow: true, type: 'c', major: 136, minor: -1, access: rw } },
  { rule: { allow: true, type: 'c', major: 5, minor: 2, access: rw } },
  { rule: { allow: true, type: 'c', major: 10, minor: 200, access: rw } },
];

/**
 * The full rule list for a container: `specRules` (linux.resources.devices) in order, then
 * the defaults not overridden by a linux.devices entry with the same path.
 */
export function containerDeviceRules(
  specRules: readonly LinuxDeviceCgroup[] | undefined,
  linuxDevicePaths: readonly string[] = [],
): LinuxDeviceCgroup[] {
  const taken = new Set(linuxDevicePaths);
  return [
    ...(specRules ?? []),
    ...DEFAULT_DEVICE_RULES.filter((d) => d.path === undefined || !taken.has(d.path)).map((d) => ({ ...d.rule })),
  ];
}
