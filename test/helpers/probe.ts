// capsa-test-probe (native/test/probe.c): the attacker and witness of the security tests, and
// the modes those tests run in.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_DIR, type EnvOptions } from './capsa';

export const PROBE = join(ROOT_DIR, 'build', 'Release', 'capsa-test-probe');
/** Where addProbe() puts it inside a container (on the config's /tmp tmpfs). */
export const INNER_PROBE = '/tmp/probe';

/** Binds the probe into the container, read-only, after the config's /tmp mount. */
export function addProbe(c: any): void {
  c.mounts.push({ destination: INNER_PROBE, type: 'bind', source: PROBE, options: ['bind', 'ro'] });
}

/** The hardening tests run twice: as the host allows, and with openat2 refused by an outer
 *  seccomp filter (ENOSYS, as older container engines' profiles do), where capsa-init
 *  resolves paths inside the rootfs by its own component walk. */
export const MODES: { name: string; opts: EnvOptions }[] = [
  { name: 'openat2', opts: {} },
  { name: 'no-openat2', opts: { wrap: [PROBE, 'deny', 'openat2', '38'] } },
];

export function probeMissing(): string | undefined {
  return existsSync(PROBE) ? undefined : 'build/Release/capsa-test-probe is not built (npm run build)';
}

/** "name RESULT" lines of `probe call` → { name: RESULT }. */
export function calls(out: string): Record<string, string> {
  return Object.fromEntries(out.trim().split('\n').filter((l) => l.includes(' ')).map((l) => l.split(' ') as [string, string]));
}
