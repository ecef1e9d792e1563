// exec's policy without root: the process from flags, what it inherits from the container,
// and the plan that joins the container.
import t from 'tap';
import { buildExecPlan, dedupeEnv, effectiveProcess, ExecContext, ExecFlags, processFromFlags } from '../../lib/plan/exec';
import { encodePlan } from '../../lib/plan/encode';
import { NAMESPACE_FLAGS } from '../../lib/spec/names';
import type { Spec } from '../../lib/spec/types';
import { checkTerminal } from '../../lib/terminal';

const ctx: ExecContext = {
  id: 'c1',
  initPid: 4242,
  rootfs: '/bundles/c1/rootfs',
  parentPid: 77,
  noNewKeyring: false,
  compileSeccomp: () => ({ program: Buffer.alloc(16), flags: 0 }),
};

const flags = (f: Partial<ExecFlags> = {}): ExecFlags => ({ env: [], tty: false, additionalGids: [], cap: [], noNewPrivs: false, ...f });

function config(edit: (c: Spec) => void = () => {}): Spec {
  const c: Spec = {
    ociVersion: '1.3.0',
    process: {
      user: { uid: 0, gid: 0, additionalGids: [10] },
      args: ['init'],
      cwd: '/',
      env: ['PATH=/bin', 'HOME=/root'],
      capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
      noNewPrivileges: true,
      oomScoreAdj: 100,
      terminal: true,
    },
    root: { path: 'rootfs' },
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }, { type: 'network', path: '/var/run/netns/x' }] },
  };
  edit(c);
  return c;
}

t.test('the argument form starts from the container\'s process, with runc\'s overrides', async (t) => {
  const c = config();
  const p = processFromFlags(c, ['sh', '-c', 'x'], flags({ cwd: '/tmp', env: ['A=1'], user: '1000:1001', additionalGids: [5] }));
  t.same(p.args, ['sh', '-c', 'x']);
  t.equal(p.cwd, '/tmp');
  t.same(p.env, ['PATH=/bin', 'HOME=/root', 'A=1']);
  t.same(p.user, { uid: 1000, gid: 1001, additionalGids: [10, 5] });
  t.equal(p.terminal, false, 'the config\'s terminal is not inherited: only --tty gives one');
  t.equal(processFromFlags(c, ['x'], flags({ tty: true })).terminal, true);
  t.equal(processFromFlags(c, ['x'], flags({ user: '7' })).user.gid, 0, 'uid alone keeps the gid');
  t.same(c.process!.env, ['PATH=/bin', 'HOME=/root'], 'the container\'s config is not changed');
  t.throws(() => processFromFlags(c, [], flags()), /exec args cannot be empty/);
  t.throws(() => processFromFlags(c, ['x'], flags({ user: 'root' })), /--user root: must be UID or UID:GID/);
  t.throws(() => processFromFlags(c, ['x'], flags({ user: '-1' })), /--user -1/);
});

t.test('--cap never makes a capability inheritable (CVE-2022-29162)', async (t) => {
  const p = processFromFlags(config(), ['x'], flags({ cap: ['CAP_NET_ADMIN'] }));
  t.same(p.capabilities, {
    bounding: ['CAP_CHOWN', 'CAP_NET_ADMIN'],
    effective: ['CAP_CHOWN', 'CAP_NET_ADMIN'],
    permitted: ['CAP_CHOWN', 'CAP_NET_ADMIN'],
  });
  const withInh = processFromFlags(config((c) => (c.process!.capabilities!.inheritable = ['CAP_KILL'])), ['x'], flags({ cap: ['CAP_NET_ADMIN', 'CAP_KILL'] }));
  t.same(withInh.capabilities!.inheritable, ['CAP_KILL'], 'inheritable stays as configured');
  t.same(withInh.capabilities!.ambient, ['CAP_KILL'], 'ambient only for what is inheritable already: the kernel raises no other');
  const none = processFromFlags(config((c) => delete c.process!.capabilities), ['x'], flags({ cap: ['CAP_KILL'] }));
  t.same(none.capabilities, { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] });
});

t.test('--no-new-privs sets it; without it the config\'s value stays', async (t) => {
  t.equal(processFromFlags(config((c) => (c.process!.noNewPrivileges = false)), ['x'], flags({ noNewPrivs: true })).noNewPrivileges, true);
  t.equal(processFromFlags(config(), ['x'], flags()).noNewPrivileges, true);
});

t.test('what a --process file leaves out comes from the container', async (t) => {
  const c = config();
  const p = effectiveProcess(c, { user: { uid: 5, gid: 5 }, args: ['x'], cwd: '/' });
  t.same(p.capabilities, c.process!.capabilities);
  t.same(p.rlimits, c.process!.rlimits);
  t.equal(p.noNewPrivileges, true);
  t.equal(p.oomScoreAdj, 100);
  const own = effectiveProcess(c, { user: { uid: 5, gid: 5 }, args: ['x'], cwd: '/', noNewPrivileges: false, rlimits: [], capabilities: {} });
  t.equal(own.noNewPrivileges, false, 'an explicit false is taken as asked for');
  t.same(own.rlimits, c.process!.rlimits, 'an empty rlimits list means the container\'s (runc)');
  t.same(own.capabilities, {}, 'an explicit empty capabilities object means none');
});

t.test('LSM labels: the process\'s own, else the container\'s (runc: an exec never starts unconfined)', async (t) => {
  const c = config((c) => Object.assign(c.process!, { apparmorProfile: 'ctr', selinuxLabel: 'ctr_t' }));
  const bare = { user: { uid: 5, gid: 5 }, args: ['x'], cwd: '/' };
  t.match(effectiveProcess(c, bare), { apparmorProfile: 'ctr', selinuxLabel: 'ctr_t' });
  t.match(effectiveProcess(c, { ...bare, apparmorProfile: '' }), { apparmorProfile: 'ctr' }, 'empty means unset');
  t.match(effectiveProcess(c, { ...bare, apparmorProfile: 'own' }), { apparmorProfile: 'own' });
  t.match(processFromFlags(c, ['sh'], flags({ apparmor: 'flag' })), { apparmorProfile: 'flag' });
  t.match(processFromFlags(c, ['sh'], flags()), { apparmorProfile: 'ctr' });
  t.equal(effectiveProcess(config(), bare).apparmorProfile, undefined);
});

t.test('environment: a later entry replaces an earlier one in its place', async (t) => {
  t.same(dedupeEnv(['PATH=/bin', 'A=1', 'PATH=/usr/bin', 'B', 'A=2']), ['PATH=/usr/bin', 'A=2', 'B']);
});

t.test('the plan joins every namespace of the container through its init, user first', async (t) => {
  const p = buildExecPlan(config(), processFromFlags(config(), ['sh'], flags()), ctx);
  t.equal(p.mode, 'exec');
  t.equal(p.cloneFlags, 0);
  t.same(p.joins, [
    { type: NAMESPACE_FLAGS.user, path: '/proc/4242/ns/user' },
    { type: NAMESPACE_FLAGS.pid, path: '/proc/4242/ns/pid' },
    { type: NAMESPACE_FLAGS.mount, path: '/proc/4242/ns/mnt' },
    { type: NAMESPACE_FLAGS.network, path: '/proc/4242/ns/net' },
  ]);
  t.same(p.uidMappings, [], 'a joined user namespace is mapped already');
  t.equal(p.rootfs, undefined, 'the mount namespace brings the root with it');
  t.same([p.mounts, p.devices, p.hooks, p.sysctls], [[], [], [], []]);
  t.equal(p.hostname, undefined);
  t.ok(p.seccomp === undefined, 'no filter when the container has none');
  t.equal(p.noNewPrivileges, true);
  t.equal(p.oomScoreAdj, 100);
  t.same(p.rlimits, [{ type: 7, soft: 1024n, hard: 1024n }]);
  t.equal(p.sessionKeyring, '_ses.c1', 'the container\'s session keyring, as create names it');
  t.equal(buildExecPlan(config(), processFromFlags(config(), ['sh'], flags()), { ...ctx, noNewKeyring: true }).sessionKeyring, undefined);
  t.ok(encodePlan(p).length > 0, 'it encodes');
});

t.test('the container\'s seccomp filter and personality come along', async (t) => {
  const c = config((c) => {
    c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    c.linux!.personality = { domain: 'LINUX32' };
  });
  const seen: unknown[] = [];
  const p = buildExecPlan(c, processFromFlags(c, ['sh'], flags()), { ...ctx, compileSeccomp: (s) => (seen.push(s), { program: Buffer.alloc(24), flags: 4 }) });
  t.same(seen, [c.linux!.seccomp]);
  t.equal(p.seccomp!.program.length, 24);
  t.equal(p.personality, 8);
});

t.test('without a mount namespace, exec enters the container\'s root by chroot', async (t) => {
  const c = config((c) => (c.linux!.namespaces = [{ type: 'pid' }]));
  t.equal(buildExecPlan(c, processFromFlags(c, ['sh'], flags()), ctx).rootfs, '/bundles/c1/rootfs');
});

t.test('a terminal gets the console socket; the rest of a process spec applies', async (t) => {
  const c = config();
  const p = buildExecPlan(c, processFromFlags(c, ['sh'], flags({ tty: true })), { ...ctx, consoleSocket: '/run/x.sock' });
  t.equal(p.terminal, true);
  t.equal(p.consoleSocket, '/run/x.sock');
  t.equal(buildExecPlan(c, processFromFlags(c, ['sh'], flags()), { ...ctx, consoleSocket: '/run/x.sock' }).consoleSocket, undefined);
});

t.test('AppArmor and SELinux labels are refused: this host has neither', async (t) => {
  const c = config();
  t.throws(() => buildExecPlan(c, processFromFlags(c, ['sh'], flags({ apparmor: 'docker-default' })), ctx), /\/process\/apparmorProfile: "docker-default" asks for AppArmor, which is not enabled on this host/);
  t.throws(() => buildExecPlan(c, processFromFlags(c, ['sh'], flags({ processLabel: 'system_u:system_r:container_t' })), ctx), /\/process\/selinuxLabel: ".*" asks for SELinux/);
});

t.test('console socket rules are runc\'s', async (t) => {
  t.throws(() => checkTerminal(true, true, undefined), /cannot allocate tty if capsa will detach without setting console socket/);
  t.throws(() => checkTerminal(false, true, '/s'), /cannot use console socket if capsa will not detach or allocate tty/);
  t.throws(() => checkTerminal(true, false, '/s'), /cannot use console socket/);
  t.doesNotThrow(() => checkTerminal(true, true, '/s'));
  t.doesNotThrow(() => checkTerminal(true, false, undefined), 'foreground: capsa holds the console itself');
  t.doesNotThrow(() => checkTerminal(false, false, undefined));
});
