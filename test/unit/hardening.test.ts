// The policy side of the hardening, without root: what the plan and the parsers decide.
import t from 'tap';
import { cgroupMounts } from '../../lib/cgroups/mounts';
import { buildPlan, PlanContext } from '../../lib/plan/build';
import { MS } from '../../lib/plan/mounts';
import type { PlanMount } from '../../lib/plan/types';
import { unsupported } from '../../lib/registry';
import { parseJson } from '../../lib/spec/parse';
import type { Spec } from '../../lib/spec/types';

const ctx = (cgroup: (m: PlanMount) => PlanMount[] = (m) => [m]): PlanContext => ({
  id: 'c1',
  bundle: '/b',
  rootfs: '/b/rootfs',
  stateDir: '/run/capsa/c1',
  parentPid: 1,
  noPivot: false,
  noNewKeyring: false,
  compileSeccomp: () => ({ program: Buffer.alloc(8), flags: 0 }),
  cgroupMounts: cgroup,
});
const config = (options: string[]): Spec => ({
  ociVersion: '1.3.0',
  process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' },
  root: { path: 'rootfs' },
  mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options }],
  linux: { namespaces: [{ type: 'mount' }] },
});

t.test('a cgroup mount is read-only unless the config says rw', async (t) => {
  const flags = (options: string[]) => buildPlan(config(options), ctx()).mounts[0].flags;
  t.equal(flags(['nosuid']) & MS.RDONLY, MS.RDONLY);
  t.equal(flags(['nosuid', 'ro']) & MS.RDONLY, MS.RDONLY);
  t.equal(flags(['nosuid', 'rw']) & MS.RDONLY, 0n);
  // On v1, the tmpfs that holds the hierarchies is remounted read-only after them.
  const layout = { mode: 'hybrid' as const, v1: new Map([['memory', '/sys/fs/cgroup/memory']]), unified: '/sys/fs/cgroup/unified' };
  const ro = cgroupMounts(layout, '/x', buildPlan(config([]), ctx()).mounts[0], false);
  t.same(ro.map((m) => [m.destination, m.fstype, Boolean(m.flags & MS.REMOUNT), Boolean(m.flags & MS.RDONLY)]), [
    ['/sys/fs/cgroup', 'tmpfs', false, false],
    ['/sys/fs/cgroup/memory', '', false, true],
    ['/sys/fs/cgroup', 'tmpfs', true, true],
  ]);
  const rw = cgroupMounts(layout, '/x', buildPlan(config(['rw']), ctx()).mounts[0], false);
  t.equal(rw.length, 2, 'asked for rw: no remount');
});

t.test('integers beyond 64 bits are refused from the text, wherever they are', async (t) => {
  t.same(parseJson('{"a": 18446744073709551615, "b": -9223372036854775808}', 'x'), { a: 18446744073709551615, b: -9223372036854775808 });
  t.throws(() => parseJson('{"a": 18446744073709551616}', 'x'), /the integer 18446744073709551616 at line 1, column 7 does not fit in 64 bits/);
  t.throws(() => parseJson('{\n "a": [1, -9223372036854775809]}', 'x'), /at line 2, column 11/);
  t.same((parseJson('{"s": "99999999999999999999999", "f": 1234567890123456789012.5}', 'x') as { s: string }).s, '99999999999999999999999', 'strings and fractions are not integers');
});

t.test('LSM labels: refused for an LSM the host does not run, taken where it runs', async (t) => {
  const c: Spec = { ...config([]), process: { ...config([]).process!, apparmorProfile: 'p', selinuxLabel: 'l' } };
  c.linux = { ...c.linux, mountLabel: 'm' };
  t.same(unsupported(c, { apparmor: false, selinux: false }).map((u) => u.why), [
    '"p" asks for AppArmor, which is not enabled on this host',
    '"l" asks for SELinux, which is not enabled on this host',
    '"m" asks for SELinux, which is not enabled on this host',
  ]);
  t.same(unsupported(c, { apparmor: true, selinux: true }), [], 'both where both run');
  t.same(unsupported({ ...c, process: { ...c.process!, selinuxLabel: undefined }, linux: { ...c.linux, mountLabel: '' } }, { apparmor: true, selinux: false }), [], 'an AppArmor profile where AppArmor runs');
  t.same(unsupported({ ...c, process: { ...c.process!, apparmorProfile: undefined } }, { apparmor: false, selinux: true }), [], 'SELinux labels where SELinux runs');
});
