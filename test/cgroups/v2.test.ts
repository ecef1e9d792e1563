// The cgroup v2 driver on a pure cgroup2 host, as root (this machine is v1 hybrid: run it in
// the v2 VM, ../shared/tools/v2vm). Every resource is read back from the container's
// cgroup; the shared effect tests (./effects.ts) watch real processes.
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import t from 'tap';
import { hierarchies, openManager } from '../../lib/cgroups';
import { sharesToWeight } from '../../lib/cgroups/convert';
import { native } from '../../lib/native';
import { destroyAfterKill, forkLoop, freezeThaw, killAll, nestedDestroy, oomKilled, statsShape, timings } from './effects';
import { TEST_PARENT, blockDevice, gated, isRoot, leftovers, read, skip, sweep, testCgroup, waitFor } from './helpers';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const unified = statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC;
if (!unified) t.plan(0, '/sys/fs/cgroup is not cgroup2 (this host is v1/hybrid): run in ../shared/tools/v2vm');
else if (!isRoot) t.plan(0, 'needs root: writes to /sys/fs/cgroup');
else run();

function run(): void {
  const L = hierarchies();
  t.teardown(() => sweep(L));
  const available = read('/sys/fs/cgroup', 'cgroup.controllers').split(' ');
  t.comment(`cgroup2 controllers: ${available.join(' ')}; kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}`);
  const dirOf = (m: { dirs: ReadonlyMap<string, string> }) => m.dirs.get('') as string;

  t.test('create enables the controllers down the path and places the process', async (t) => {
    t.equal(L.mode, 'unified');
    const m = openManager(`${TEST_PARENT}/create`, L);
    let planned: string[] = [];
    const made = m.create((p) => (planned = p));
    t.teardown(() => m.destroy(made));
    t.same(made, [`/sys/fs/cgroup${TEST_PARENT}`, `/sys/fs/cgroup${TEST_PARENT}/create`]);
    t.same(planned, made);
    const enabled = read(`/sys/fs/cgroup${TEST_PARENT}`, 'cgroup.subtree_control').split(' ');
    for (const c of ['memory', 'pids', 'cpu']) t.ok(enabled.includes(c), `${c} enabled for the container`);
    const d = dirOf(m);
    for (const f of ['memory.max', 'pids.max', 'cpu.max', 'cgroup.freeze', 'cgroup.kill']) t.ok(existsSync(`${d}/${f}`), f);
    const c = gated('sleep 100');
    t.teardown(() => c.child.kill('SIGKILL'));
    m.addProcess(c.pid);
    t.equal(read(`/proc/${c.pid}`, 'cgroup'), `0::${TEST_PARENT}/create`);
    t.same(m.pids(), [c.pid]);
    t.throws(() => openManager(`${TEST_PARENT}/create`, L).create(), /not empty: 1 process/);
    c.child.kill('SIGKILL');
    await c.exited;
  });

  t.test('memory: max, low, swap.max, checkBeforeUpdate; v1-only knobs warn', async (t) => {
    const { m } = testCgroup(t, 'memory', L);
    const d = dirOf(m);
    const hasSwap = existsSync(`${d}/memory.swap.max`);
    const warnings = m.apply({
      memory: {
        limit: 67108864,
        reservation: 33554432,
        ...(hasSwap ? { swap: 134217728 } : {}),
        swappiness: 10,
        disableOOMKiller: true,
        kernel: 1,
      },
    });
    t.equal(read(d, 'memory.max'), '67108864');
    t.equal(read(d, 'memory.low'), '33554432');
    t.match(warnings, [/kernel/, /swappiness/, /disableOOMKiller/]);
    if (hasSwap) {
      t.equal(read(d, 'memory.swap.max'), '67108864', 'swap.max = memory+swap - memory');
      m.update({ memory: { limit: 33554432, swap: 33554432 } });
      t.equal(read(d, 'memory.swap.max'), '0');
      m.update({ memory: { limit: -1 } });
      t.equal(read(d, 'memory.max'), 'max');
      t.equal(read(d, 'memory.swap.max'), 'max', 'unlimited memory: unlimited swap');
    } else skip(t, 'swap: memory.swap.max absent (no swap accounting in this kernel)');
    t.throws(() => m.apply({ memory: { swap: 1000 } }), /a swap limit needs a memory limit on cgroup v2/);
    // checkBeforeUpdate: a limit under the current usage is refused instead of OOM-killing.
    const c = gated('cat /dev/zero | tail -c 20000000');
    t.teardown(() => c.child.kill('SIGKILL'));
    m.addProcess(c.pid);
    c.go();
    await waitFor(() => Number(read(d, 'memory.current')) > 4 << 20, 20000, 'memory in use');
    const before = read(d, 'memory.max');
    t.throws(() => m.update({ memory: { limit: 1 << 20, checkBeforeUpdate: true } }), /rejecting memory limit 1048576 <= usage/);
    t.equal(read(d, 'memory.max'), before, 'unchanged');
  });

  t.test('memory limit: an allocation over it is OOM-killed and counted', (t) => oomKilled(t, L));

  t.test('cpu: shares → weight, quota/period → cpu.max, burst, idle; realtime refused', async (t) => {
    const { m } = testCgroup(t, 'cpu', L);
    const d = dirOf(m);
    m.apply({ cpu: { shares: 1024, quota: 50000, period: 100000 } });
    t.equal(read(d, 'cpu.weight'), '100', '1024 shares = the default weight');
    t.equal(read(d, 'cpu.max'), '50000 100000');
    m.update({ cpu: { shares: 512 } });
    t.equal(read(d, 'cpu.weight'), String(sharesToWeight(512)));
    m.update({ cpu: { quota: -1, period: 20000 } });
    t.equal(read(d, 'cpu.max'), 'max 20000');
    if (existsSync(`${d}/cpu.max.burst`)) {
      m.update({ cpu: { quota: 50000, period: 100000, burst: 10000 } });
      t.match(read(d, 'cpu.max.burst'), /^(10000|10)$/, 'burst (older kernels print it /1000)');
    } else skip(t, 'burst: cpu.max.burst absent in this kernel');
    if (existsSync(`${d}/cpu.idle`)) {
      m.update({ cpu: { idle: 1 } });
      t.equal(read(d, 'cpu.idle'), '1');
      m.update({ cpu: { idle: 0 } });
    } else skip(t, 'idle: cpu.idle absent in this kernel');
    t.throws(() => m.apply({ cpu: { realtimeRuntime: 1000 } }), /realtime CPU limits need cgroup v1/);
  });

  t.test('cpuset: cpus and mems', async (t) => {
    if (!available.includes('cpuset')) return skip(t, 'no cpuset controller');
    const { m } = testCgroup(t, 'cpuset', L);
    m.apply({ cpu: { cpus: '0', mems: '0' } });
    t.equal(read(dirOf(m), 'cpuset.cpus'), '0');
    t.equal(read(dirOf(m), 'cpuset.mems'), '0');
  });

  t.test('pids: limit, -1 = max, 0 = 0', async (t) => {
    const { m } = testCgroup(t, 'pids', L);
    m.apply({ pids: { limit: 10 } });
    t.equal(read(dirOf(m), 'pids.max'), '10');
    m.apply({ pids: { limit: -1 } });
    t.equal(read(dirOf(m), 'pids.max'), 'max');
    m.apply({ pids: { limit: 0 } });
    t.equal(read(dirOf(m), 'pids.max'), '0');
  });

  t.test('pids limit stops a fork loop', (t) => forkLoop(t, L));

  t.test('io: weight (converted, or BFQ), throttles in io.max', async (t) => {
    if (!available.includes('io')) return skip(t, 'no io controller');
    const { m } = testCgroup(t, 'io', L);
    const d = dirOf(m);
    if (existsSync(`${d}/io.bfq.weight`)) {
      m.apply({ blockIO: { weight: 500 } });
      t.match(read(d, 'io.bfq.weight'), /^default 500$/m, 'BFQ takes the v1 value');
    } else if (existsSync(`${d}/io.weight`)) {
      m.apply({ blockIO: { weight: 500 } });
      t.match(read(d, 'io.weight'), /^default 4950$/m, '500 → 1 + 490*9999/990');
    } else skip(t, 'weight: neither io.weight nor io.bfq.weight here');
    const dev = blockDevice();
    if (!dev) return skip(t, 'throttles: no block device in this machine');
    const { major, minor } = dev;
    m.apply({
      blockIO: {
        throttleReadBpsDevice: [{ major, minor, rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major, minor, rate: 120 }],
      },
    });
    t.equal(read(d, 'io.max'), `${major}:${minor} rbps=1048576 wbps=max riops=max wiops=120`);
  });

  t.test('hugetlb, rdma, network, devices', async (t) => {
    const { m } = testCgroup(t, 'optional', L);
    const d = dirOf(m);
    if (existsSync(`${d}/hugetlb.2MB.max`)) {
      m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] });
      t.equal(read(d, 'hugetlb.2MB.max'), '4194304');
      if (existsSync(`${d}/hugetlb.2MB.rsvd.max`)) t.equal(read(d, 'hugetlb.2MB.rsvd.max'), '4194304');
    } else skip(t, 'hugetlb: no hugetlb.2MB.max (controller or 2MB pages absent)');
    if (existsSync(`${d}/rdma.max`) && read(d, 'rdma.max') !== '') skip(t, 'rdma: devices present, not exercised');
    else if (existsSync(`${d}/rdma.max`))
      t.throws(
        () => m.apply({ rdma: { nosuchdev: { hcaHandles: 3 } } }),
        /rdma.max: write "nosuchdev hca_handle=3"/,
        'no RDMA device here: the kernel refuses',
      );
    else skip(t, 'rdma: no rdma controller');
    t.throws(() => m.apply({ network: { classID: 1 } }), /net_cls and net_prio/);
    t.same(m.apply({ devices: [{ allow: false, access: 'rwm' }] }), [], 'device rules: an eBPF program');
    t.equal(native().deviceFilterIds(d).length, 1, 'attached to the cgroup (devfilter-root.test.ts checks its effect)');
    t.same(m.apply({ devices: [] }), [], 'no rules: nothing to attach');
  });

  t.test('unified: written last, line by line; bad keys refused', async (t) => {
    const { m } = testCgroup(t, 'unified', L);
    const d = dirOf(m);
    m.apply({ pids: { limit: 10 }, unified: { 'pids.max': '7', 'memory.high': '50000000' } });
    t.equal(read(d, 'pids.max'), '7', 'the unified value wins over pids.limit');
    t.equal(read(d, 'memory.high'), '49999872', 'rounded down to pages by the kernel');
    const dev = blockDevice();
    if (dev && available.includes('io')) {
      m.apply({ unified: { 'io.max': `${dev.major}:${dev.minor} rbps=2097152\n${dev.major}:${dev.minor} wiops=120\n` } });
      t.equal(read(d, 'io.max'), `${dev.major}:${dev.minor} rbps=2097152 wbps=max riops=max wiops=120`);
    } else skip(t, 'multi-line io.max: no block device or io controller');
    t.throws(() => m.apply({ unified: { '../x': '1' } }), /controller.parameter/);
    t.throws(() => m.apply({ unified: { 'pids.max/x': '1' } }), /controller.parameter/);
    t.throws(() => m.apply({ unified: { 'nosuch.knob': '1' } }), /controller "nosuch" is not available/);
  });

  t.test('freeze and thaw: a frozen container makes no progress', (t) => freezeThaw(t, L));
  t.test('killAll: cgroup.kill for SIGKILL, freeze-signal-thaw otherwise', (t) => killAll(t, L));
  t.test("stats: runc's events --stats shape", async (t) => {
    const s = await statsShape(t, L);
    t.type(s.memory.raw?.['anon'], 'number', 'memory.stat as raw');
    t.type(s.cpu.usage?.total, 'number');
  });
  t.test('pids() includes sub-cgroups; destroy removes them', (t) => nestedDestroy(t, L));
  t.test('destroy right after SIGKILL waits for the process to leave', (t) => destroyAfterKill(t, L));
  t.test('timings: create + apply(memory, pids) + addProcess, and destroy', (t) => timings(t, L, 5));

  t.test('nothing is left behind', async (t) => {
    sweep(L);
    t.same(leftovers(L), []);
  });
}
