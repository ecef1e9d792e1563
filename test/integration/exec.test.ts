// exec through the real CLI: what the new process joins and inherits, its flags, its exit
// status, signals, detaching, terminals, and what a failed exec leaves (nothing).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openManager } from '../../lib/cgroups';
import { addon, ConsoleSocket, PtyReader } from '../helpers/console-socket';
import { Env, skipReason } from '../helpers/capsa';
import { cgroupDirs, leftovers, waitFor } from '../helpers/machine';

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('exec');
  t.teardown(() => env.cleanup());

  const state = (id: string) => JSON.parse(env.run(['state', id]).stdout);
  /** A running container whose init sleeps; its profile refuses mkdir with EPERM. */
  const container = (id: string, edit: (c: any) => void = () => {}) => {
    const b = env.bundle(id, (c) => {
      c.process.args = ['sleep', '1000'];
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
      edit(c);
    });
    const r = env.run(['run', '-d', '--bundle', b, id]);
    if (r.status !== 0) throw new Error(`run -d ${id}: ${r.stderr}`);
    return { bundle: b, pid: state(id).pid as number };
  };
  const procs = (id: string) => {
    const pids = cgroupDirs(env, id).find((d) => d.includes('/pids/'))!;
    return readFileSync(join(pids, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
  };

  const x = container('x1');

  t.test('exec joins every namespace and the cgroup of the container', async (t) => {
    const r = env.run(['exec', 'x1', 'sh', '-c', 'hostname; cat /proc/1/cmdline; echo; echo $$; for n in pid net ipc uts mnt; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup; grep " /tmp " /proc/self/mountinfo']);
    t.equal(r.status, 0, r.stderr);
    const [hostname, init, pid, ...rest] = r.stdout.trim().split('\n');
    t.equal(hostname, 'capsa-test', 'the container\'s hostname');
    t.equal(init, 'sleep\x001000\x00', 'pid 1 is the container\'s init');
    t.ok(Number(pid) > 1 && Number(pid) < 100, `its pid ${pid} is in the container's pid namespace`);
    for (const [i, n] of ['pid', 'net', 'ipc', 'uts', 'mnt'].entries()) t.equal(rest[i], readlinkSync(`/proc/${x.pid}/ns/${n}`), `${n} namespace`);
    const cgroup = rest.slice(5, -1).join('\n');
    t.equal(cgroup, readFileSync(`/proc/${x.pid}/cgroup`, 'utf8').trim(), 'the container\'s cgroups');
    t.match(rest[rest.length - 1], / \/tmp .* - tmpfs /, 'the container\'s mounts');
    t.same(procs('x1'), [x.pid], 'nothing of the exec is left in the cgroup');
  });

  t.test('exec inherits the seccomp filter, no_new_privs, rlimits and capabilities', async (t) => {
    const r = env.run(['exec', 'x1', 'sh', '-c', 'mkdir /tmp/d; grep -E "^(Seccomp|NoNewPrivs|CapEff|CapInh)" /proc/self/status; ulimit -n']);
    t.match(r.stderr, /mkdir: can't create directory '\/tmp\/d': Operation not permitted/, 'the profile still refuses mkdir');
    t.match(r.stdout, /NoNewPrivs:\s+1\nSeccomp:\s+2\n/, 'the filter is there, with no_new_privs');
    t.match(r.stdout, /^CapInh:\s+0{16}\nCapEff:\s+00000000a80425fb\n.*\n1024\n$/s);
  });

  t.test('--user, --additional-gids, --cap (never inheritable), --cwd, --env', async (t) => {
    const user = env.run(['exec', '-u', '1000:1001', '-g', '5', '-g', '7', '--cwd', '/tmp', '-e', 'A=1', '-e', 'PATH=/bin', 'x1', 'sh', '-c', 'id -u; id -g; id -G; pwd; echo $A $PATH; env | grep -c ^PATH=']);
    t.equal(user.status, 0, user.stderr);
    t.same(user.stdout.trim().split('\n'), ['1000', '1001', '1001 5 7', '/tmp', '1 /bin', '1']);
    const cap = env.run(['exec', '--cap', 'CAP_NET_ADMIN', '--cap', 'CAP_SYS_ADMIN', 'x1', 'grep', '^Cap', '/proc/self/status']);
    const caps = Object.fromEntries(cap.stdout.trim().split('\n').map((l) => l.split(/:\s+/)));
    const with2 = (0xa80425fbn | (1n << 12n) | (1n << 21n)).toString(16).padStart(16, '0');
    t.same(caps, { CapInh: '0'.repeat(16), CapPrm: with2, CapEff: with2, CapBnd: with2, CapAmb: '0'.repeat(16) });
    const bad = env.run(['exec', '--cap', 'CAP_NOPE', 'x1', 'true']);
    t.equal(bad.status, 255);
    t.match(bad.stderr, /exec x1: exec: \/capabilities\/bounding\/\d+: "CAP_NOPE" is not a known capability/);
  });

  t.test('--process FILE: validated, and what it leaves out comes from the container', async (t) => {
    const file = join(x.bundle, 'process.json');
    writeFileSync(file, JSON.stringify({ user: { uid: 2000, gid: 2000 }, args: ['sh', '-c', 'id -u; echo $X; grep NoNewPrivs /proc/self/status'], cwd: '/', env: ['X=y'], noNewPrivileges: false }));
    const r = env.run(['exec', '--process', file, 'x1']);
    t.equal(r.status, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), ['2000', 'y', 'NoNewPrivs:\t0']);
    writeFileSync(file, JSON.stringify({ user: { uid: 0, gid: 0 }, args: ['true'], cwd: 'relative' }));
    const bad = env.run(['exec', '-p', file, 'x1']);
    t.equal(bad.status, 255);
    t.match(bad.stderr, /exec x1: .*process\.json: \/cwd: must be an absolute path, not "relative"/);
  });

  t.test('--preserve-fds passes exactly that many extra fds', async (t) => {
    const file = join(x.bundle, 'fd3');
    writeFileSync(file, 'from fd 3\n');
    const fd3 = openSync(file, 'r');
    const fd4 = openSync(file, 'r');
    try {
      const r = env.run(['exec', '--preserve-fds', '1', 'x1', 'sh', '-c', 'cat <&3; ls /proc/$$/fd; true'], { extraFds: [fd3, fd4] });
      t.equal(r.status, 0, r.stderr);
      const [line, ...fds] = r.stdout.trim().split('\n');
      t.equal(line, 'from fd 3');
      t.same(fds, ['0', '1', '2', '3'], 'fd 4, and nothing of capsa, does not reach it');
    } finally {
      closeSync(fd3);
      closeSync(fd4);
    }
  });

  t.test('exit status: the process\'s own, 128+N when killed by signal N', async (t) => {
    t.equal(env.run(['exec', 'x1', 'sh', '-c', 'exit 7']).status, 7);
    t.equal(env.run(['exec', 'x1', 'sh', '-c', 'kill -KILL $$']).status, 137);
  });

  t.test('a foreground exec forwards the signals it gets', async (t) => {
    const { child, done } = env.start(['exec', 'x1', 'sh', '-c', 'trap "echo got TERM; exit 42" TERM; echo ready; while :; do sleep 0.1; done']);
    await waitFor(() => env.run(['exec', 'x1', 'sh', '-c', 'ps | grep -q "[g]ot TERM"']).status === 0, 10000);
    child.kill('SIGTERM');
    const r = await done;
    t.equal(r.status, 42);
    t.match(r.stdout, /ready\ngot TERM\n/);
  });

  t.test('a nonexistent program: a clear error, status 255, nothing left', async (t) => {
    const r = env.run(['exec', 'x1', 'nosuch', 'arg']);
    t.equal(r.status, 255);
    t.match(r.stderr, /exec x1: exec: nosuch: exec: "nosuch": executable file not found in \$PATH/);
    const abs = env.run(['exec', 'x1', '/bin/nosuch']);
    t.match(abs.stderr, /exec: "\/bin\/nosuch": stat \/bin\/nosuch: no such file or directory/);
    t.same(procs('x1'), [x.pid], 'no process of the failed exec remains in the container');
  });

  t.test('--detach returns at once and writes the pid file', async (t) => {
    const pidFile = join(x.bundle, 'exec.pid');
    const started = Date.now();
    const r = env.run(['exec', '-d', '--pid-file', pidFile, 'x1', 'sleep', '30']);
    t.equal(r.status, 0, r.stderr);
    t.ok(Date.now() - started < 10000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    t.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\x0030\x00');
    t.equal(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync(`/proc/${x.pid}/ns/pid`));
    t.ok(procs('x1').includes(pid), 'it is in the container\'s cgroup');
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !procs('x1').includes(pid));
  });

  t.test('exec into a paused container needs --ignore-paused', async (t) => {
    const cg = openManager(`${env.cgroupParent}/x1`);
    cg.freeze();
    try {
      t.equal(state('x1').status, 'paused');
      const r = env.run(['exec', 'x1', 'true']);
      t.equal(r.status, 255);
      t.match(r.stderr, /cannot exec in a paused container \(use --ignore-paused to override\)/);
      const { done } = env.start(['exec', '--ignore-paused', 'x1', 'sh', '-c', 'echo ran']);
      await new Promise((r) => setTimeout(r, 500));
      cg.thaw();
      const ok = await done;
      t.equal(ok.status, 0, ok.stderr);
      t.equal(ok.stdout, 'ran\n', 'it runs once the container is resumed');
    } finally {
      cg.thaw();
    }
  });

  t.test('exec into a stopped container: runc\'s error', async (t) => {
    container('x2', (c) => (c.process.args = ['true']));
    await waitFor(() => state('x2').status === 'stopped');
    const r = env.run(['exec', 'x2', 'true']);
    t.equal(r.status, 255);
    t.match(r.stderr, /exec x2: exec: cannot exec in a stopped container/);
    t.equal(env.run(['delete', 'x2']).status, 0);
    const gone = env.run(['exec', 'nosuch', 'true']);
    t.match(gone.stderr, /does not exist/);
  });

  t.test('exec into a container with a user namespace: mapped ids, oom_score_adj, its keyring', async (t) => {
    const u = container('x3', (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.maskedPaths = c.linux.maskedPaths.filter((p: string) => p !== '/proc/keys');
      c.process.oomScoreAdj = 200;
    });
    const script = 'id -u; cat /proc/self/uid_map; cat /proc/self/oom_score_adj; readlink /proc/self/ns/user; grep -c " _ses.x3: " /proc/keys';
    const r = env.run(['exec', 'x3', 'sh', '-c', script]);
    t.equal(r.status, 0, r.stderr);
    const [uid, map, adj, userns, keyring] = r.stdout.trim().split('\n');
    t.equal(uid, '0');
    t.same(map.trim().split(/\s+/), ['0', '100000', '65536'], 'the container\'s mapping');
    t.equal(adj, '200', 'the container\'s oom_score_adj, written before the joins');
    t.equal(userns, readlinkSync(`/proc/${u.pid}/ns/user`));
    // Only a possessor may see the keyring here (the mapped ids do not own it): exec joined it.
    t.equal(keyring, '1', 'in the container\'s session keyring');
    const user = env.run(['exec', '-u', '1000:1000', 'x3', 'sh', '-c', 'id -u; grep ^Uid /proc/self/status']);
    t.match(user.stdout, /^1000\nUid:\s+1000\s+1000/, 'uid 1000 of the container');
    t.equal(env.run(['delete', '--force', 'x3']).status, 0);
  });

  t.test('exec -t -d with a console socket: the pty is made in the container and sent over', async (t) => {
    const sock = new ConsoleSocket();
    t.teardown(() => sock.close());
    const file = join(x.bundle, 'tty-process.json');
    writeFileSync(file, JSON.stringify({ terminal: true, consoleSize: { height: 33, width: 111 }, user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', env: ['PATH=/bin'] }));
    const r = env.run(['exec', '-d', '--console-socket', sock.path, '--process', file, 'x1']);
    t.equal(r.status, 0, r.stderr);
    const { fd, name } = sock.receive();
    t.equal(name, '/dev/pts/ptmx', 'runc\'s message: the data is the name of the file sent');
    const pty = new PtyReader(fd);
    pty.write('tty; stty size; exit\n');
    const out = await pty.waitClosed();
    closeSync(fd);
    t.match(out, /\/dev\/pts\/0\r\n33 111\r\n/, 'the container\'s own devpts, the configured size');
    const noSock = env.run(['exec', '-t', '-d', 'x1', 'sh']);
    t.equal(noSock.status, 255);
    t.match(noSock.stderr, /cannot allocate tty if capsa will detach without setting console socket/);
  });

  t.test('a foreground exec -t without a socket: capsa holds the console', async (t) => {
    const host = addon.openpty();
    addon.setWinsize(host.master, 40, 120);
    const termios = () => spawnSync('stty', ['-g'], { stdio: [host.slave, 'pipe', 'ignore'] }).stdout.toString();
    const before = termios();
    const { child, done } = env.start(['exec', '-t', 'x1', 'sh'], { stdio: [host.slave, host.slave, host.slave] });
    const pty = new PtyReader(host.master);
    try {
      pty.write('tty; stty size\n');
      await pty.waitFor(/\r\n40 120\r\n/);
      t.not(termios(), before, 'the host terminal is in raw mode meanwhile');
      t.match(pty.text, /\/dev\/pts\/\d+\r\n40 120/, 'a pty of the container, sized as the host terminal');
      addon.setWinsize(host.master, 50, 130);
      child.kill('SIGWINCH');
      await new Promise((r) => setTimeout(r, 300));
      pty.write('stty size; exit 3\n');
      const r = await done;
      t.equal(r.status, 3);
      await pty.waitFor(/\r\n50 130\r\n/);
      t.pass('SIGWINCH passed the new size on');
      t.equal(termios(), before, 'and restored at the end');
    } finally {
      closeSync(host.slave);
      closeSync(host.master);
    }
  });

  t.test('nothing is left of container x1 after delete', async (t) => {
    t.equal(env.run(['delete', '--force', 'x1']).status, 0);
    // The killed init leaves the cgroup before it is a zombie: give it that moment.
    await waitFor(() => leftovers(env, 'x1', x.pid).length === 0, 2000).catch(() => {});
    t.same(leftovers(env, 'x1', x.pid), []);
    t.same(readdirSync(env.root), []);
    rmSync(join(x.bundle, 'process.json'), { force: true });
  });
}
