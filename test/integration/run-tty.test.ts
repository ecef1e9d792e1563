// A foreground `run` as subreaper and signal proxy, and containers with a terminal: over a
// console socket (create, run -d), or held by capsa itself (foreground run).
import { spawnSync } from 'node:child_process';
import { closeSync, readFileSync, readdirSync } from 'node:fs';
import t from 'tap';
import { addon, ConsoleSocket, PtyReader } from '../helpers/console-socket';
import { Env, skipReason } from '../helpers/capsa';
import { leftovers, waitFor } from '../helpers/machine';

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('runtty');
  t.teardown(() => env.cleanup());
  const state = (id: string) => JSON.parse(env.run(['state', id]).stdout);

  t.test('foreground run forwards every signal it gets to the container\'s init', async (t) => {
    const signals = ['HUP', 'INT', 'QUIT', 'USR1', 'USR2', 'ALRM', 'CONT', 'PWR', 'TERM'];
    const traps = signals.map((s) => `trap "echo got ${s}; echo ${s} >> /tmp/got${s === 'TERM' ? '; exit 42' : ''}" ${s}`).join('; ');
    const b = env.bundle('sig', (c) => (c.process.args = ['sh', '-c', `${traps}; touch /tmp/got; while :; do sleep 0.05; done`]));
    const { child, done } = env.start(['run', '--bundle', b, 'sig']);
    await waitFor(() => env.run(['exec', 'sig', 'test', '-e', '/tmp/got']).status === 0, 15000);
    for (const s of signals.slice(0, -1)) {
      child.kill(`SIG${s}` as NodeJS.Signals);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The shell runs pending traps in signal order: TERM, which exits, goes once the rest ran.
    await waitFor(() => env.run(['exec', 'sig', 'sh', '-c', 'test $(wc -l < /tmp/got) = 8']).status === 0, 15000);
    child.kill('SIGTERM');
    const r = await done;
    t.equal(r.status, 42, 'capsa exits with the container\'s status');
    const got = r.stdout.trim().split('\n');
    t.same(got.slice(0, -1).sort(), signals.slice(0, -1).map((s) => `got ${s}`).sort(), 'each signal reached the init');
    t.equal(got.at(-1), 'got TERM');
    t.same(leftovers(env, 'sig'), []);
  });

  t.test('exit status: the code, or 128+N when the init is killed by signal N', async (t) => {
    const b = env.bundle('killed', (c) => (c.process.args = ['sleep', '100']));
    const { done } = env.start(['run', '--bundle', b, 'killed']);
    await waitFor(() => env.run(['state', 'killed']).status === 0 && state('killed').status === 'running', 15000);
    t.equal(env.run(['kill', 'killed', 'KILL']).status, 0);
    t.equal((await done).status, 137);
    const b2 = env.bundle('code', (c) => (c.process.args = ['sh', '-c', 'exit 9']));
    t.equal(env.run(['run', '--bundle', b2, 'code']).status, 9);
    t.same([...leftovers(env, 'killed'), ...leftovers(env, 'code')], []);
  });

  t.test('foreground run reaps the orphans that come to it as subreaper', async (t) => {
    // Without a pid namespace the init's orphans come to capsa, not to an init of their own.
    const b = env.bundle('orphans', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
      c.process.args = ['sh', '-c', '(sleep 0.2 &); (sleep 0.2 &); sleep 2'];
    });
    const { child, done } = env.start(['run', '--bundle', b, 'orphans']);
    await new Promise((r) => setTimeout(r, 1200));
    const zombies = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(ppid) === child.pid && state === 'Z';
      } catch {
        return false;
      }
    });
    t.same(zombies, [], 'no zombie children left under capsa');
    t.equal((await done).status, 0);
  });

  t.test('create with a terminal and a console socket: the pty master goes to the socket', async (t) => {
    const sock = new ConsoleSocket();
    t.teardown(() => sock.close());
    const b = env.bundle('tty1', (c) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 25, width: 81 };
      c.process.args = ['sh'];
    });
    const r = env.run(['create', '--bundle', b, '--console-socket', sock.path, 'tty1']);
    t.equal(r.status, 0, r.stderr);
    const { fd, name } = sock.receive();
    t.equal(name, '/dev/pts/ptmx');
    t.equal(env.run(['start', 'tty1']).status, 0);
    const pty = new PtyReader(fd);
    pty.write('tty; stty size; ls -l /dev/console; exit\n');
    const out = await pty.waitClosed();
    closeSync(fd);
    t.match(out, /\r\n\/dev\/pts\/0\r\n25 81\r\n/, 'a shell answers tty with /dev/pts/0, at the configured size');
    t.match(out, /\r\ncrw[-rwx]+\s+\d+\s+\S+\s+\S+\s+136,\s+0 .*\/dev\/console\r\n/, '/dev/console is the pty');
    await waitFor(() => state('tty1').status === 'stopped');
    t.equal(env.run(['delete', 'tty1']).status, 0);
  });

  t.test('run -d with a terminal needs a console socket; a socket needs a terminal', async (t) => {
    const b = env.bundle('tty2', (c) => (c.process.terminal = true));
    const r = env.run(['run', '-d', '--bundle', b, 'tty2']);
    t.equal(r.status, 1);
    t.match(r.stderr, /run tty2: console: cannot allocate tty if capsa will detach without setting console socket/);
    t.same(leftovers(env, 'tty2'), []);
    const sock = new ConsoleSocket();
    t.teardown(() => sock.close());
    const b2 = env.bundle('tty3');
    const r2 = env.run(['create', '--bundle', b2, '--console-socket', sock.path, 'tty3']);
    t.equal(r2.status, 1);
    t.match(r2.stderr, /cannot use console socket if capsa will not detach or allocate tty/);
    t.same(leftovers(env, 'tty3'), []);
  });

  t.test('foreground run with a terminal: capsa holds the console, raw mode restored at the end', async (t) => {
    const host = addon.openpty();
    addon.setWinsize(host.master, 30, 100);
    const termios = () => spawnSync('stty', ['-g'], { stdio: [host.slave, 'pipe', 'ignore'] }).stdout.toString();
    const before = termios();
    const b = env.bundle('tty4', (c) => {
      c.process.terminal = true;
      c.process.args = ['sh'];
    });
    const { done } = env.start(['run', '--bundle', b, 'tty4'], { stdio: [host.slave, host.slave, host.slave] });
    const pty = new PtyReader(host.master);
    try {
      pty.write('tty; stty size; exit 5\n');
      const r = await done;
      t.equal(r.status, 5);
      await pty.waitFor(/\r\n30 100\r\n/);
      t.match(pty.text, /\r\n\/dev\/pts\/0\r\n30 100\r\n/, 'the container\'s pty, sized as the host terminal');
      t.equal(termios(), before, 'the host terminal is restored');
    } finally {
      closeSync(host.slave);
      closeSync(host.master);
    }
    t.same(leftovers(env, 'tty4'), []);
  });
}
