// The cgroup library: find the host's layout once, then one manager per container.
//
//   const cg = openManager(resolveCgroupPath(config.linux?.cgroupsPath, id));
//   const made = cg.create((planned) => recordInState(planned));
//   cg.apply(resources);   // before the process runs anything of the user's
//   cg.addProcess(pid);
//   ...
//   cg.destroy(made);      // after the caller killed what was left
import { existsSync } from 'node:fs';
import { CapsaError } from '../errors';
import type { CgroupManager } from './base';
import { type Hierarchies, hierarchies } from './detect';
import { parseSystemdCgroupsPath } from './path';

export type { CgroupManager, FreezerState } from './base';
export { type CgroupMode, type Hierarchies, detectMode, hierarchies } from './detect';
export { DEFAULT_PARENT, parseSystemdCgroupsPath, resolveCgroupPath } from './path';
export { containerDeviceRules, DEFAULT_DEVICE_RULES } from './devices';
export type { LinuxResources } from './resources';
export { type Stats, statsJson } from './stats';

/** The manager for the cgroup at `path` ("/capsa/web1"), for this host's layout. */
export function openManager(path: string, layout: Hierarchies = hierarchies()): CgroupManager {
  // Only this host's driver is loaded: start-up is every command's cost.
  /* eslint-disable @typescript-eslint/no-require-imports */
  if (layout.mode === 'unified') return new (require('./v2') as typeof import('./v2')).V2Manager(path, layout);
  return new (require('./v1') as typeof import('./v1')).V1Manager(path, layout);
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/**
 * `--systemd-cgroup`: checks the cgroupsPath form, then refuses clearly: capsa has no
 * systemd (D-Bus) driver yet, and on a host without systemd there is nothing to talk to.
 */
export function openSystemdManager(cgroupsPath: string | undefined, id: string): never {
  const unit = parseSystemdCgroupsPath(cgroupsPath, id);
  if (!existsSync('/run/systemd/system'))
    throw new CapsaError(
      'cgroup',
      'systemd is not running on this host (no /run/systemd/system), so --systemd-cgroup cannot be used',
      unit.unit,
    );
  throw new CapsaError('cgroup', 'the systemd cgroup driver (--systemd-cgroup) is not implemented yet', unit.unit);
}
