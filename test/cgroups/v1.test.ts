// The cgroup v1 driver on this machine's controllers (hybrid or legacy), as root: every
// resource is written through the library and read back from the container's cgroup, and
// where it can be seen, its effect on a real process. Everything lives under
// /capsa-test-<pid> and is removed in teardown, also when a test fails.
import { existsSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { containerDeviceRules, hierarchies, openManager } from '../../lib/cgroups';
import { destroyAfterKill, forkLoop, freezeThaw, killAll, nestedDestroy, oomKilled, statsShape, timings } from './effects';
import { TEST_PARENT, blockDevice, gated, isRoot, leftovers, mounts, read, skip, sweep, testCgroup } from './helpers';

const layout = isRoot ? hierarchies() : undefined;
if (!isRoot) t.plan(0, 'needs root: writes to /sys/fs/cgroup');
else if (layout?.mode === 'unified') t.plan(0, 'this host runs cgroup v2 only: see v2.test.ts');
else run();

function run(): void {
  const L = layout as NonNullable<typeof layout>;
  t.teardown(() => sweep(L));
  const has = (c: string) => L.v1.has(c);
  const dir = (m: { dirs: ReadonlyMap<string, string> }, c: string) => m.dirs.get(c);

  t.test('create makes a directory in every hierarchy; cpuset is usable at once', async (t) => {
    let planned: string[] = [];
    const m = openManager(`${TEST_PARENT}/create`, L);
    const made = m.create((p) => (planned = p));
    t.teardown(() => m.destroy(made));
    t.same(planned, made, 'what was planned (recorded before mkdir) is what was made');
    for (const mp of mounts(L)) {
      t.ok(existsSync(mp + TEST_PARENT + '/create'), `${mp} has the leaf`);
      t.ok(made.includes(mp + TEST_PARENT), `${mp}: the test parent was made by this create`);
    }
    if (L.mode === 'hybrid') t.ok(made.includes(`${L.unified}${TEST_PARENT}/create`), 'hybrid: the cgroup2 directory too');
    if (has('cpuset')) {
      const root = L.v1.get('cpuset') as string;
      t.equal(read(dir(m, 'cpuset'), 'cpuset.cpus'), read(root, 'cpuset.cpus'), 'cpus copied down');
      t.equal(read(dir(m, 'cpuset'), 'cpuset.mems'), read(root, 'cpuset.mems'), 'mems copied down');
    }
    const c = gated('sleep 100');
    t.teardown(() => c.child.kill('SIGKILL'));
    m.addProcess(c.pid);
    const own = read(`/proc/${c.pid}`, 'cgroup');
    for (const ctrl of L.v1.keys())
      t.match(own, new RegExp(`^\\d+:[^:]*\\b${ctrl}\\b[^:]*:${TEST_PARENT}/create$`, 'm'), `in the ${ctrl} cgroup`);
    if (L.mode === 'hybrid') t.match(own, new RegExp(`^0::${TEST_PARENT}/create$`, 'm'), 'in the cgroup2 one');
    t.same(m.pids(), [c.pid]);
    t.ok(m.exists());
    t.throws(() => openManager(`${TEST_PARENT}/create`, L).create(), /container's cgroup is not empty: 1 process/);
    c.child.kill('SIGKILL');
    await c.exited;
  });

  t.test('addProcess errors name the file and the pid', async (t) => {
    const { m } = testCgroup(t, 'badpid', L);
    t.throws(() => m.addProcess(999999999), /cgroup: \/sys\/fs\/cgroup\/.*\/cgroup.procs: write "999999999"/);
  });

  t.test('memory: limit, reservation, swap, swappiness, disableOOMKiller', async (t) => {
    if (!has('memory')) return skip(t, 'no memory controller mounted');
    const { m } = testCgroup(t, 'memory', L);
    const d = dir(m, 'memory');
    const memsw = existsSync(`${d}/memory.memsw.limit_in_bytes`);
    const warnings = m.apply({
      memory: {
        limit: 67108864,
        reservation: 33554432,
        ...(memsw ? { swap: 134217728 } : {}),
        swappiness: 10,
        disableOOMKiller: true,
        kernel: 67108864,
        kernelTCP: 67108864,
      },
    });
    t.equal(read(d, 'memory.limit_in_bytes'), '67108864');
    t.equal(read(d, 'memory.soft_limit_in_bytes'), '33554432');
    t.equal(read(d, 'memory.swappiness'), '10');
    t.match(read(d, 'memory.oom_control'), /^oom_kill_disable 1$/m);
    // One warning per setting the kernel dropped (both since Linux 6.x: they read back unlimited).
    t.ok(warnings.length > 0, 'kernel memory: a warning, like runc');
    for (const w of warnings) t.match(w, /^linux\.resources\.memory\.kernel(TCP)? is ignored: /);
    if (!memsw) skip(t, 'swap: memory.memsw.limit_in_bytes absent (swap accounting off)');
    else {
      t.equal(read(d, 'memory.memsw.limit_in_bytes'), '134217728');
      // Raising both needs memsw first, lowering both needs the limit first.
      m.update({ memory: { limit: 268435456, swap: 536870912 } });
      t.equal(read(d, 'memory.limit_in_bytes'), '268435456');
      t.equal(read(d, 'memory.memsw.limit_in_bytes'), '536870912');
      m.update({ memory: { limit: 33554432, swap: 33554432 } });
      t.equal(read(d, 'memory.limit_in_bytes'), '33554432');
      t.equal(read(d, 'memory.memsw.limit_in_bytes'), '33554432');
      m.update({ memory: { limit: -1 } });
      t.equal(read(d, 'memory.limit_in_bytes'), read(L.v1.get('memory'), 'memory.limit_in_bytes'), 'unlimited');
      t.equal(read(d, 'memory.memsw.limit_in_bytes'), read(L.v1.get('memory'), 'memory.memsw.limit_in_bytes'), 'limit -1: swap too');
    }
    m.update({ memory: { disableOOMKiller: false } });
    t.match(read(d, 'memory.oom_control'), /^oom_kill_disable 0$/m);
    t.throws(() => m.apply({ memory: { swappiness: 101 } }), /swappiness must be between 0 and 100/);
  });

  t.test('cpu: shares, quota, period, burst, idle, realtime', async (t) => {
    if (!has('cpu')) return skip(t, 'no cpu controller mounted');
    const { m } = testCgroup(t, 'cpu', L);
    const d = dir(m, 'cpu');
    m.apply({ cpu: { shares: 512, quota: 50000, period: 100000, burst: 10000 } });
    t.equal(read(d, 'cpu.shares'), '512');
    t.equal(read(d, 'cpu.cfs_quota_us'), '50000');
    t.equal(read(d, 'cpu.cfs_period_us'), '100000');
    if (existsSync(`${d}/cpu.cfs_burst_us`)) t.equal(read(d, 'cpu.cfs_burst_us'), '10000');
    else skip(t, 'burst: cpu.cfs_burst_us absent in this kernel');
    m.update({ cpu: { quota: 20000, period: 40000 } });
    t.equal(read(d, 'cpu.cfs_quota_us'), '20000');
    t.equal(read(d, 'cpu.cfs_period_us'), '40000');
    m.update({ cpu: { quota: -1 } });
    t.equal(read(d, 'cpu.cfs_quota_us'), '-1');
    t.throws(() => m.apply({ cpu: { shares: 1 } }), /the minimum allowed cpu-shares is 2/);
    t.throws(() => m.apply({ cpu: { shares: 1000000 } }), /the maximum allowed cpu-shares is 262144/);
    if (existsSync(`${d}/cpu.idle`)) {
      m.apply({ cpu: { idle: 1 } });
      t.equal(read(d, 'cpu.idle'), '1');
      m.apply({ cpu: { idle: 0 } });
      t.equal(read(d, 'cpu.idle'), '0');
    } else skip(t, 'idle: cpu.idle absent in this kernel');
    if (!existsSync(`${d}/cpu.rt_runtime_us`)) {
      skip(t, 'realtime: cpu.rt_runtime_us absent (no CONFIG_RT_GROUP_SCHED)');
      t.throws(() => m.apply({ cpu: { realtimeRuntime: 1000 } }), /CONFIG_RT_GROUP_SCHED/);
    } else {
      t.throws(
        () => m.apply({ cpu: { realtimeRuntime: 5000, realtimePeriod: 1000000 } }),
        /parent cgroup's cpu.rt_runtime_us must leave room/,
      );
      // The test parent is ours: give it a realtime budget for its child.
      writeFileSync(`${L.v1.get('cpu')}${TEST_PARENT}/cpu.rt_runtime_us`, '20000');
      m.apply({ cpu: { realtimeRuntime: 5000, realtimePeriod: 500000 } });
      t.equal(read(d, 'cpu.rt_runtime_us'), '5000');
      t.equal(read(d, 'cpu.rt_period_us'), '500000');
      m.apply({ cpu: { realtimeRuntime: 0 } });
    }
  });

  t.test('cpuset: cpus and mems', async (t) => {
    if (!has('cpuset')) return skip(t, 'no cpuset controller mounted');
    const { m } = testCgroup(t, 'cpuset', L);
    const d = dir(m, 'cpuset');
    m.apply({ cpu: { cpus: '0', mems: '0' } });
    t.equal(read(d, 'cpuset.cpus'), '0');
    t.equal(read(d, 'cpuset.mems'), '0');
    t.throws(() => m.apply({ cpu: { cpus: '4096' } }), /cpuset.cpus: write "4096": /);
  });

  t.test('pids: limit, -1 = max, 0 = 0', async (t) => {
    if (!has('pids')) return skip(t, 'no pids controller mounted');
    const { m } = testCgroup(t, 'pids', L);
    const d = dir(m, 'pids');
    m.apply({ pids: { limit: 10 } });
    t.equal(read(d, 'pids.max'), '10');
    m.apply({ pids: { limit: -1 } });
    t.equal(read(d, 'pids.max'), 'max');
    m.apply({ pids: { limit: 0 } });
    t.equal(read(d, 'pids.max'), '0');
  });

  t.test('blkio: weight, leaf weight, throttles', async (t) => {
    if (!has('blkio')) return skip(t, 'no blkio controller mounted');
    const { m } = testCgroup(t, 'blkio', L);
    const d = dir(m, 'blkio') as string;
    const weightFile = ['blkio.weight', 'blkio.bfq.weight'].find((f) => existsSync(`${d}/${f}`));
    if (weightFile) {
      m.apply({ blockIO: { weight: 500 } });
      t.match(read(d, weightFile), /500/);
    } else {
      skip(t, 'weight: neither blkio.weight nor blkio.bfq.weight here (no CFQ/BFQ scheduler)');
      t.throws(() => m.apply({ blockIO: { weight: 500 } }), /block I\/O weights need the BFQ/);
    }
    if (existsSync(`${d}/blkio.leaf_weight`)) {
      m.apply({ blockIO: { leafWeight: 300 } });
      t.equal(read(d, 'blkio.leaf_weight'), '300');
    } else {
      skip(t, 'leafWeight: blkio.leaf_weight absent (CFQ left the kernel in 5.0)');
      t.throws(() => m.apply({ blockIO: { leafWeight: 300 } }), /leaf weights need the CFQ/);
    }
    const dev = blockDevice();
    if (!dev) return skip(t, 'throttles: no block device on this machine');
    const { major, minor } = dev;
    m.apply({
      blockIO: {
        throttleReadBpsDevice: [{ major, minor, rate: 1048576 }],
        throttleWriteBpsDevice: [{ major, minor, rate: 2097152 }],
        throttleReadIOPSDevice: [{ major, minor, rate: 100 }],
        throttleWriteIOPSDevice: [{ major, minor, rate: 200 }],
      },
    });
    t.equal(read(d, 'blkio.throttle.read_bps_device'), `${major}:${minor} 1048576`);
    t.equal(read(d, 'blkio.throttle.write_bps_device'), `${major}:${minor} 2097152`);
    t.equal(read(d, 'blkio.throttle.read_iops_device'), `${major}:${minor} 100`);
    t.equal(read(d, 'blkio.throttle.write_iops_device'), `${major}:${minor} 200`);
  });

  t.test('hugepageLimits, network, rdma: written where mounted, a clear error where not', async (t) => {
    const { m } = testCgroup(t, 'optional', L);
    if (has('hugetlb')) {
      m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] });
      t.equal(read(dir(m, 'hugetlb'), 'hugetlb.2MB.limit_in_bytes'), '4194304');
    } else {
      t.throws(
        () => m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }),
        /linux.resources.hugepageLimits: the hugetlb cgroup controller is not mounted/,
      );
    }
    if (has('net_cls')) {
      m.apply({ network: { classID: 1048577 } });
      t.equal(read(dir(m, 'net_cls'), 'net_cls.classid'), '1048577');
    } else t.throws(() => m.apply({ network: { classID: 1048577 } }), /the net_cls cgroup controller is not mounted/);
    if (has('net_prio')) {
      m.apply({ network: { priorities: [{ name: 'lo', priority: 5 }] } });
      t.match(read(dir(m, 'net_prio'), 'net_prio.ifpriomap'), /^lo 5$/m);
    } else
      t.throws(
        () => m.apply({ network: { priorities: [{ name: 'lo', priority: 5 }] } }),
        /the net_prio cgroup controller is not mounted/,
      );
    if (!has('rdma')) t.throws(() => m.apply({ rdma: { mlx5_1: { hcaHandles: 3 } } }), /the rdma cgroup controller is not mounted/);
    t.throws(() => m.apply({ unified: { 'memory.high': '1000000' } }), /linux.resources.unified: needs cgroup v2/);
    t.same(m.apply({ memory: {}, cpu: {}, blockIO: {}, network: {} }), [], 'empty sections need no controller');
  });

  t.test('devices: rules in order in devices.list, and enforced', async (t) => {
    if (!has('devices')) return skip(t, 'no devices controller mounted');
    const { m } = testCgroup(t, 'devices', L);
    const d = dir(m, 'devices');
    // runtime-tools linux_cgroups_devices: the allow rules appear first, in config order.
    m.apply({
      devices: containerDeviceRules([
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
        { allow: true, type: 'b', major: 8, minor: 20, access: 'rw' },
        { allow: true, type: 'b', major: 10, minor: 200, access: 'r' },
      ]),
    });
    const list = read(d, 'devices.list').split('\n');
    t.same(list.slice(0, 3), ['c 10:229 rwm', 'b 8:20 rw', 'b 10:200 r']);
    t.same(list.slice(3, 6), ['c *:* m', 'b *:* m', 'c 1:3 rwm'], 'then the defaults');
    // Only /dev/null: /dev/zero cannot be opened.
    m.apply({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }] });
    t.same(read(d, 'devices.list'), 'c 1:3 rw');
    const c = gated('head -c1 /dev/zero >/dev/null && echo opened || echo denied');
    t.teardown(() => c.child.kill('SIGKILL'));
    m.addProcess(c.pid);
    c.go();
    await c.exited;
    t.equal(c.stdout().trim(), 'denied');
    t.match(c.stderr(), /Operation not permitted/);
    // update leaves device rules alone (no deny-all window for a running container).
    m.update({ devices: [{ allow: true, access: 'rwm' }] });
    t.same(read(d, 'devices.list'), 'c 1:3 rw');
    m.apply({ devices: [{ allow: true, access: 'rwm' }] });
    t.same(read(d, 'devices.list'), 'a *:* rwm', 'allow-all rule');
  });

  t.test('memory limit: an allocation over it is OOM-killed and counted', (t) => oomKilled(t, L));
  t.test('pids limit stops a fork loop', (t) => forkLoop(t, L));
  t.test('freeze and thaw: a frozen container makes no progress', (t) => freezeThaw(t, L));
  t.test('killAll: every process, SIGKILL through cgroup.kill where there is one', (t) => killAll(t, L));
  t.test("stats: runc's events --stats shape", async (t) => {
    const s = await statsShape(t, L);
    t.type(s.memory.raw?.['cache'], 'number', 'memory.stat as raw');
    t.ok(Array.isArray(s.cpu.usage?.percpu), 'cpuacct per cpu');
    t.type(s.cpuset.sched_load_balance, 'number');
    t.ok(Array.isArray(s.cpuset.cpus));
    t.same(s.hugetlb, {});
  });
  t.test('pids() includes sub-cgroups; destroy removes them', (t) => nestedDestroy(t, L));
  t.test('destroy right after SIGKILL waits for the process to leave', (t) => destroyAfterKill(t, L));
  t.test('timings: create + apply(memory, pids) + addProcess, and destroy', (t) => timings(t, L, 15));

  t.test('nothing is left behind', async (t) => {
    sweep(L);
    t.same(leftovers(L), []);
  });
}
