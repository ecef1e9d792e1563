import t from 'tap';
import { buildPlan, PlanContext, sysctlPath } from '../../lib/plan/build';
import { encodePlan } from '../../lib/plan/encode';
import { labelMount, MS, planMount } from '../../lib/plan/mounts';
import { parseAttrs } from '../../lib/protocol/codec';
import { HEADER_SIZE } from '../../lib/protocol/spec';
import { NAMESPACE_FLAGS } from '../../lib/spec/names';
import type { Spec } from '../../lib/spec/types';

const ctx: PlanContext = {
  id: 'c1',
  bundle: '/bundles/c1',
  rootfs: '/bundles/c1/rootfs',
  stateDir: '/run/capsa/c1',
  parentPid: 4242,
  noPivot: false,
  noNewKeyring: false,
  compileSeccomp: () => ({ program: Buffer.alloc(8), flags: 2 }),
  cgroupMounts: (m) => [m],
};

function config(edit: (c: Spec) => void = () => {}): Spec {
  const c: Spec = {
    ociVersion: '1.3.0',
    process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', env: ['PATH=/bin'] },
    root: { path: 'rootfs' },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] },
  };
  edit(c);
  return c;
}

t.test('namespaces are created or joined by path', async (t) => {
  const p = buildPlan(config((c) => c.linux!.namespaces!.push({ type: 'network', path: '/proc/1/ns/net' })), ctx);
  t.equal(p.cloneFlags, NAMESPACE_FLAGS.mount | NAMESPACE_FLAGS.pid);
  t.same(p.joins, [{ type: NAMESPACE_FLAGS.network, path: '/proc/1/ns/net' }]);
});

t.test('mount options become flags, propagation, attributes and data', async (t) => {
  const m = planMount({ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro', 'nosuid', 'rprivate', 'rnoexec', 'mode=755'] }, 0, '/b');
  t.equal(m.source, '/b/data', 'relative bind sources are anchored at the bundle');
  t.equal(m.flags, MS.BIND | MS.REC | MS.RDONLY | MS.NOSUID);
  t.equal(m.propagation, MS.PRIVATE | MS.REC);
  t.equal(m.attrSet, 0x8n);
  t.equal(m.data, 'mode=755');
  t.equal(m.fstype, '');
  const rw = planMount({ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'rw'] }, 0, '/b');
  t.equal(rw.flags, 0n, 'a later option clears an earlier one');
  t.throws(() => planMount({ destination: '/x', type: 'tmpfs', options: ['idmap'] }, 3, '/b'), /\/mounts\/3\/options.*idmap/);
  const copy = planMount({ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'tmpcopyup'] }, 0, '/b');
  t.same([copy.copyUp, copy.flags, copy.data], [true, MS.NOSUID, ''], 'tmpcopyup is a flag of the plan, not mount data');
  t.throws(() => planMount({ destination: '/x', type: 'bind', source: '/s', options: ['rbind', 'tmpcopyup'] }, 2, '/b'), /\/mounts\/2\/options.*tmpcopyup" is for tmpfs/);
});

t.test('default devices and /dev symlinks, unless /dev is bound from the host', async (t) => {
  const p = buildPlan(config((c) => (c.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600 }])), ctx);
  const paths = p.devices.map((d) => d.path);
  t.same(paths, ['/dev/null', '/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom', '/dev/fuse'], "runc's order, then the config's");
  t.equal(p.devices[6].mode, 0o020000 | 0o600);
  const podman = buildPlan(config((c) => (c.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o020600 }])), ctx);
  t.equal(podman.devices[6].mode, 0o020000 | 0o600, 'type bits in fileMode (podman) are the type\'s own');
  t.ok(p.symlinks.some((l) => l.path === '/dev/ptmx' && l.target === 'pts/ptmx'));
  t.notOk(p.devices[0].bind);
  const hostDev = buildPlan(config((c) => c.mounts!.push({ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] })), ctx);
  t.same(hostDev.devices, []);
  t.same(hostDev.symlinks, []);
});

t.test('a new user namespace binds devices and carries the id maps', async (t) => {
  const p = buildPlan(
    config((c) => {
      c.linux!.namespaces!.push({ type: 'user' });
      c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }),
    ctx,
  );
  t.ok(p.devices.every((d) => d.bind));
  t.same(p.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
});

t.test('process settings', async (t) => {
  const p = buildPlan(
    config((c) => {
      Object.assign(c.process!, {
        rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 18446744073709551615 }],
        capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'] },
        noNewPrivileges: true,
        oomScoreAdj: -500,
        ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 4 },
        user: { uid: 1000, gid: 1000, additionalGids: [5, 6], umask: 0o077 },
      });
    }),
    ctx,
  );
  t.same(p.rlimits, [{ type: 7, soft: 1024n, hard: (1n << 64n) - 1n }]);
  t.equal(p.caps.bounding, (1n << 5n) | (1n << 0n));
  t.equal(p.caps.effective, 1n << 5n);
  t.equal(p.caps.ambient, 0n);
  t.equal(p.noNewPrivileges, true);
  t.equal(p.oomScoreAdj, -500);
  t.equal(p.ioprio, (2 << 13) | 4);
  t.same([p.uid, p.gid, p.additionalGids, p.umask], [1000, 1000, [5, 6], 0o077]);
  t.equal(p.sessionKeyring, '_ses.c1', 'a session keyring named after the container, as runc names it');
  t.equal(buildPlan(config(), { ...ctx, noNewKeyring: true }).sessionKeyring, undefined);
});

t.test('sysctls map to /proc/sys paths and cannot climb out', async (t) => {
  t.equal(sysctlPath('net.ipv4.ip_forward'), 'net/ipv4/ip_forward');
  t.equal(sysctlPath('net/ipv4/conf/eth0.100/rp_filter'), 'net/ipv4/conf/eth0.100/rp_filter');
  t.throws(() => sysctlPath('net..x'));
  t.throws(() => sysctlPath('kernel/../../etc'));
});

t.test('hooks for capsa-init, time offsets, rootfs propagation', async (t) => {
  const p = buildPlan(
    config((c) => {
      c.hooks = {
        createContainer: [{ path: '/bin/a', args: ['a', '1'], timeout: 3 }],
        startContainer: [{ path: '/bin/b' }],
        prestart: [{ path: '/bin/c' }],
      };
      c.linux!.namespaces!.push({ type: 'time' });
      c.linux!.timeOffsets = { monotonic: { secs: 5, nanosecs: 10 } };
      c.linux!.rootfsPropagation = 'rshared';
    }),
    { ...ctx, hookEnv: ['RUNTIME=1'] },
  );
  t.same(p.hooks, [
    { kind: 'createContainer', path: '/bin/a', args: ['a', '1'], env: ['RUNTIME=1'], timeout: 3 },
    { kind: 'startContainer', path: '/bin/b', args: ['/bin/b'], env: ['PATH=/bin'], timeout: 0 },
  ], 'without an env of its own: createContainer gets the runtime\'s, startContainer the process\'s (runc)');
  const own = buildPlan(config((c) => (c.hooks = { startContainer: [{ path: '/bin/b', args: [], env: ['X=1'] }] })), ctx);
  t.same(own.hooks[0], { kind: 'startContainer', path: '/bin/b', args: ['/bin/b'], env: ['X=1'], timeout: 0 }, 'an empty args list means the path');
  t.equal(p.timeOffsets, 'monotonic 5 10\n');
  t.equal(p.rootfsPropagation, MS.SHARED | MS.REC);
});

t.test('seccomp is compiled through the context', async (t) => {
  const p = buildPlan(config((c) => (c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' })), ctx);
  t.same(p.seccomp, { program: Buffer.alloc(8), flags: 2 });
});

t.test('the encoded plan carries what init needs', async (t) => {
  const msg = encodePlan(buildPlan(config((c) => (c.hostname = 'box')), ctx));
  const a = parseAttrs(msg.subarray(HEADER_SIZE));
  t.equal(a.str('ROOTFS'), '/bundles/c1/rootfs');
  t.equal(a.str('HOSTNAME'), 'box');
  t.equal(a.u32('PARENT_PID'), 4242);
  t.same(a.strs('ARG'), ['sh']);
  t.equal(a.nests('MOUNT')[0].str('M_DEST'), '/proc');
  t.equal(a.nests('DEVICE').length, 6);
});

t.test('the SELinux mount label: context="..." in the data of the mounts runc labels, and in the plan for init', async (t) => {
  const label = 'system_u:object_r:container_file_t:s0:c1,c2';
  const p = buildPlan(
    config((c) => {
      c.linux!.mountLabel = label;
      c.mounts!.push(
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755', 'size=65536k'] },
        { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['newinstance', 'gid=5'] },
        { destination: '/run', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
        { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] },
        { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' },
        { destination: '/data', type: 'bind', source: '/srv', options: ['rbind'] },
        { destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['bind'] },
      );
    }),
    ctx,
  );
  t.same(
    p.mounts.map((m) => [m.destination, m.data]),
    [
      ['/proc', ''],
      ['/dev', `mode=755,size=65536k,context="${label}"`],
      ['/dev/pts', `newinstance,gid=5,context="${label}"`],
      ['/run', `context="${label}"`],
      ['/dev/mqueue', ''],
      ['/sys', ''],
      ['/sys/fs/cgroup', ''],
      ['/data', ''],
      ['/x', ''],
    ],
    'quoted (the categories have a comma); not on proc, sysfs, cgroup, binds; mqueue is labelled by init',
  );
  t.equal(p.mountLabel, label, 'init labels the masked directories and the mqueue root with it');
  t.equal(parseAttrs(encodePlan(p).subarray(HEADER_SIZE)).str('MOUNT_LABEL'), label);
  const none = buildPlan(config((c) => c.mounts!.push({ destination: '/run', type: 'tmpfs', source: 'tmpfs' })), ctx);
  t.same(none.mounts.map((m) => m.data), ['', ''], 'no label, no context');
  t.equal(labelMount(planMount({ destination: '/t', type: 'tmpfs' }, 0, '/b'), '').data, '', 'an empty label means none (as Go\'s specs)');
});

t.test('an AppArmor profile travels in the plan; an empty one means none (as Go\'s specs)', async (t) => {
  const attrs = (profile: string) => parseAttrs(encodePlan(buildPlan(config((c) => (c.process!.apparmorProfile = profile)), ctx)).subarray(HEADER_SIZE));
  t.equal(buildPlan(config((c) => (c.process!.apparmorProfile = 'capsa-test')), ctx).apparmorProfile, 'capsa-test');
  t.equal(attrs('capsa-test').str('APPARMOR_PROFILE'), 'capsa-test');
  t.equal(attrs('').str('APPARMOR_PROFILE'), undefined);
  t.equal(attrs('x'.repeat(5000)).str('APPARMOR_PROFILE'), 'x'.repeat(5000), 'capsa-init checks the length against a page');
});
