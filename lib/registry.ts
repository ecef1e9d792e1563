// What capsa implements, in one place. The plan builder refuses whatever is not here, the
// `features` command prints it, and tests skip on it: nothing unimplemented is advertised
// and nothing unimplemented is silently ignored.
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
  apparmor: false,
  selinux: false,
  intelRdt: false,
  idmapMounts: false,
  scheduler: false,
  execCPUAffinity: false,
  memoryPolicy: false,
  netDevices: false,
};

/** Each part of `config` that asks for something capsa does not implement, as pointer + what. */
export function unsupported(config: Spec): { pointer: string; what: string }[] {
  const out: { pointer: string; what: string }[] = [];
  const p = config.process;
  const l = config.linux;
  const no = (cond: unknown, pointer: string, what: string) => cond !== undefined && cond !== null && out.push({ pointer, what });
  if (!registry.intelRdt) no(l?.intelRdt, '/linux/intelRdt', 'Intel RDT');
  if (!registry.memoryPolicy) no(l?.memoryPolicy, '/linux/memoryPolicy', 'memory policy');
  if (!registry.netDevices) no(l?.netDevices, '/linux/netDevices', 'network devices');
  if (!registry.scheduler) no(p?.scheduler, '/process/scheduler', 'the scheduler setting');
  if (!registry.execCPUAffinity) no(p?.execCPUAffinity, '/process/execCPUAffinity', 'execCPUAffinity');
  if (!registry.apparmor) no(p?.apparmorProfile || undefined, '/process/apparmorProfile', 'AppArmor (not enabled on this host)');
  if (!registry.selinux) {
    no(p?.selinuxLabel || undefined, '/process/selinuxLabel', 'SELinux (not enabled on this host)');
    no(l?.mountLabel || undefined, '/linux/mountLabel', 'SELinux (not enabled on this host)');
  }
  if (l?.personality?.flags?.length) out.push({ pointer: '/linux/personality/flags', what: 'personality flags' });
  return out;
}

export function checkSupported(config: Spec): void {
  const u = unsupported(config);
  if (u.length)
    throw new CapsaError('config.json', u.map((x) => `${x.pointer}: ${x.what} is not supported by capsa`).join('; '));
}
