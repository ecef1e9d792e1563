import { out } from '../output';
import { registry } from '../registry';

/** The runtime-spec features document (features.md), built from the registry alone. */
export function features(): void {
  const r = registry;
  const doc = {
    ociVersionMin: r.ociVersionMin,
    ociVersionMax: r.ociVersionMax,
    hooks: r.hooks,
    mountOptions: r.mountOptions,
    linux: {
      namespaces: r.namespaces,
      capabilities: r.capabilities,
      cgroup: r.cgroup,
      seccomp: {
        enabled: true,
        actions: r.seccomp.actions,
        operators: r.seccomp.operators,
        archs: r.seccomp.archs,
        knownFlags: r.seccomp.flags,
        supportedFlags: r.seccomp.flags,
      },
      apparmor: { enabled: r.apparmor },
      selinux: { enabled: r.selinux },
      intelRdt: { enabled: r.intelRdt },
      mountExtensions: { idmap: { enabled: r.idmapMounts } },
    },
  };
  out(JSON.stringify(doc, null, 2) + '\n');
}
