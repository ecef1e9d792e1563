// What capsa implements, in one place. The plan builder refuses whatever is not here, the
// `features` command prints it, and tests skip on it: nothing unimplemented is advertised
// and nothing unimplemented is silently ignored.
import { existsSync, readFileSync } from 'node:fs';
import { CapsaError } from './errors';
import { MOUNT_OPTIONS } from './plan/mounts';
import { ACTIONS, ARCHES, FLAGS, OPERATORS } from './seccomp';
import { CAPABILITIES } from './spec/names';
import type { Spec } from './spec/types';

export const registry = {
  ociVersionMin: '1.0.0',
  ociVersionMax: '1.3.0',
  hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
  namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
  mountOptions: MOUNT_OPTIONS,
  capabilities: Object.keys(CAPABILITIES),
  cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
  seccomp: {
    actions: Object.keys(ACTIONS),
    operators: Object.keys(OPERATORS),
    archs: Object.keys(ARCHES),
    flags: Object.keys(FLAGS),
  },
  seccompNotify: true,
  apparmor: true,
  selinux: true,
  intelRdt: false,
  idmapMounts: false,
  scheduler: false,
  execCPUAffinity: false,
  memoryPolicy: false,
  netDevices: false,
};

/** Which label-based LSMs the host runs (the files their runc counterparts look at). */
export interface HostLsm {
  apparmor: boolean;
  selinux: boolean;
}

export function hostLsm(): HostLsm {
  let apparmor = false;
  try {
    apparmor = readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y') && existsSync('/sys/kernel/security/apparmor');
  } catch {
    // no AppArmor in this kernel
  }
  return { apparmor, selinux: selinuxActive() };
}

/** SELinux is running once selinuxfs is mounted and a policy is loaded: before that, every
 *  task is "kernel" and no label is valid (go-selinux's GetEnabled). */
function selinuxActive(): boolean {
  if (!existsSync('/sys/fs/selinux/enforce')) return false;
  try {
    return readFileSync('/proc/self/attr/current', 'utf8').replace(/\0?\n?$/, '') !== 'kernel';
  } catch {
    return false;
  }
}

/** Each part of `config` that asks for something capsa does not implement, as pointer + why. */
export function unsupported(config: Spec, lsm?: HostLsm): { pointer: string; why: string }[] {
  const out: { pointer: string; why: string }[] = [];
  const p = config.process;
  const l = config.linux;
  const no = (cond: unknown, pointer: string, what: string) =>
    cond !== undefined && cond !== null && out.push({ pointer, why: `${what} is not supported by capsa` });
  if (!registry.intelRdt) no(l?.intelRdt, '/linux/intelRdt', 'Intel RDT');
  if (!registry.memoryPolicy) no(l?.memoryPolicy, '/linux/memoryPolicy', 'memory policy');
  if (!registry.netDevices) no(l?.netDevices, '/linux/netDevices', 'network devices');
  if (!registry.scheduler) no(p?.scheduler, '/process/scheduler', 'the scheduler setting');
  if (!registry.execCPUAffinity) no(p?.execCPUAffinity, '/process/execCPUAffinity', 'execCPUAffinity');
  // A label for an LSM the host does not run would protect nothing: that is said first. The
  // host is asked only when a config names a label (it costs reads on every create).
  const label = (value: string | undefined, pointer: string, lsmName: 'apparmor' | 'selinux') => {
    if (!value) return;
    const name = lsmName === 'apparmor' ? 'AppArmor' : 'SELinux';
    if (!(lsm ??= hostLsm())[lsmName]) out.push({ pointer, why: `${JSON.stringify(value)} asks for ${name}, which is not enabled on this host` });
    else if (!registry[lsmName]) out.push({ pointer, why: `${name} labels are not supported by capsa` });
  };
  label(p?.apparmorProfile, '/process/apparmorProfile', 'apparmor');
  label(p?.selinuxLabel, '/process/selinuxLabel', 'selinux');
  label(l?.mountLabel, '/linux/mountLabel', 'selinux');
  if (l?.personality?.flags?.length) no(true, '/linux/personality/flags', 'personality flags');
  return out;
}

export function checkSupported(config: Spec): void {
  const u = unsupported(config);
  if (u.length) throw new CapsaError('config.json', u.map((x) => `${x.pointer}: ${x.why}`).join('; '));
}
