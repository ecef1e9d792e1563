import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CapsaError } from '../errors';
import type { Spec } from '../spec/types';

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** The default config runc writes, with capsa's name and spec version. */
export function defaultSpec(): Spec {
  return {
    ociVersion: '1.3.0',
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'capsa',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** runc's rootless changes: a user namespace mapping the caller, no network namespace (it
 *  could not be configured), /sys bound from the host, no cgroup settings, no fixed gids. */
export function toRootless(s: Spec, uid: number, gid: number): Spec {
  const linux = s.linux!;
  linux.namespaces = linux.namespaces!.filter((n) => n.type !== 'network').concat({ type: 'user' });
  linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
  delete linux.resources;
  s.mounts = s.mounts!.map((m) =>
    m.destination === '/sys'
      ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { ...m, options: m.options?.filter((o) => !o.startsWith('gid=')) },
  );
  return s;
}

export function spec(o: { bundle: string; rootless: boolean }): void {
  const file = join(o.bundle, 'config.json');
  if (existsSync(file)) throw new CapsaError('spec', 'config.json exists; remove it first', file);
  const s = defaultSpec();
  writeFileSync(file, JSON.stringify(o.rootless ? toRootless(s, process.geteuid!(), process.getegid!()) : s, null, 2) + '\n');
}
