// capsa under containerd (the Debian package: containerd 1.6, ctr, containerd-shim-runc-v2),
// driven exactly as it drives runc: a private containerd, a busybox image built offline and
// imported, and `ctr` with capsa as the runc binary of io.containerd.runc.v2.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { Test } from 'tap';
import { skipReason } from '../helpers/capsa';
import { Containerd, containerdMissing } from '../helpers/containerd';
import { IMAGE, IMAGE_USER } from '../helpers/image';
import { waitFor } from '../helpers/machine';

const skip = skipReason() ?? containerdMissing();
if (skip) t.plan(0, skip);
else {
  const ctd = new Containerd('ctd');
  t.teardown(() => ctd.stop());
  t.before(async () => {
    await ctd.start();
    ctd.importImages();
  });

  const run = (id: string, args: string[], o: { flags?: string[]; image?: string; tty?: boolean } = {}) =>
    ctd.ctr(['run', ...ctd.runtimeFlags, ...(o.flags ?? []), o.image ?? IMAGE, id, ...args], { tty: o.tty });
  const taskStatus = (id: string) => ctd.ctr(['tasks', 'ls']).stdout.match(new RegExp(`^${id}\\s+(\\d+)\\s+(\\w+)`, 'm'));

  /** Nothing of container `id` is left: no task or container in containerd, no capsa state
   *  directory, no cgroup, no mount, no shim. */
  const nothingLeft = (t: Test, id: string) => {
    t.notMatch(ctd.ctr(['tasks', 'ls', '-q']).stdout, new RegExp(`^${id}$`, 'm'), 'no task');
    t.notMatch(ctd.ctr(['containers', 'ls', '-q']).stdout, new RegExp(`^${id}$`, 'm'), 'no container');
    t.notOk(existsSync(join(ctd.capsaRoot, id)), 'no capsa state directory');
    t.same(ctd.cgroupDirs(id), [], 'no cgroup');
    t.same(ctd.mounts().filter((m) => m.includes(`/${id}/`) || m.endsWith(`/${id}`)), [], 'no mount');
  };

  t.test('run --rm: stdout passes through and exit code 3 comes back', async (t) => {
    const r = run('rm3', ['sh', '-c', 'echo hello from capsa; echo to-err >&2; exit 3'], { flags: ['--rm'] });
    t.equal(r.status, 3, r.stderr);
    t.equal(r.stdout, 'hello from capsa\n');
    t.equal(r.stderr, 'to-err\n');
    nothingLeft(t, 'rm3');
  });

  t.test('run -d: task ls RUNNING, kill (TERM handled), delete with its exit status', async (t) => {
    const r = run('det', ['sh', '-c', 'trap "echo got TERM; exit 42" TERM; sleep 300 & wait'], { flags: ['-d'] });
    t.equal(r.status, 0, r.stderr);
    const st = taskStatus('det');
    t.equal(st?.[2], 'RUNNING');
    const pid = Number(st?.[1]);
    t.ok(existsSync(`/proc/${pid}`), 'the task pid is the container process');
    t.ok(existsSync(join(ctd.capsaRoot, 'det', 'state.json')), 'capsa keeps its state under the shim\'s --root');
    t.equal(ctd.ctr(['tasks', 'kill', 'det']).status, 0);
    await waitFor(() => taskStatus('det')?.[2] === 'STOPPED');
    const del = ctd.ctr(['tasks', 'delete', 'det']);
    t.equal(del.status, 0);
    t.match(del.stderr, /exit code 42/, 'the exit status of the trap reaches containerd');
    t.equal(ctd.ctr(['containers', 'rm', 'det']).status, 0);
    nothingLeft(t, 'det');
  });

  t.test('kill -s KILL of a running task, delete -f, and nothing left', async (t) => {
    t.equal(run('k9', ['sleep', '300'], { flags: ['-d'] }).status, 0);
    t.equal(ctd.ctr(['tasks', 'kill', '-s', 'SIGKILL', 'k9']).status, 0);
    await waitFor(() => taskStatus('k9')?.[2] === 'STOPPED');
    t.match(ctd.ctr(['tasks', 'delete', 'k9']).stderr, /exit code 137/);
    t.equal(ctd.ctr(['containers', 'rm', 'k9']).status, 0);
    nothingLeft(t, 'k9');
  });

  t.test('exec: output and exit status of a second process', async (t) => {
    t.equal(run('ex', ['sleep', '300'], { flags: ['-d'] }).status, 0);
    const e = ctd.ctr(['tasks', 'exec', '--exec-id', 'e1', 'ex', 'sh', '-c', 'echo exec-out; echo exec-err >&2; exit 5']);
    t.equal(e.status, 5, e.stderr);
    t.equal(e.stdout, 'exec-out\n');
    t.equal(e.stderr, 'exec-err\n');
    const u = ctd.ctr(['tasks', 'exec', '--exec-id', 'e2', '--user', '1000', '--cwd', '/tmp', 'ex', 'sh', '-c', 'echo $(id -u):$(pwd)']);
    t.equal(u.stdout, '1000:/tmp\n', u.stderr);
    ctd.ctr(['tasks', 'kill', '-s', 'SIGKILL', 'ex']);
    await waitFor(() => taskStatus('ex')?.[2] === 'STOPPED');
    ctd.ctr(['tasks', 'delete', 'ex']);
    ctd.ctr(['containers', 'rm', 'ex']);
    nothingLeft(t, 'ex');
  });

  t.test('exec -t: a terminal for the exec\'d process', async (t) => {
    t.equal(run('ext', ['sleep', '300'], { flags: ['-d'] }).status, 0);
    // Alive for a second: ctr resizes the pty after Start returns, and prints "resize pty ...
    // cannot resize a stopped container" into the output when the process is gone (with runc too).
    const e = ctd.ctr(['tasks', 'exec', '-t', '--exec-id', 't1', 'ext', 'sh', '-c', 'tty; sleep 1; exit 6'], { tty: true });
    t.equal(e.status, 6, e.stderr);
    // Not anchored at the end: the harness's terminal may echo a NUL (^@) after it, runc or capsa.
    t.match(e.stdout, /^(\^@)?\/dev\/pts\/\d+\r*\n/);
    ctd.ctr(['tasks', 'kill', '-s', 'SIGKILL', 'ext']);
    await waitFor(() => taskStatus('ext')?.[2] === 'STOPPED');
    ctd.ctr(['tasks', 'delete', 'ext']);
    ctd.ctr(['containers', 'rm', 'ext']);
    nothingLeft(t, 'ext');
  });

  t.test('run -t: the container\'s process gets a terminal', async (t) => {
    const r = run('tty', ['sh', '-c', 'tty; exit 4'], { flags: ['--rm', '-t'], tty: true });
    t.equal(r.status, 4, r.stderr);
    t.match(r.stdout, /\/dev\/pts\/0\r*\n$/);
    nothingLeft(t, 'tty');
  });

  t.test('ps: the container\'s processes', async (t) => {
    t.equal(run('ps', ['sh', '-c', 'sleep 300 & wait'], { flags: ['-d'] }).status, 0);
    const pid = Number(taskStatus('ps')?.[1]);
    await waitFor(() => ctd.ctr(['tasks', 'ps', 'ps']).stdout.trim().split('\n').length >= 3);
    const pids = ctd.ctr(['tasks', 'ps', 'ps']).stdout.trim().split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0]));
    t.ok(pids.includes(pid), 'the init is listed');
    t.equal(pids.length, 2, 'and its sleep');
    ctd.ctr(['tasks', 'kill', '-s', 'SIGKILL', 'ps']);
    await waitFor(() => taskStatus('ps')?.[2] === 'STOPPED');
    ctd.ctr(['tasks', 'delete', 'ps']);
    ctd.ctr(['containers', 'rm', 'ps']);
    nothingLeft(t, 'ps');
  });

  t.test('pause and resume', async (t) => {
    t.equal(run('pr', ['sleep', '300'], { flags: ['-d'] }).status, 0);
    const pid = Number(taskStatus('pr')?.[1]);
    t.equal(ctd.ctr(['tasks', 'pause', 'pr']).status, 0);
    t.equal(taskStatus('pr')?.[2], 'PAUSED');
    t.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^State:\s+[DS]/m);
    t.equal(ctd.ctr(['tasks', 'resume', 'pr']).status, 0);
    t.equal(taskStatus('pr')?.[2], 'RUNNING');
    ctd.ctr(['tasks', 'kill', '-s', 'SIGKILL', 'pr']);
    await waitFor(() => taskStatus('pr')?.[2] === 'STOPPED');
    ctd.ctr(['tasks', 'delete', 'pr']);
    ctd.ctr(['containers', 'rm', 'pr']);
    nothingLeft(t, 'pr');
  });

  t.test('--memory-limit: in the container\'s cgroup, seen from the host and from inside', async (t) => {
    const limit = 64 << 20;
    t.equal(run('mem', ['sleep', '300'], { flags: ['-d', '--memory-limit', String(limit)] }).status, 0);
    const pid = Number(taskStatus('mem')?.[1]);
    const memPath = readFileSync(`/proc/${pid}/cgroup`, 'utf8').match(/^\d+:memory:(.*)$/m)?.[1];
    t.equal(memPath, `/${ctd.ns}/mem`, 'ctr\'s default cgroupsPath /<namespace>/<id>');
    t.equal(readFileSync(`/sys/fs/cgroup/memory${memPath}/memory.limit_in_bytes`, 'utf8').trim(), String(limit));
    ctd.ctr(['tasks', 'kill', '-s', 'SIGKILL', 'mem']);
    await waitFor(() => taskStatus('mem')?.[2] === 'STOPPED');
    ctd.ctr(['tasks', 'delete', 'mem']);
    ctd.ctr(['containers', 'rm', 'mem']);
    nothingLeft(t, 'mem');

    const cgroupMount = 'type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:noexec:nodev';
    const r = run('mem-in', ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'], { flags: ['--rm', '--memory-limit', String(limit), '--mount', cgroupMount] });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, `${limit}\n`, 'the container sees its own limit');
    nothingLeft(t, 'mem-in');
  });

  t.test('--env and --cwd', async (t) => {
    const r = run('envcwd', ['sh', '-c', 'echo "$FOO|$(pwd)"'], { flags: ['--rm', '--env', 'FOO=bar baz', '--cwd', '/home/user'] });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, 'bar baz|/home/user\n');
  });

  t.test('the image\'s User 1000:1000', async (t) => {
    const r = run('user', ['sh', '-c', 'echo $(id -u):$(id -g):$(id -G)'], { flags: ['--rm'], image: IMAGE_USER });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, '1000:1000:1000\n');
  });

  t.test('--read-only: the rootfs is read-only, /tmp-like mounts are not', async (t) => {
    const r = run('ro', ['sh', '-c', 'touch /x 2>&1; echo rc=$?; touch /dev/shm/y && echo shm-ok'], { flags: ['--rm', '--read-only'] });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, 'touch: /x: Read-only file system\nrc=1\nshm-ok\n');
  });

  for (const [name, cmd, why] of [
    ['a path', '/nonexistent-binary', /\/nonexistent-binary.*no such file or directory/],
    ['a name looked up in PATH', 'nonexistent-binary', /nonexistent-binary.*executable file not found in \$PATH/],
  ] as const) {
    t.test(`a nonexistent command (${name}) fails readably through ctr and leaves nothing`, async (t) => {
      const id = `nx-${cmd.startsWith('/') ? 'abs' : 'path'}`;
      const r = run(id, [cmd], { flags: ['--rm'] });
      t.equal(r.status, 1);
      // The shim shows the msg of the last error line of <bundle>/log.json.
      t.match(r.stderr, /OCI runtime create failed: create nx-\w+: /);
      t.match(r.stderr, why);
      nothingLeft(t, id);
    });
  }

  t.test('no shim outlives its container', async (t) => {
    await waitFor(() => ctd.shims().length === 0, 10000).catch(() => {});
    t.same(ctd.shims(), []);
  });
}
