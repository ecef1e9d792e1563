// validateConfig/validateProcess/validateState one rule at a time: what the schema says, what
// semantic.ts adds, how problems are worded, and that hostile documents never crash them.
import t from 'tap';
import { sysctlComponents } from '../../lib/spec/semantic';
import type { Spec } from '../../lib/spec/types';
import { sortProblems, validateConfig, validateProcess, validateState, type Problem } from '../../lib/spec/validate';

type Doc = Record<string, any>;

/** A valid config to vary: every test changes one thing. */
function base(): Doc {
  return {
    ociVersion: '1.2.0',
    process: {
      user: { uid: 0, gid: 0 },
      args: ['/bin/sh'],
      env: ['PATH=/bin'],
      cwd: '/',
      capabilities: { bounding: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
    },
    root: { path: 'rootfs' },
    hostname: 'box',
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore'],
    },
  };
}

function problems(change: (d: Doc) => void, opts = {}): Problem[] {
  const d = base();
  change(d);
  return validateConfig(d, opts);
}

/** Exactly one problem, at `pointer`, whose reason matches `reason`. */
function one(t: tap.Test, change: (d: Doc) => void, pointer: string, reason: RegExp | string): void {
  const ps = problems(change);
  t.equal(ps.length, 1, `one problem: ${JSON.stringify(ps)}`);
  t.equal(ps[0]?.pointer, pointer);
  t.match(ps[0]?.reason ?? '', reason);
}

t.test('the base config is valid', async (t) => {
  t.same(validateConfig(base()), []);
  t.same(validateConfig(base(), { requireProcess: true }), []);
});

t.test('problems name the value and the rule', async (t) => {
  one(t, (d) => (d.linux.namespaces[1].type = 'netwrok'), '/linux/namespaces/1/type',
    '"netwrok" is not one of pid, network, mount, ipc, uts, user, cgroup, time');
  one(t, (d) => delete d.process.cwd, '/process/cwd', /^is required$/);
  one(t, (d) => (d.process.user.uid = -1), '/process/user/uid', /^must be >= 0, not -1$/);
  one(t, (d) => (d.process.user.uid = 'root'), '/process/user/uid', /^must be an integer, not "root"$/);
  one(t, (d) => (d.process.cwd = 'tmp'), '/process/cwd', /^must be an absolute path, not "tmp"$/);
  one(t, (d) => (d.root = []), '/root', /must be an object, not an array/);
  one(t, (d) => (d.process.rlimits[0].hard = 18446744073709551616 * 2), '/process/rlimits/0/hard',
    /must be <= 18446744073709551615/);
  one(t, (d) => (d.process.args[0] = 'x'.repeat(200) + '\0'), '/process/args/0', /^"x+\.\.\." must not contain a NUL byte$/);
});

t.test('the root must be an object', async (t) => {
  for (const doc of [null, [], 'config', 42, true]) {
    const ps = validateConfig(doc);
    t.equal(ps.length, 1, JSON.stringify(doc));
    t.equal(ps[0].pointer, '');
    t.match(ps[0].reason, /^must be an object, not /);
  }
});

t.test('every problem is reported at once, schema problems first', async (t) => {
  const ps = problems((d) => {
    d.process.env.push('NOEQUALS'); // semantic
    d.linux.namespaces[10 - 9].type = 'bogus'; // schema
    d.process.user.uid = -5; // schema
    d.hooks = { prestart: [{ path: 'relative' }] }; // semantic
    delete d.ociVersion; // schema
  });
  t.same(
    ps.map((p) => p.pointer),
    ['/linux/namespaces/1/type', '/ociVersion', '/process/user/uid', '/hooks/prestart/0/path', '/process/env/1'],
  );
});

t.test('array indices sort numerically', async (t) => {
  const sorted = sortProblems(['/a/10', '/a/2', '/a/2/x', '/b', '', '/a/1'].map((pointer) => ({ pointer, reason: '' })));
  t.same(sorted.map((p) => p.pointer), ['', '/a/1', '/a/2', '/a/2/x', '/a/10', '/b']);
});

t.test('semantic checks skip what failed the schema, and never crash', async (t) => {
  // namespaces of the wrong type: no duplicate or uts check can run on them, and none does.
  const ps = problems((d) => (d.linux.namespaces = 'pid,uts'));
  t.same(ps.map((p) => p.pointer), ['/linux/namespaces']);
  // a semantic check elsewhere still runs
  const ps2 = problems((d) => {
    d.linux.namespaces = 'pid,uts';
    d.process.cwd = 'relative';
  });
  t.same(ps2.map((p) => p.pointer), ['/linux/namespaces', '/process/cwd']);

  // Every property of a valid config replaced by values of every other type.
  const weird: unknown[] = [null, 0, -1, 1.5, 1e300, '', 'x', '\0', true, [], [null], {}, { a: 1 }];
  const paths: string[][] = [];
  const walk = (v: unknown, path: string[]) => {
    paths.push(path);
    if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...path, k]);
  };
  const full = base();
  full.linux.resources = { memory: { limit: 1, swap: 2 }, cpu: { cpus: '0' }, unified: { 'a.b': 'c' } };
  full.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] };
  full.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
  full.linux.sysctl = { 'net.core.somaxconn': '1' };
  full.linux.timeOffsets = { monotonic: { secs: 1 } };
  walk(full, []);
  let runs = 0;
  for (const path of paths.slice(1))
    for (const w of weird) {
      const d = JSON.parse(JSON.stringify(full));
      let o = d;
      for (const k of path.slice(0, -1)) o = o[k];
      o[path[path.length - 1]] = w;
      const out = validateConfig(d, { requireProcess: true });
      t.ok(Array.isArray(out));
      validateProcess(d.process);
      runs++;
    }
  t.ok(runs > 500, `${runs} variants`);
});

t.test('unknown properties are ignored, known ones checked strictly', async (t) => {
  t.same(
    problems((d) => {
      d.future = { anything: [1, 'two', null] };
      d.process.futureKnob = 'x';
      d.linux.namespaces[0].comment = 7;
      d.linux.surprise = '\0 not our business';
      d.mounts[0]['x-opt'] = {};
      d.windows = 'not an object';
    }),
    [],
  );
  one(t, (d) => (d.process.terminal = 'yes'), '/process/terminal', /must be true or false/);
});

t.test('namespaces', async (t) => {
  one(t, (d) => d.linux.namespaces.push({ type: 'uts' }), '/linux/namespaces/5/type', /"uts" is listed twice \(also \/linux\/namespaces\/3\)/);
  one(t, (d) => (d.linux.namespaces[1].path = 'netns/x'), '/linux/namespaces/1/path', /absolute/);
  t.same(problems((d) => (d.linux.namespaces[1].path = '')), [], 'an empty path means a new namespace, as in Go');
  t.same(problems((d) => (d.linux.namespaces[1].path = '/var/run/netns/x')), []);
});

t.test('user namespace and id mappings', async (t) => {
  const map = (containerID: number, hostID: number, size: number) => ({ containerID, hostID, size });
  const userns = (d: Doc) => d.linux.namespaces.push({ type: 'user' });
  const ps = problems(userns);
  t.same(ps.map((p) => [p.pointer, p.reason]), [
    ['/linux/gidMappings', 'is required with a new user namespace'],
    ['/linux/uidMappings', 'is required with a new user namespace'],
  ]);
  t.same(problems((d) => {
    d.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' });
  }), [], 'a joined user namespace needs no mappings');
  t.same(problems((d) => {
    d.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' });
    d.linux.uidMappings = [map(0, 1000, 1)];
  }), [], 'nor refuses them (CRI sends them for id-mapped mounts)');
  one(t, (d) => (d.linux.gidMappings = [map(0, 1000, 1)]), '/linux/gidMappings', /needs a user namespace/);
  const both = (d: Doc, uid: unknown[]) => {
    userns(d);
    d.linux.uidMappings = uid;
    d.linux.gidMappings = [map(0, 1000, 1)];
  };
  one(t, (d) => both(d, [map(0, 1000, 0)]), '/linux/uidMappings/0/size', /at least 1/);
  one(t, (d) => both(d, [map(0, 1000, 10), map(9, 2000, 1)]), '/linux/uidMappings/1', /container ids overlap \/linux\/uidMappings\/0/);
  one(t, (d) => both(d, [map(0, 1000, 10), map(10, 1009, 1)]), '/linux/uidMappings/1', /host ids overlap/);
  t.same(problems((d) => both(d, [map(0, 1000, 10), map(10, 1010, 5)])), [], 'adjacent ranges are fine');
  one(t, (d) => both(d, [map(4294967295, 0, 2)]), '/linux/uidMappings/0', /container ids beyond 4294967295/);
  one(t, (d) => both(d, Array.from({ length: 341 }, (_, i) => map(i, 1000 + i, 1))), '/linux/uidMappings', /at most 340/);
});

t.test('paths', async (t) => {
  one(t, (d) => d.mounts.push({ destination: '/a/../../etc', type: 'tmpfs', source: 'tmpfs' }), '/mounts/1/destination', /"\.\."/);
  t.same(problems((d) => d.mounts.push({ destination: 'relative/ok', type: 'tmpfs' })), [], 'relative destinations are deprecated, not invalid');
  one(t, (d) => (d.linux.maskedPaths = ['proc/kcore']), '/linux/maskedPaths/0', /absolute/);
  one(t, (d) => (d.linux.readonlyPaths = ['/proc/sys/../../etc']), '/linux/readonlyPaths/0', /"\.\."/);
  one(t, (d) => (d.hooks = { poststop: [{ path: 'cleanup.sh' }] }), '/hooks/poststop/0/path', /absolute/);
  one(t, (d) => (d.linux.devices = [{ path: 'dev/null', type: 'c', major: 1, minor: 3 }]), '/linux/devices/0/path', /absolute/);
  one(t, (d) => (d.linux.cgroupsPath = '../escape'), '/linux/cgroupsPath', /"\.\."/);
  t.same(problems((d) => (d.linux.cgroupsPath = 'system.slice:capsa:abc')), [], 'systemd slice:prefix:name');
  t.same(problems((d) => (d.linux.cgroupsPath = 'relative/path')), [], 'relative cgroup paths are allowed');
  one(t, (d) => (d.root.path = ''), '/root/path', /must not be empty/);
  one(t, (d) => (d.process.cwd = ''), '/process/cwd', /must not be empty/);
});

t.test('mounts', async (t) => {
  one(t, (d) => d.mounts.push({ destination: '/data', options: ['bind'] }), '/mounts/1/source', /bind mount/);
  one(t, (d) => d.mounts.push({ destination: '/data', type: 'bind', source: '' }), '/mounts/1/source', /bind mount/);
  one(t, (d) => d.mounts.push({ destination: '/d', source: '/s', options: ['rbind', 'ridmap'] }), '/mounts/1/options/1', /"ridmap" needs/);
  t.same(problems((d) => {
    d.linux.namespaces.push({ type: 'user', path: '/proc/7/ns/user' });
    d.mounts.push({ destination: '/d', source: '/s', options: ['rbind', 'ridmap'] });
  }), [], 'idmap with a user namespace uses its mapping');
  one(t, (d) => d.mounts.push({ destination: '/d', source: '/s', options: ['bind', 'idmap'], gidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }),
    '/mounts/1/uidMappings', /is required with gidMappings/);
});

t.test('process', async (t) => {
  one(t, (d) => (d.process.args = []), '/process/args', /at least 1 entry/);
  one(t, (d) => (d.process.args = ['']), '/process/args/0', /must not be empty/);
  one(t, (d) => d.process.env.push('JUSTNAME'), '/process/env/1', /NAME=value/);
  one(t, (d) => d.process.env.push('=value'), '/process/env/1', /empty variable name/);
  t.same(problems((d) => d.process.env.push('EMPTY=')), [], 'an empty value is fine');
  one(t, (d) => d.process.capabilities.bounding.push('CAP_SYS_ADMN'), '/process/capabilities/bounding/1', /"CAP_SYS_ADMN" is not a known capability/);
  t.same(problems((d) => d.process.capabilities.bounding.push('CAP_CHECKPOINT_RESTORE', 'CAP_BPF', 'CAP_PERFMON')), []);
  one(t, (d) => d.process.capabilities.ambient = ['constructor'], '/process/capabilities/ambient/0', /not a known capability/);
  one(t, (d) => d.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }), '/process/rlimits/1/type', /listed twice/);
  one(t, (d) => d.process.rlimits.push({ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }), '/process/rlimits/1/type', /not a Linux resource limit/);
  one(t, (d) => (d.process.rlimits[0].soft = 2048), '/process/rlimits/0/soft', /larger than hard/);
  t.same(problems((d) => d.process.rlimits.push({ type: 'RLIMIT_RTTIME', soft: 18446744073709551615, hard: 18446744073709551615 })), [],
    'RLIM_INFINITY as JSON writes it');
  one(t, (d) => (d.process.oomScoreAdj = -1001), '/process/oomScoreAdj', /between -1000 and 1000/);
  t.same(problems((d) => (d.process.oomScoreAdj = 1000)), []);
  one(t, (d) => (d.process.user.umask = 0o1000), '/process/user/umask', /<= 511/);
  one(t, (d) => (d.process.scheduler = { policy: 'SCHED_FIFO' }), '/process/scheduler/priority', /between 1 and 99 with SCHED_FIFO/);
  t.same(problems((d) => (d.process.scheduler = { policy: 'SCHED_RR', priority: 50, nice: -20 })), []);
  one(t, (d) => (d.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 10, deadline: 5 }), '/process/scheduler/runtime', /larger than deadline/);
  one(t, (d) => (d.process.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: -1 }), '/process/ioPriority/priority', /between 0/);
  one(t, (d) => (d.process.execCPUAffinity = { initial: '0-', final: '1' }), '/process/execCPUAffinity/initial', /not a list/);
  t.same(problems((d) => (d.process.execCPUAffinity = { initial: '0, 2-3', final: '' })), []);
  const ps = problems((d) => delete d.process, { requireProcess: true });
  t.same(ps, [{ pointer: '/process', reason: 'is required to create a container' }]);
  t.same(problems((d) => delete d.process), [], 'the spec makes process optional until start');
});

t.test('hostname, domainname and sysctls follow runc\'s namespace rules', async (t) => {
  const without = (type: string) => (d: Doc) => (d.linux.namespaces = d.linux.namespaces.filter((n: Doc) => n.type !== type));
  one(t, without('uts'), '/hostname', /needs a uts namespace/);
  t.same(problems((d) => { without('uts')(d); d.hostname = ''; }), [], 'an empty hostname is no hostname');
  one(t, (d) => (d.hostname = 'x'.repeat(65)), '/hostname', /longer than 64 bytes/);
  const sysctl = (key: string, change?: (d: Doc) => void) => (d: Doc) => {
    d.linux.sysctl = { [key]: '1' };
    change?.(d);
  };
  t.same(problems(sysctl('net.ipv4.ip_forward')), []);
  t.same(problems(sysctl('net/ipv4/conf/eth0.100/rp_filter')), [], 'slash form, dot inside a component');
  one(t, sysctl('net.ipv4.ip_forward', without('network')), '/linux/sysctl/net.ipv4.ip_forward', /network namespace/);
  one(t, sysctl('kernel.sem', without('ipc')), '/linux/sysctl/kernel.sem', /ipc namespace/);
  one(t, sysctl('fs.mqueue.queues_max', without('ipc')), '/linux/sysctl/fs.mqueue.queues_max', /ipc namespace/);
  one(t, sysctl('kernel.hostname'), '/linux/sysctl/kernel.hostname', /conflicts with \/hostname/);
  t.same(problems(sysctl('kernel.hostname', (d) => delete d.hostname)), [], 'kernel.hostname alone is fine with a uts namespace');
  one(t, sysctl('kernel.domainname', (d) => (d.domainname = 'a.test')), '/linux/sysctl/kernel.domainname', /conflicts with \/domainname/);
  one(t, sysctl('kernel.domainname', (d) => { delete d.hostname; without('uts')(d); }), '/linux/sysctl/kernel.domainname', /uts namespace/);
  one(t, sysctl('kernel.core_pattern'), '/linux/sysctl/kernel.core_pattern', /not namespaced/);
  one(t, sysctl('net.ipv4..x'), '/linux/sysctl/net.ipv4..x', /not a valid sysctl name/);
  one(t, sysctl('net.ipv4.conf.//.x'), '/linux/sysctl/net.ipv4.conf.~1~1.x', /not a valid sysctl name/);
  t.same(sysctlComponents('net/ipv4/conf/eth0.100/rp_filter'), ['net', 'ipv4', 'conf', 'eth0.100', 'rp_filter']);
  t.same(sysctlComponents('net.ipv4.conf.eth0/100.rp_filter'), ['net', 'ipv4', 'conf', 'eth0.100', 'rp_filter']);
  t.equal(sysctlComponents('net/../kernel/x'), undefined);
  t.equal(sysctlComponents('kernel.sh mmax'), undefined);
});

t.test('linux.devices', async (t) => {
  const dev = (extra: Doc) => (d: Doc) => (d.linux.devices = [{ path: '/dev/x', type: 'c', major: 1, minor: 5, ...extra }]);
  t.same(problems(dev({})), []);
  t.same(problems((d) => (d.linux.devices = [{ path: '/dev/pipe', type: 'p' }])), [], 'a FIFO needs no numbers');
  one(t, (d) => (d.linux.devices = [{ path: '/dev/x', type: 'b', major: 8 }]), '/linux/devices/0/minor', /is required/);
  one(t, dev({ minor: 1 << 20 }), '/linux/devices/0/minor', /between 0 and 1048575/);
  one(t, dev({ major: -1 }), '/linux/devices/0/major', /between 0 and 4095/);
  t.same(problems(dev({ fileMode: 0o20600 })), [], "podman's fileMode, with the type's S_IFCHR bits");
  t.same(problems((d) => (d.linux.devices = [{ path: '/dev/loop0', type: 'b', major: 7, minor: 0, fileMode: 0o60660 }])), [], 'and S_IFBLK');
  one(t, dev({ fileMode: 0o60600 }), '/linux/devices/0/fileMode', /<= 511 \(0777\), or that plus the file type bits of type "c" \(8192\), not 24960/);
  one(t, dev({ fileMode: 0o4755 }), '/linux/devices/0/fileMode', /<= 511/);
});

t.test('resources', async (t) => {
  const res = (r: Doc) => (d: Doc) => (d.linux.resources = r);
  t.same(problems(res({ memory: { limit: -1, swap: -1, swappiness: 18446744073709551615 } })), [],
    'unlimited, and Docker\'s uint64(-1) swappiness');
  one(t, res({ memory: { limit: 100, swap: 50 } }), '/linux/resources/memory/swap', />= limit/);
  one(t, res({ cpu: { quota: -5 } }), '/linux/resources/cpu/quota', /-1/);
  one(t, res({ cpu: { mems: '1-0' } }), '/linux/resources/cpu/mems', /not a list/);
  t.same(problems(res({ cpu: { cpus: '0-63:2/4,64' } })), [], 'strided lists');
  one(t, res({ unified: { 'cgroup.procs/../../x': '1' } }), '/linux/resources/unified/cgroup.procs~1..~1..~1x', /cgroup v2 file name/);
  one(t, res({ unified: { nodot: '1' } }), '/linux/resources/unified/nodot', /cgroup v2 file name/);
  one(t, res({ rdma: { mlx4_0: {} } }), '/linux/resources/rdma/mlx4_0', /hcaHandles or hcaObjects/);
  one(t, res({ pids: { limit: 'max' } }), '/linux/resources/pids/limit', /integer/);
  t.same(problems(res({ pids: {} })), [], 'pids.limit is optional (config-linux.md)');
});

t.test('seccomp', async (t) => {
  const sc = (s: Doc) => (d: Doc) => (d.linux.seccomp = s);
  one(t, sc({ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 }), '/linux/seccomp/defaultErrnoRet', /only to SCMP_ACT_ERRNO/);
  t.same(problems(sc({ defaultAction: 'SCMP_ACT_TRACE', defaultErrnoRet: 1 })), []);
  one(t, sc({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_NOTIFY' }] }), '/linux/seccomp/listenerPath', /SCMP_ACT_NOTIFY/);
  t.same(problems(sc({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/a.sock', syscalls: [{ names: ['x'], action: 'SCMP_ACT_NOTIFY' }] })), []);
  one(t, sc({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 9, value: 0, op: 'SCMP_CMP_EQ' }] }] }),
    '/linux/seccomp/syscalls/0/args/0/index', /between 0 and 5/);
});

t.test('time namespace, personality, memory policy, intelRdt, netDevices', async (t) => {
  const timens = (d: Doc) => d.linux.namespaces.push({ type: 'time' });
  t.same(problems((d) => { timens(d); d.linux.timeOffsets = { boottime: { secs: -10, nanosecs: 5 } }; }), []);
  one(t, (d) => (d.linux.timeOffsets = { boottime: { secs: 1 } }), '/linux/timeOffsets', /time namespace/);
  t.same(problems((d) => (d.linux.timeOffsets = {})), [], 'no offsets, no namespace needed');
  one(t, (d) => { timens(d); d.linux.timeOffsets = { realtime: {} }; }, '/linux/timeOffsets/realtime', /not a clock/);
  one(t, (d) => (d.linux.personality = { domain: 'LINUX', flags: ['X'] }), '/linux/personality/flags/0', /no personality flags/);
  one(t, (d) => (d.linux.memoryPolicy = { mode: 'MPOL_DEFAULT', nodes: '1' }), '/linux/memoryPolicy/nodes', /empty with MPOL_DEFAULT/);
  t.same(problems((d) => (d.linux.memoryPolicy = { mode: 'MPOL_PREFERRED' })), [], 'MPOL_PREFERRED without nodes means local');
  one(t, (d) => (d.linux.intelRdt = { closID: '..' }), '/linux/intelRdt/closID', /resctrl group/);
  t.same(problems((d) => (d.linux.intelRdt = { closID: '/' })), [], '"/" is the default CLOS (1.3)');
  one(t, (d) => (d.linux.intelRdt = { l3CacheSchema: 'L3:0=f\nMB:0=1' }), '/linux/intelRdt/l3CacheSchema', /single line/);
  one(t, (d) => (d.linux.netDevices = { 'eth0:1': {} }), '/linux/netDevices/eth0:1', /interface name/);
  t.same(problems((d) => (d.linux.netDevices = { eth0: { name: 'ctr%d' }, eth1: { name: 'ctr%d' } })), [], 'templates may repeat');
});

t.test('annotations', async (t) => {
  t.same(problems((d) => (d.annotations = { 'a.b': '', 'c\0d': 'NUL in an annotation goes nowhere near C' })), []);
  one(t, (d) => (d.annotations = { '': 'x' }), '/annotations/', /must not be empty/);
  one(t, (d) => (d.annotations = { a: 1 }), '/annotations/a', /must be a string/);
});

t.test('ociVersion', async (t) => {
  for (const v of ['1.0.0', '1.0.2-dev', '0.5.0-dev', '1.3.0+build.7', '1.10.0'])
    t.same(problems((d) => (d.ociVersion = v)), [], v);
  for (const v of ['1.0', 'v1.0.0', '01.0.0', '1.0.0-', '']) one(t, (d) => (d.ociVersion = v), '/ociVersion', /SemVer/);
  one(t, (d) => (d.ociVersion = '3.0.0'), '/ociVersion', /runtime-spec 1\.x/);
});

t.test('validateProcess: an exec --process file', async (t) => {
  const p = base().process;
  t.same(validateProcess(p), []);
  t.same(validateProcess({ ...p, cwd: 'x' }).map((q) => q.pointer), ['/cwd']);
  t.same(validateProcess({ ...p, args: undefined }).map((q) => [q.pointer, q.reason]), [['/args', 'is required']]);
  t.same(validateProcess([]).map((q) => q.pointer), ['']);
  t.same(validateProcess({ ...p, user: { uid: 0, gid: 0, additionalGids: [1, -1] } }).map((q) => q.pointer), ['/user/additionalGids/1']);
});

t.test('validateState', async (t) => {
  const s = { ociVersion: '1.2.0', id: 'c1', status: 'running', pid: 42, bundle: '/b', annotations: { a: 'b' } };
  t.same(validateState(s), []);
  t.same(validateState({ ...s, status: 'paused', rootfs: '/b/rootfs', created: 'now' }), [], 'runc extras and "paused" are fine');
  t.same(validateState({ ...s, status: 'zombie' }).map((p) => p.pointer), ['/status']);
  t.same(validateState({ ...s, id: '' }).map((p) => p.reason), ['must not be empty']);
  t.same(validateState({ ...s, pid: -1 }).map((p) => p.pointer), ['/pid']);
});

t.test('the validated document types line up with the spec names', async (t) => {
  const d = base() as unknown as Spec;
  t.equal(d.process?.user.uid, 0);
  t.equal(d.linux?.namespaces?.[0].type, 'pid');
});
