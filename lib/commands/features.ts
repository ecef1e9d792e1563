import { native } from '../native';
import { out } from '../output';
import { registry } from '../registry';
import { supportedFlags } from '../seccomp';

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
        // What this kernel accepts (asked of seccomp(2) itself).
        supportedFlags: supportedFlags(native()),
      },
      apparmor: { enabled: r.apparmor },
      selinux: { enabled: r.selinux },
      intelRdt: { enabled: r.intelRdt },
      mountExtensions: { idmap: { enabled: r.idmapMounts } },
    },
  };
  out(JSON.stringify(doc, null, 2) + '\n');
}
