// Seccomp as containers get it: every action, every argument operator, the flags, the
// listener handed to a seccomp agent, the default profiles containerd and podman really
// write, and loading without no_new_privs or CAP_SYS_ADMIN.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { Test } from 'tap';
import { Env, ROOT_DIR, skipReason } from '../helpers/capsa';
import { leftovers, waitFor } from '../helpers/machine';
import { addProbe, calls, INNER_PROBE, PROBE, probeMissing } from '../helpers/probe';

const skip = skipReason() ?? probeMissing();
if (skip) t.plan(0, skip);
else {
  const env = new Env('seccomp');
  t.teardown(() => env.cleanup());
  const errnoName = (n: number) => Object.entries(constants.errno).find(([, v]) => v === n)![0];
  const SIGSYS = 31;

  /** Runs the probe as the container's process under `seccomp`. */
  const probe = (id: string, args: string[], seccomp: any, edit: (c: any) => void = () => {}) => {
    const b = env.bundle(id, (c) => {
      addProbe(c);
      c.process.args = [INNER_PROBE, ...args];
      c.linux.seccomp = seccomp;
      edit(c);
    });
    return env.run(['run', '--bundle', b, id]);
  };
  const allowBut = (syscalls: any[], extra: any = {}) => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls, ...extra });

  t.test('SCMP_ACT_ERRNO with errnoRet, and EPERM without', async (t) => {
    const r = probe('errno', ['call', 'mkdir:/tmp/a', 'chmod:/tmp', 'getpid'], allowBut([
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 123 },
      { names: ['chmod', 'fchmodat'], action: 'SCMP_ACT_ERRNO' },
    ]));
    t.equal(r.status, 0, r.stderr);
    t.same(calls(r.stdout), { 'mkdir:/tmp/a': 'ENOMEDIUM', 'chmod:/tmp': 'EPERM', getpid: 'ok' });
  });

  t.test('defaultAction SCMP_ACT_ERRNO with defaultErrnoRet', async (t) => {
    // Everything the probe needs to start and print is allowed; the rest gets ENOSYS.
    const needed = ['execve', 'brk', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'readlink',
      'mprotect', 'getrandom', 'newfstatat', 'fstat', 'write', 'exit_group', 'uname', 'getpid', 'close', 'fcntl', 'openat',
      'read', 'futex', 'rt_sigprocmask', 'rt_sigaction', 'capget', 'capset', 'prctl', 'setgroups', 'setresuid', 'setresgid',
      'chdir', 'umask', 'getcwd', 'poll', 'close_range', 'seccomp'];
    const r = probe('deferrno', ['call', 'getpid', 'mkdir:/tmp/a', 'add_key'], {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [{ names: needed, action: 'SCMP_ACT_ALLOW' }],
    });
    t.equal(r.status, 0, r.stderr);
    t.same(calls(r.stdout), { getpid: 'ok', 'mkdir:/tmp/a': 'ENOSYS', add_key: 'ENOSYS' });
  });

  t.test('KILL, KILL_THREAD, KILL_PROCESS and TRAP end the process with SIGSYS', async (t) => {
    for (const action of ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP']) {
      const id = action.slice(9).toLowerCase().replace('_', '-');
      const r = probe(id, ['call', 'getpid', 'sgpm:7'], allowBut([{ names: ['sched_get_priority_max'], action }]));
      t.equal(r.status, 128 + SIGSYS, `${action}: killed by SIGSYS (${r.stderr})`);
      t.equal(r.stdout, 'getpid ok\n', `${action}: the calls before it ran, the one after never returned`);
      t.same(leftovers(env, id), []);
    }
  });

  t.test('SCMP_ACT_TRACE without a tracer fails the call with ENOSYS', async (t) => {
    const r = probe('trace', ['call', 'sgpm:0'], allowBut([{ names: ['sched_get_priority_max'], action: 'SCMP_ACT_TRACE', errnoRet: 5 }]));
    t.equal(r.status, 0, r.stderr);
    t.same(calls(r.stdout), { 'sgpm:0': 'ENOSYS' });
  });

  t.test('SCMP_ACT_LOG lets the call through and logs it; the LOG flag logs ERRNO too', async (t) => {
    // Audit records (type 1326) of sched_get_priority_max (146) since `since` (seconds of
    // uptime, as the kernel log stamps them), with the given action code.
    const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const logged = (since: number, code: string) =>
      (spawnSync('dmesg', { encoding: 'utf8' }).stdout ?? '').split('\n').some((l) => {
        const at = /^\[\s*([\d.]+)\]/.exec(l);
        return at && Number(at[1]) >= since && /type=1326/.test(l) && / syscall=146 /.test(l) && l.includes(`code=${code}`);
      });
    // The kernel rate-limits these records when no audit daemon reads them: a few tries.
    const tries = async (id: string, seccomp: any, code: string) => {
      for (let i = 0; i < 5; i++) {
        const since = uptime() - 0.01;
        const r = probe(`${id}-${i}`, ['call', 'sgpm:0'], seccomp);
        t.equal(r.status, 0, r.stderr);
        await new Promise((res) => setTimeout(res, 100));
        if (logged(since, code)) return { out: calls(r.stdout), logged: true };
        if (i === 4) return { out: calls(r.stdout), logged: false };
        await new Promise((res) => setTimeout(res, 1000));
      }
      throw new Error('unreachable');
    };
    const log = await tries('log', allowBut([{ names: ['sched_get_priority_max'], action: 'SCMP_ACT_LOG' }]), '0x7ffc0000');
    t.same(log.out, { 'sgpm:0': 'ok' }, 'the call went through');
    t.ok(log.logged, 'the kernel logged it (audit type 1326)');
    const errno = allowBut([{ names: ['sched_get_priority_max'], action: 'SCMP_ACT_ERRNO', errnoRet: 3 }]);
    // The audit record carries the action without its data (the errno).
    const since = uptime() - 0.01;
    t.same(calls(probe('nolog', ['call', 'sgpm:0'], errno).stdout), { 'sgpm:0': 'ESRCH' });
    t.notOk(logged(since, '0x50000'), 'without the flag an ERRNO action is not logged');
    const flagged = await tries('flaglog', { ...errno, flags: ['SECCOMP_FILTER_FLAG_LOG'] }, '0x50000');
    t.same(flagged.out, { 'sgpm:0': 'ESRCH' });
    t.ok(flagged.logged, 'with SECCOMP_FILTER_FLAG_LOG it is');
  });

  t.test('every argument operator, on the argument it names', async (t) => {
    // sched_get_priority_max(policy) answers 0 or 99 for real policies and EINVAL otherwise;
    // each rule answers its own errno when it matches.
    const rule = (errnoRet: number, op: string, value: number, valueTwo?: number, index = 0) => ({
      names: ['sched_get_priority_max'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet,
      args: [{ index, value, op, ...(valueTwo !== undefined ? { valueTwo } : {}) }],
    });
    // Policies from 8 up are invalid (7 is SCHED_EXT), so a call no rule matches gets EINVAL.
    const cases: [string, any, [string, string][]][] = [
      ['SCMP_CMP_EQ', rule(20, 'SCMP_CMP_EQ', 50), [['sgpm:50', 'ENOTDIR'], ['sgpm:51', 'EINVAL']]],
      ['SCMP_CMP_NE', rule(20, 'SCMP_CMP_NE', 0), [['sgpm:0', 'ok'], ['sgpm:1', 'ENOTDIR']]],
      ['SCMP_CMP_LT', rule(20, 'SCMP_CMP_LT', 100), [['sgpm:99', 'ENOTDIR'], ['sgpm:100', 'EINVAL']]],
      ['SCMP_CMP_LE', rule(20, 'SCMP_CMP_LE', 100), [['sgpm:100', 'ENOTDIR'], ['sgpm:101', 'EINVAL']]],
      ['SCMP_CMP_GT', rule(20, 'SCMP_CMP_GT', 100), [['sgpm:101', 'ENOTDIR'], ['sgpm:100', 'EINVAL']]],
      ['SCMP_CMP_GE', rule(20, 'SCMP_CMP_GE', 100), [['sgpm:100', 'ENOTDIR'], ['sgpm:99', 'EINVAL']]],
      // value is the mask, valueTwo what the masked argument must equal (libseccomp's order).
      ['SCMP_CMP_MASKED_EQ', rule(20, 'SCMP_CMP_MASKED_EQ', 0xf0, 0x30), [['sgpm:0x35', 'ENOTDIR'], ['sgpm:0x45', 'EINVAL'], ['sgpm:0x3f', 'ENOTDIR']]],
      ['a 64-bit value', rule(20, 'SCMP_CMP_EQ', 2 ** 40 + 50), [['sgpm:0x10000000032', 'ENOTDIR'], ['sgpm:50', 'EINVAL']]],
      ['another argument', rule(20, 'SCMP_CMP_EQ', 9, undefined, 3), [['sgpm:50:0:0:9', 'ENOTDIR'], ['sgpm:50:0:0:8', 'EINVAL']]],
    ];
    for (const [name, r, expect] of cases) {
      const out = probe(`op-${name.replace(/\W+/g, '-').toLowerCase()}`, ['call', ...expect.map(([c]) => c)], allowBut([r]));
      t.same(calls(out.stdout), Object.fromEntries(expect), `${name} (${out.stderr.trim()})`);
    }
    // Two conditions on different arguments must both hold; on the same argument, either.
    const and = probe('op-and', ['call', 'sgpm:50:7', 'sgpm:50:8', 'sgpm:40:7'], allowBut([{
      names: ['sched_get_priority_max'], action: 'SCMP_ACT_ERRNO', errnoRet: 20,
      args: [{ index: 0, value: 50, op: 'SCMP_CMP_EQ' }, { index: 1, value: 7, op: 'SCMP_CMP_EQ' }],
    }]));
    t.same(calls(and.stdout), { 'sgpm:50:7': 'ENOTDIR', 'sgpm:50:8': 'EINVAL', 'sgpm:40:7': 'EINVAL' }, 'different arguments: AND');
    const or = probe('op-or', ['call', 'sgpm:50', 'sgpm:60', 'sgpm:40'], allowBut([{
      names: ['sched_get_priority_max'], action: 'SCMP_ACT_ERRNO', errnoRet: 20,
      args: [{ index: 0, value: 50, op: 'SCMP_CMP_EQ' }, { index: 0, value: 60, op: 'SCMP_CMP_EQ' }],
    }]));
    t.same(calls(or.stdout), { 'sgpm:50': 'ENOTDIR', 'sgpm:60': 'ENOTDIR', 'sgpm:40': 'EINVAL' }, 'the same argument: OR');
  });

  t.test('flags: each this kernel supports loads; features lists them', async (t) => {
    const features = JSON.parse(env.run(['features']).stdout).linux.seccomp;
    t.ok(features.actions.includes('SCMP_ACT_NOTIFY'));
    t.same(features.knownFlags, ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']);
    for (const flag of features.knownFlags) {
      const id = `flag-${flag.slice(20).toLowerCase().replace(/_/g, '-')}`;
      const r = probe(id, ['call', 'mkdir:/tmp/a'], allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 20 }], { flags: [flag] }));
      if (features.supportedFlags.includes(flag)) {
        t.equal(r.status, 0, `${flag}: ${r.stderr}`);
        t.same(calls(r.stdout), { 'mkdir:/tmp/a': 'ENOTDIR' }, `${flag}: the filter works`);
      } else {
        t.equal(r.status, 1, `${flag} is refused where the kernel lacks it`);
        t.match(r.stderr, new RegExp(`seccomp flag "${flag}" is not supported by this kernel`));
      }
    }
  });

  t.test('syscall names libseccomp does not know are skipped with a warning', async (t) => {
    const r = probe('unknown-name', ['call', 'mkdir:/tmp/a'], allowBut([{ names: ['no_such_syscall_2099', 'mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 20 }]));
    t.equal(r.status, 0, r.stderr);
    t.match(r.stderr, /seccomp: syscalls unknown to libseccomp [\d.]+ skipped: no_such_syscall_2099/);
    t.same(calls(r.stdout), { 'mkdir:/tmp/a': 'ENOTDIR' }, 'the rest of the rule applies');
  });

  t.test('an unknown action or operator is an error, and nothing is left', async (t) => {
    const bad = probe('bad-action', ['call', 'getpid'], allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_EXPLODE' }]));
    t.equal(bad.status, 1);
    t.match(bad.stderr, /run bad-action: config\.json: \/linux\/seccomp\/syscalls\/0\/action: "SCMP_ACT_EXPLODE" is not one of/);
    const op = probe('bad-op', ['call', 'getpid'], allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ABOUT' }] }]));
    t.equal(op.status, 1);
    t.match(op.stderr, /\/linux\/seccomp\/syscalls\/0\/args\/0\/op: "SCMP_CMP_ABOUT" is not one of/);
    const errno = probe('bad-errno', ['call', 'getpid'], allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }]));
    t.equal(errno.status, 1, 'errnoRet with an action that has no errno');
    t.match(errno.stderr, /errnoRet: applies only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE/);
    for (const id of ['bad-action', 'bad-op', 'bad-errno']) t.same(leftovers(env, id), []);
  });

  t.test('without noNewPrivileges and without CAP_SYS_ADMIN, the filter still loads', async (t) => {
    const r = probe('nonnp', ['call', 'mkdir:/tmp/a'], allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 20 }]), (c) => {
      c.process.noNewPrivileges = false;
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
    });
    t.equal(r.status, 0, r.stderr);
    t.same(calls(r.stdout), { 'mkdir:/tmp/a': 'ENOTDIR' });
    const status = probe('nonnp-status', [], allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }]), (c) => {
      c.process.args = ['sh', '-c', 'grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status'];
      c.process.noNewPrivileges = false;
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
    });
    t.match(status.stdout, /NoNewPrivs:\t0\nSeccomp:\t2\n/);
    t.match(status.stdout, /CapEff:\t0000000000000000/, 'a non-root user ends with no capabilities');
  });

  // --------------------------------------------------------------- the listener, and its agent

  /** Starts the probe as a seccomp agent; resolves once it listens. */
  const startAgent = async (t: Test, answer: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'capsa-agent-'));
    const socket = join(dir, 'agent.sock');
    const out = join(dir, 'state');
    const agent = spawn(PROBE, ['agent', socket, out, answer], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => {
      if (agent.exitCode === null) agent.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    await new Promise<void>((resolve, reject) => {
      agent.stdout!.once('data', () => resolve());
      agent.once('exit', (code) => reject(new Error(`agent exited with ${code}`)));
    });
    const done = new Promise<void>((resolve) => (agent.exitCode !== null ? resolve() : agent.once('exit', () => resolve())));
    return { socket, out, done, read: () => (existsSync(out) ? readFileSync(out, 'utf8') : '') };
  };
  const notifying = (socket: string, names: string[]) =>
    allowBut([{ names, action: 'SCMP_ACT_NOTIFY' }], { listenerPath: socket, listenerMetadata: 'MKNOD=/dev/null;x' });

  for (const nnp of [true, false]) {
    t.test(`SCMP_ACT_NOTIFY: the agent gets the fd and the state, and answers (noNewPrivileges ${nnp})`, async (t) => {
      const agent = await startAgent(t, '123');
      const id = `notify-${nnp}`;
      const r = probe(id, ['call', 'mkdir:/tmp/a', 'getpid', 'mkdir:/tmp/b'], notifying(agent.socket, ['mkdir', 'mkdirat']), (c) => {
        c.process.noNewPrivileges = nnp;
        c.annotations = { 'org.example/who': 'test' };
      });
      t.equal(r.status, 0, r.stderr);
      t.same(calls(r.stdout), { 'mkdir:/tmp/a': 'ENOMEDIUM', getpid: 'ok', 'mkdir:/tmp/b': 'ENOMEDIUM' }, 'the agent chose the errno');
      await agent.done;
      const [json, ...notes] = agent.read().trim().split('\n');
      const st = JSON.parse(json);
      t.match(st, {
        ociVersion: '1.3.0',
        fds: ['seccompFd'],
        metadata: 'MKNOD=/dev/null;x',
        state: { ociVersion: '1.3.0', id, status: 'creating', annotations: { 'org.example/who': 'test' } },
      });
      t.ok(st.pid > 0 && st.state.pid === st.pid, 'the pid as the runtime sees it');
      t.same(notes, ['notified 83', 'notified 83'], 'two mkdir calls reached the agent');
      t.same(leftovers(env, id), []);
    });
  }

  t.test('SCMP_ACT_NOTIFY in exec: the exec\'d process has its own listener, for its own agent', async (t) => {
    const init = await startAgent(t, '123');
    const b = env.bundle('notify-exec', (c) => {
      addProbe(c);
      c.process.args = ['sleep', '30'];
      c.linux.seccomp = notifying(init.socket, ['mkdir', 'mkdirat']);
    });
    t.equal(env.run(['run', '--detach', '--bundle', b, 'notify-exec']).status, 0);
    const initPid = JSON.parse(env.run(['state', 'notify-exec']).stdout).pid;
    await waitFor(() => init.read().length > 0);
    const agent = await startAgent(t, '20');
    const agentSocket = agent.socket;
    t.not(agentSocket, init.socket);
    // The config names the first agent's socket; the second one takes over that path.
    rmSync(init.socket, { force: true });
    const relay = spawnSync('ln', ['-s', agentSocket, init.socket]);
    t.equal(relay.status, 0);
    const r = env.run(['exec', 'notify-exec', INNER_PROBE, 'call', 'mkdir:/tmp/a']);
    t.equal(r.status, 0, r.stderr);
    t.same(calls(r.stdout), { 'mkdir:/tmp/a': 'ENOTDIR' }, 'the second agent answered');
    await agent.done;
    const st = JSON.parse(agent.read().split('\n')[0]);
    t.match(st, { fds: ['seccompFd'], state: { id: 'notify-exec', status: 'running', pid: initPid } });
    t.ok(st.pid > 0 && st.pid !== initPid, 'pid: the exec\'d process; state.pid: the container\'s');
    t.equal(env.run(['delete', '--force', 'notify-exec']).status, 0);
  });

  t.test('SCMP_ACT_NOTIFY: the agent can make the call succeed without running it, or let it run', async (t) => {
    const fake = await startAgent(t, 'fake-success');
    const r = probe('notify-fake', ['call', 'mkdir:/tmp/a', 'chmod:/tmp/a'], notifying(fake.socket, ['mkdir']));
    t.same(calls(r.stdout), { 'mkdir:/tmp/a': 'ok', 'chmod:/tmp/a': 'ENOENT' }, 'mkdir "succeeded" and made nothing');
    const cont = await startAgent(t, 'continue');
    // Syscalls capsa-init itself makes after loading the filter are notified too.
    const r2 = probe('notify-continue', ['call', 'mkdir:/tmp/a', 'chmod:/tmp/a'], notifying(cont.socket, ['mkdir', 'execve', 'openat', 'read', 'close']));
    t.equal(r2.status, 0, r2.stderr);
    t.same(calls(r2.stdout), { 'mkdir:/tmp/a': 'ok', 'chmod:/tmp/a': 'ok' }, 'mkdir ran for real');
  });

  t.test('SCMP_ACT_NOTIFY: no agent listening, or sendmsg notified, is a clear error', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'capsa-noagent-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const r = probe('notify-none', ['call', 'getpid'], notifying(join(dir, 'nobody.sock'), ['mkdir']));
    t.equal(r.status, 1);
    t.match(r.stderr, /run notify-none: seccomp: .*nobody\.sock: connect to the seccomp agent: no such file or directory/i);
    t.same(leftovers(env, 'notify-none'), []);
    const s = probe('notify-sendmsg', ['call', 'getpid'], notifying(join(dir, 'x.sock'), ['mkdir', 'sendmsg']));
    t.equal(s.status, 1);
    t.match(s.stderr, /\/linux\/seccomp\/syscalls\/0\/names\/1: SCMP_ACT_NOTIFY cannot be used for sendmsg/);
    const rel = probe('notify-relative', ['call', 'getpid'], notifying('agent.sock', ['mkdir']));
    t.match(rel.stderr, /\/linux\/seccomp\/listenerPath: must be an absolute path/);
  });

  // ----------------------------------------------------------------------- real profiles

  /** What a profile answers for an argument-less call: allowed, or its errno. */
  const verdict = (profile: any, name: string): string => {
    for (const r of profile.syscalls ?? [])
      if (r.names.includes(name) && !r.args?.length) {
        if (r.action === 'SCMP_ACT_ALLOW') return 'allow';
        if (r.action === 'SCMP_ACT_ERRNO') return errnoName(r.errnoRet ?? 1);
      }
    return errnoName(profile.defaultErrnoRet ?? 1);
  };
  // What the kernel answers where a profile allows the call, for a root process without
  // CAP_SYS_ADMIN (the capabilities both engines give by default).
  const kernel: Record<string, string> = { unshare: 'EPERM', mount: 'EPERM', keyctl: 'ok', add_key: 'ok' };

  for (const [engine, file, nnp] of [['containerd', 'containerd-1.6.20-default.json', true], ['podman', 'podman-4.3.1-default.json', false]] as const) {
    t.test(`${engine}'s default profile: busybox works, unshare, mount and keyctl get the profile's answer`, async (t) => {
      const profile = JSON.parse(readFileSync(join(ROOT_DIR, 'spec-fixtures', 'seccomp', file), 'utf8'));
      const sh = probe(`${engine}-busybox`, [], profile, (c) => {
        c.process.noNewPrivileges = nnp;
        c.process.args = ['sh', '-c', 'ls / | wc -l; cat /etc/passwd | grep -c root; ps -o pid,comm | grep -c ps; echo abc | sed s/b/X/; seq 3 | sort -r | tr "\\n" " "; date +%Y >/dev/null && echo date-ok; echo x | md5sum | cut -c1-8; unshare -m true 2>&1 | grep -o "Operation not permitted"; mount -t tmpfs none /tmp 2>&1 | grep -c "permission denied\\|not permitted"'];
      });
      t.equal(sh.status, 0, sh.stderr);
      const lines = sh.stdout.trim().split('\n');
      t.ok(Number(lines[0]) > 5, 'ls');
      t.same(lines.slice(1), ['1', '1', 'aXc', '3 2 1 date-ok', '401b30e3', 'Operation not permitted', '1']);

      const names = ['unshare', 'mount', 'keyctl', 'add_key'];
      const r = probe(`${engine}-refused`, ['call', ...names], profile, (c) => (c.process.noNewPrivileges = nnp));
      t.equal(r.status, 0, r.stderr);
      const want = Object.fromEntries(names.map((n) => [n, verdict(profile, n) === 'allow' ? kernel[n] : verdict(profile, n)]));
      t.same(calls(r.stdout), want, JSON.stringify(Object.fromEntries(names.map((n) => [n, verdict(profile, n)]))));
    });
  }
}
