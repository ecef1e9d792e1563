// The cgroup v2 device filter on a real cgroup2 hierarchy, as root: this machine's hybrid
// /sys/fs/cgroup/unified (or /sys/fs/cgroup on a unified host, as in the v2 VM). A process
// in the cgroup cannot open a device the rules deny, can open the ones they allow, and so
// can none of its sub-cgroups' processes; attaching again replaces the program.
import { mkdirSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { containerDeviceRules, hierarchies, openManager } from '../../lib/cgroups';
import { deviceFilter } from '../../lib/cgroups/devfilter';
import { attachDeviceFilter } from '../../lib/cgroups/v2';
import { removeCgroup } from '../../lib/cgroups/files';
import { native } from '../../lib/native';
import { TEST_PARENT, gated, isRoot } from './helpers';

const L = isRoot ? hierarchies() : undefined;
if (!isRoot) t.plan(0, 'needs root: makes cgroups and loads BPF programs');
else if (L?.unified === undefined) t.plan(0, 'no cgroup2 hierarchy is mounted on this host');
else run(L.unified);

function run(unified: string): void {
  const parent = `${unified}${TEST_PARENT}-bpf`;
  mkdirSync(parent);
  t.teardown(() => removeCgroup(parent, 5000));

  /** Runs `script` in the cgroup `dir`; resolves with its stdout and stderr. */
  const inCgroup = async (dir: string, script: string) => {
    const c = gated(script);
    writeFileSync(`${dir}/cgroup.procs`, String(c.pid));
    c.go();
    await c.exited;
    return c.stdout() + c.stderr();
  };
  const probe = 'for d in zero null full; do if echo -n > /dev/$d; then echo $d ok; fi; done 2>&1';

  t.test('deny all but /dev/null: /dev/zero cannot be opened; replaced, it can', async (t) => {
    const dir = `${parent}/a`;
    mkdirSync(dir);
    t.teardown(() => removeCgroup(dir, 5000));
    const before = await inCgroup(dir, probe);
    t.match(before, /zero ok\nnull ok\nfull ok/, 'no program yet: everything opens');
    const t0 = process.hrtime.bigint();
    attachDeviceFilter(dir, deviceFilter([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]));
    t.comment(`load + attach: ${Number(process.hrtime.bigint() - t0) / 1e6} ms`);
    const ids = native().deviceFilterIds(dir);
    t.equal(ids.length, 1, 'one program attached');
    const denied = await inCgroup(dir, probe);
    t.match(denied, /\/dev\/zero: Operation not permitted/);
    t.match(denied, /\/dev\/full: Operation not permitted/);
    t.match(denied, /null ok/);
    t.notMatch(denied, /zero ok/);

    // A sub-cgroup's processes are under the parent's program too.
    const sub = `${dir}/sub`;
    mkdirSync(sub);
    t.teardown(() => removeCgroup(sub, 5000));
    t.match(await inCgroup(sub, probe), /\/dev\/zero: Operation not permitted/, 'inherited by sub-cgroups');

    attachDeviceFilter(dir, deviceFilter([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, access: 'w' }]));
    const after = native().deviceFilterIds(dir);
    t.equal(after.length, 1, 'still one program');
    t.not(after[0], ids[0], 'a new one, the old one replaced');
    t.match(await inCgroup(dir, probe), /zero ok\nnull ok\nfull ok/, 'the new rules hold (write to 1:*)');
  });

  t.test("the v2 driver's apply(): the container's default rules after \"deny all\"", async (t) => {
    // A manager over the cgroup2 hierarchy alone; its directory is made here, not by create(),
    // so nothing is written to the shared parents' cgroup.subtree_control.
    const m = openManager(`${TEST_PARENT}-bpf/b`, { mode: 'unified', v1: new Map(), unified });
    const dir = m.dirs.get('') as string;
    mkdirSync(dir);
    t.teardown(() => removeCgroup(dir, 5000));
    t.same(m.apply({ devices: containerDeviceRules([{ allow: false, access: 'rwm' }]) }), []);
    const out = await inCgroup(dir, `${probe}; cat /dev/zero | head -c 3 | wc -c; head -c 1 /dev/kmsg 2>&1 | head -1`);
    t.match(out, /zero ok\nnull ok\nfull ok/, 'the default nodes open');
    t.match(out, /^3$/m, 'and read');
    t.match(out, /'\/dev\/kmsg'.*: Operation not permitted/, 'anything else is refused');
    t.throws(
      () => m.apply({ devices: [{ allow: true, type: 'c', major: 1, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 1, access: 'r' }] }),
      /cannot punch a hole/,
    );
    t.equal(native().deviceFilterIds(dir).length, 1, 'a refused rule list changes nothing');
  });
}
