// What the container's processes can reach of the runtime: its fds (CVE-2024-21626), its
// executables through /proc/PID/exe (CVE-2019-5736), and its environment (NODE_OPTIONS).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CAPSA, Env, skipReason } from '../helpers/capsa';
import { leftovers, waitFor } from '../helpers/machine';
import { addProbe, INNER_PROBE, probeMissing } from '../helpers/probe';

const skip = skipReason() ?? probeMissing();
if (skip) t.plan(0, skip);
else {
  t.setTimeout(300_000);
  const env = new Env('process');
  t.teardown(() => env.cleanup());
  const scratch = mkdtempSync(join(tmpdir(), 'capsa-process-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

  /** Runs capsa with files open as fds 3, 4 and 5 of its own. */
  const runWithFds = (args: string[]) => {
    const files = [0, 1, 2, 3, 4].map((i) => join(scratch, `fd-${i}`));
    const fds = files.map((f) => openSync(f, 'w+'));
    try {
      const r = spawnSync(CAPSA, ['--root', env.root, ...args], { stdio: ['ignore', fds[0], fds[1], fds[2], fds[3], fds[4]], timeout: 30000 });
      return { status: r.status, stdout: readFileSync(files[0], 'utf8'), stderr: readFileSync(files[1], 'utf8') };
    } finally {
      fds.forEach((fd) => closeSync(fd));
    }
  };
  const fdList = (out: string) => out.trim().split('\n').map((l) => Number(l.split(' ')[1]));

  t.test('the container gets fds 0-2 and the preserved ones, nothing of capsa or node', async (t) => {
    const b = env.bundle('fds', (c) => {
      addProbe(c);
      c.process.args = [INNER_PROBE, 'fds'];
    });
    const none = runWithFds(['run', '--bundle', b, 'fds']);
    t.equal(none.status, 0, none.stderr);
    t.same(fdList(none.stdout), [0, 1, 2], none.stdout);
    const two = runWithFds(['run', '--preserve-fds', '2', '--bundle', b, 'fds']);
    t.equal(two.status, 0, two.stderr);
    t.same(fdList(two.stdout), [0, 1, 2, 3, 4], two.stdout);
    t.match(two.stdout, /fd 3 .*fd-2\nfd 4 .*fd-3\n/, 'the preserved fds are the caller\'s');
  });

  t.test('exec: the process gets fds 0-2 and the preserved ones', async (t) => {
    const b = env.bundle('execfds', (c) => {
      addProbe(c);
      c.process.args = ['sleep', '30'];
    });
    t.equal(env.run(['run', '--detach', '--bundle', b, 'execfds']).status, 0);
    const none = runWithFds(['exec', 'execfds', INNER_PROBE, 'fds']);
    t.equal(none.status, 0, none.stderr);
    t.same(fdList(none.stdout), [0, 1, 2], none.stdout);
    const two = runWithFds(['exec', '--preserve-fds', '2', 'execfds', INNER_PROBE, 'fds']);
    t.equal(two.status, 0, two.stderr);
    t.same(fdList(two.stdout), [0, 1, 2, 3, 4], two.stdout);
    const cwd = runWithFds(['exec', '--cwd', '/proc/self/fd/3', '--preserve-fds', '1', 'execfds', 'pwd']);
    t.equal(cwd.stdout, '', 'a cwd through a preserved fd to a host file runs nothing');
    t.equal(env.run(['delete', '--force', 'execfds']).status, 0);
  });

  t.test('cwd through a leaked fd (/proc/self/fd/N) never starts a process outside the root', async (t) => {
    const outside: number[] = [];
    for (let fd = 3; fd <= 12; fd++) {
      const id = `cwd-${fd}`;
      const b = env.bundle(id, (c) => {
        c.process.cwd = `/proc/self/fd/${fd}`;
        c.process.args = ['sh', '-c', 'pwd; ls'];
      });
      const r = runWithFds(['run', '--bundle', b, id]);
      t.equal(r.status, 1, `fd ${fd}: ${r.stdout}`);
      t.match(r.stderr, new RegExp(`cwd: /proc/self/fd/${fd}: (chdir|is outside the container's root)`), `fd ${fd}`);
      t.equal(r.stdout, '', 'nothing ran');
      if (/is outside the container's root/.test(r.stderr)) outside.push(fd);
      t.same(leftovers(env, id), []);
    }
    // capsa-init holds the state directory open while it sets up: that fd is a real way out,
    // caught by the check after chdir.
    t.ok(outside.length > 0, `a directory fd of the runtime was reachable, and refused (fds ${outside.join(', ')})`);
  });

  t.test('/proc/PID/exe of capsa-init cannot be written, from a container sharing its pid namespace', async (t) => {
    // The attacker has every capability the host allows, CAP_SYS_PTRACE included, so only the
    // sealed in-memory copy stands between it and the executable.
    const out = join(scratch, 'attack');
    mkdirSync(out);
    const all = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SYS_PTRACE', 'CAP_SYS_ADMIN', 'CAP_KILL'];
    const a = env.bundle('attacker', (c) => {
      addProbe(c);
      c.mounts.push({ destination: '/tmp/out', type: 'bind', source: out, options: ['bind'] });
      c.process.capabilities = { bounding: all, effective: all, permitted: all };
      c.process.noNewPrivileges = false;
      c.process.args = ['sh', '-c', `${INNER_PROBE} exe-attack 60 /tmp/out/stop > /tmp/out/log 2>&1`];
    });
    t.equal(env.run(['run', '--detach', '--bundle', a, 'attacker']).status, 0);
    const apid = JSON.parse(env.run(['state', 'attacker']).stdout).pid;
    const join_ = (c: any) => (c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${apid}/ns/pid` } : n)));
    // During create: the victim waits in capsa-init for `start`.
    const v = env.bundle('victim', (c) => {
      join_(c);
      c.process.args = ['true'];
    });
    t.equal(env.run(['create', '--bundle', v, 'victim']).status, 0);
    const vpid = JSON.parse(env.run(['state', 'victim']).stdout).pid;
    t.match(readlinkSync(`/proc/${vpid}/exe`), /^\/memfd:capsa-init \(deleted\)$/, 'capsa-init runs from a memfd');
    // During run: a startContainer hook keeps capsa-init waiting a second.
    const r = env.bundle('victim-run', (c) => {
      join_(c);
      c.hooks = { startContainer: [{ path: '/bin/sleep', args: ['sleep', '1'] }] };
      c.process.args = ['true'];
    });
    t.equal(env.run(['run', '--bundle', r, 'victim-run']).status, 0);
    // During exec: each exec'd capsa-init lives a few milliseconds in the attacker's own
    // container (non-dumpable, which CAP_SYS_PTRACE gets past).
    const before = readFileSync(join(out, 'log'), 'utf8').split('\n').length;
    for (let i = 0; i < 15; i++) ((r) => t.equal(r.status, 0, r.stderr))(env.run(['exec', 'attacker', 'true']));
    writeFileSync(join(out, 'stop'), '');
    await waitFor(() => readFileSync(join(out, 'log'), 'utf8').includes('done'), 15000);
    const caught = readFileSync(join(out, 'log'), 'utf8').split('\n').length - before - 1;
    t.ok(caught > 0, `the attacker caught exec'd capsa-init processes (${caught} of 15)`);
    const log = readFileSync(join(out, 'log'), 'utf8').trim().split('\n').filter((l) => l.startsWith('pid '));
    t.comment(log.join('\n'));
    t.ok(log.filter((l) => l.includes('capsa-init')).length >= 2, 'the attacker found capsa-init (create, and run)');
    for (const l of log) t.notMatch(l, /write ok/, `not written: ${l}`);
    t.equal(env.run(['delete', '--force', 'victim']).status, 0);
    t.equal(env.run(['delete', '--force', 'attacker']).status, 0);
  });

  t.test('the capsa process itself never enters a container namespace', async (t) => {
    const b = env.bundle('nsfg', (c) => (c.process.args = ['sleep', '3']));
    const p = spawn(CAPSA, ['--root', env.root, 'run', '--bundle', b, 'nsfg'], { stdio: 'ignore' });
    await waitFor(() => env.run(['state', 'nsfg']).stdout.includes('"running"'), 10000);
    // bin/capsa execs node: the launcher's pid is the node process's.
    for (const ns of ['mnt', 'pid', 'net', 'ipc', 'uts', 'user', 'cgroup'])
      t.equal(readlinkSync(`/proc/${p.pid}/ns/${ns}`), readlinkSync(`/proc/self/ns/${ns}`), ns);
    await new Promise((res) => p.once('exit', res));
  });

  t.test('NODE_OPTIONS, NODE_PATH and friends cannot load code into capsa', async (t) => {
    const marker = join(scratch, 'pwned');
    const evil = join(scratch, 'evil.js');
    writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');`);
    mkdirSync(join(scratch, 'mods', 'commander'), { recursive: true });
    writeFileSync(join(scratch, 'mods', 'commander', 'index.js'), `require(${JSON.stringify(evil)});`);
    const r = spawnSync(CAPSA, ['--root', env.root, 'list'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `--require ${evil}`, NODE_PATH: join(scratch, 'mods'), NODE_REPL_EXTERNAL_MODULE: evil },
    });
    t.equal(r.status, 0, r.stderr);
    t.notOk(existsSync(marker), 'the injected module never ran');
  });
}
