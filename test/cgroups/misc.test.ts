// Layout detection, device rule lists, cgroup mount expansion, stats JSON, and the
// directory bookkeeping of create/destroy on a fake layout in a temporary directory: no root.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import t from 'tap';
import { openManager, openSystemdManager } from '../../lib/cgroups';
import type { Hierarchies } from '../../lib/cgroups/detect';
import { parseMountinfo } from '../../lib/cgroups/detect';
import { containerDeviceRules } from '../../lib/cgroups/devices';
import { cgroupMounts } from '../../lib/cgroups/mounts';
import { parsePsi, statsJson } from '../../lib/cgroups/stats';
import { MS } from '../../lib/plan/mounts';
import type { PlanMount } from '../../lib/plan/types';
import type { LinuxDeviceCgroup } from '../../lib/spec/types';

const HYBRID = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
32 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /mnt/memory-again rw,relatime - cgroup cgroup rw,memory
36 30 0:33 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children
37 30 0:34 / /sys/fs/cgroup/net_cls rw,relatime - cgroup cgroup rw,net_cls,release_agent=/x
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
41 30 0:38 / /mnt/with\\040space rw - cgroup cgroup rw,pids
`;

t.test('mountinfo: v1 controllers, name=, the cgroup2 mount, escapes', async (t) => {
  const { v1, unified } = parseMountinfo(HYBRID);
  t.equal(unified, '/sys/fs/cgroup/unified');
  t.equal(v1.get('cpu'), '/sys/fs/cgroup/cpu,cpuacct', 'co-mounted');
  t.equal(v1.get('cpuacct'), '/sys/fs/cgroup/cpu,cpuacct');
  t.equal(v1.get('memory'), '/sys/fs/cgroup/memory', 'the first mount of a hierarchy wins');
  t.equal(v1.get('cpuset'), '/sys/fs/cgroup/cpuset');
  t.equal(v1.get('net_cls'), '/sys/fs/cgroup/net_cls');
  t.equal(v1.get('name=systemd'), '/sys/fs/cgroup/systemd');
  t.equal(v1.get('pids'), '/mnt/with space');
  t.notOk(v1.has('clone_children'));
  t.notOk(v1.has('xattr'));
  t.notOk(v1.has('rw'));
  t.same(parseMountinfo('25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw').unified, '/sys/fs/cgroup');
  t.equal(parseMountinfo('').v1.size, 0);
});

t.test('device rules: config rules first, then runc\'s defaults minus redefined paths', async (t) => {
  const spec: LinuxDeviceCgroup[] = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }];
  const rules = containerDeviceRules(spec);
  t.same(rules.slice(0, 2), spec);
  t.equal(rules.length, 2 + 11);
  t.same(rules[2], { allow: true, type: 'c', major: -1, minor: -1, access: 'm' });
  t.ok(rules.some((r) => r.major === 1 && r.minor === 3));
  const without = containerDeviceRules(spec, ['/dev/null']);
  t.notOk(without.some((r) => r.major === 1 && r.minor === 3), '/dev/null redefined by linux.devices');
  t.equal(containerDeviceRules(undefined).length, 11);
});

const cgMount: PlanMount = {
  source: 'cgroup',
  destination: '/sys/fs/cgroup',
  fstype: 'cgroup',
  flags: MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY,
  propagation: 0n,
  data: '',
  attrSet: 0n,
  attrClr: 0n,
};

t.test('cgroup mounts on v1: tmpfs + one per hierarchy', async (t) => {
  const { v1, unified } = parseMountinfo(HYBRID);
  const layout: Hierarchies = { mode: 'hybrid', v1, unified };
  const binds = cgroupMounts(layout, '/capsa/c1', cgMount, false);
  t.equal(binds[0]?.fstype, 'tmpfs');
  t.equal(binds[0]?.data, 'mode=755');
  const mem = binds.find((m) => m.destination === '/sys/fs/cgroup/memory');
  t.equal(mem?.source, '/sys/fs/cgroup/memory/capsa/c1');
  t.equal(mem && mem.flags & (MS.BIND | MS.RDONLY), MS.BIND | MS.RDONLY, 'a read-only bind');
  t.ok(binds.find((m) => m.destination === '/sys/fs/cgroup/cpu,cpuacct'));
  t.ok(binds.find((m) => m.destination === '/sys/fs/cgroup/systemd'));
  t.notOk(binds.find((m) => m.destination === '/sys/fs/cgroup/unified'), 'hybrid cgroup2 not shown');
  const ns = cgroupMounts(layout, '/capsa/c1', cgMount, true);
  const nsMem = ns.find((m) => m.destination === '/sys/fs/cgroup/memory');
  t.equal(nsMem?.fstype, 'cgroup');
  t.equal(nsMem?.data, 'memory');
  t.equal(ns.find((m) => m.destination === '/sys/fs/cgroup/cpu,cpuacct')?.data, 'cpu,cpuacct', 'co-mounted: both controllers');
  const sd = ns.find((m) => m.destination === '/sys/fs/cgroup/systemd');
  t.equal(sd?.source, 'systemd');
  t.equal(sd?.data, 'name=systemd');
});

t.test('cgroup mounts on v2: cgroup2 with a namespace, else a bind of the container\'s cgroup', async (t) => {
  const layout: Hierarchies = { mode: 'unified', v1: new Map(), unified: '/sys/fs/cgroup' };
  const [ns] = cgroupMounts(layout, '/capsa/c1', cgMount, true);
  t.equal(ns?.fstype, 'cgroup2');
  const [b] = cgroupMounts(layout, '/capsa/c1', cgMount, false);
  t.equal(b?.source, '/sys/fs/cgroup/capsa/c1');
  t.equal(b && b.flags & MS.BIND, MS.BIND);
});

t.test('stats JSON prints u64 values exactly', async (t) => {
  t.equal(statsJson({ a: 18446744073709551615n, b: 1, c: [2n] }), '{"a":18446744073709551615,"b":1,"c":[2]}');
  const psi = parsePsi('some avg10=0.50 avg60=0.00 avg300=0.00 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=4\n');
  t.same(psi, { some: { avg10: 0.5, avg60: 0, avg300: 0, total: 123 }, full: { avg10: 0, avg60: 0, avg300: 0, total: 4 } });
});

t.test('create/destroy bookkeeping on a fake v1 layout', async (t) => {
  const root = mkdtempSync(`${tmpdir()}/capsa-cgfake-`);
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const layout: Hierarchies = {
    mode: 'legacy',
    v1: new Map([
      ['memory', `${root}/memory`],
      ['pids', `${root}/pids`],
    ]),
  };
  for (const m of layout.v1.values()) mkdirSync(m);

  // Two containers under the shared default parent: the parent goes with the last one.
  const a = openManager('/capsa/a', layout);
  const b = openManager('/capsa/b', layout);
  let planned: string[] = [];
  const madeA = a.create((p) => (planned = p));
  t.same(planned, madeA, 'the plan is what gets made');
  t.same(madeA.sort(), [`${root}/memory/capsa`, `${root}/memory/capsa/a`, `${root}/pids/capsa`, `${root}/pids/capsa/a`]);
  const madeB = b.create();
  t.same(madeB.sort(), [`${root}/memory/capsa/b`, `${root}/pids/capsa/b`], 'the parent existed: not b\'s');
  a.destroy(madeA);
  t.ok(existsSync(`${root}/memory/capsa/b`));
  t.notOk(existsSync(`${root}/memory/capsa/a`));
  b.destroy(madeB);
  t.notOk(existsSync(`${root}/memory/capsa`), 'the shared parent is removed once empty, by whoever is last');
  t.notOk(existsSync(`${root}/pids/capsa`));

  // A parent that existed before is never removed, even when empty.
  mkdirSync(`${root}/memory/keep`);
  const c = openManager('/keep/c', layout);
  const madeC = c.create();
  t.notOk(madeC.includes(`${root}/memory/keep`));
  c.destroy(madeC);
  t.ok(existsSync(`${root}/memory/keep`), 'a directory capsa did not make stays');
  t.notOk(existsSync(`${root}/pids/keep`), 'the one it made goes');

  // Directories outside the container's path are ignored, whatever the list says.
  mkdirSync(`${root}/memory/other`);
  const d = openManager('/capsa/d', layout);
  d.destroy([`${root}/memory/other`, '/etc']);
  t.ok(existsSync(`${root}/memory/other`));

  // A failing create removes what it made.
  const e = openManager('/fail/e', { mode: 'legacy', v1: new Map([['memory', `${root}/memory`], ['pids', `${root}/nonexistent/pids`]]) });
  t.throws(() => e.create(), /make cgroup/);
  t.notOk(existsSync(`${root}/memory/fail`), 'undone');
});

t.test('--systemd-cgroup: the path form is checked, then a clear refusal', async (t) => {
  t.throws(() => openSystemdManager('not-three-parts', 'x'), /expected "slice:prefix:name"/);
  if (existsSync('/run/systemd/system')) t.throws(() => openSystemdManager('system.slice:capsa:x', 'x'), /not implemented yet/);
  else t.throws(() => openSystemdManager('system.slice:capsa:x', 'x'), /cgroup: capsa-x.scope: systemd is not running on this host/);
});
