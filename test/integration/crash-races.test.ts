// Two commands on one id at once. The windows are opened on purpose: strace stops one
// command right after a chosen system call (an injected SIGSTOP) while the other runs. Two
// creates: mkdir of the state directory picks the winner, the loser touches nothing.
// Everything else serialises on the container's lock, which a dead holder never keeps.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { CAPSA, Env, Result, skipReason } from '../helpers/capsa';
import { STRACE, straceReason } from '../helpers/crash';
import { adoptOrphans, cgroupDirs, leftovers, liveChildren, procs, reapZombies, waitFor } from '../helpers/machine';

const skip = skipReason() ?? straceReason();
if (skip) t.plan(0, skip);
else {
  t.setTimeout(300_000);
  const env = new Env('crash-races');
  adoptOrphans();
  t.teardown(() => {
    env.cleanup();
    reapZombies();
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const state = (id: string) => JSON.parse(env.run(['state', id]).stdout);
  const runsInit = (pid: number) => readlinkSync(`/proc/${pid}/exe`) === '/memfd:capsa-init (deleted)';
  const clean = (t: Test, id: string) => {
    reapZombies();
    t.same(leftovers(env, id), [], 'nothing is left');
    t.same(liveChildren(), [], 'no process is left');
  };

  /**
   * capsa stopped right after the `n`-th call of `syscall` (strace injects SIGSTOP on entry to
   * it; the call completes, then the signal stops capsa with whatever it holds), until
   * release() (SIGCONT: it goes on to its end) or kill().
   */
  async function hold(syscall: string, n: number, args: string[]) {
    const dir = mkdtempSync(join(tmpdir(), 'capsa-held-'));
    const [o, e] = [openSync(join(dir, 'out'), 'w'), openSync(join(dir, 'err'), 'w')];
    const trace = join(dir, 'trace');
    const strace = spawn(STRACE, ['-o', trace, '-e', `trace=${syscall}`, '-e', `inject=${syscall}:signal=SIGSTOP:when=${n}`, CAPSA, '--root', env.root, ...args], {
      stdio: ['ignore', o, e],
    });
    closeSync(o);
    closeSync(e);
    // strace exits as capsa did: its status, or killed by the same signal.
    const exited = new Promise<number | null>((r) => strace.once('exit', (code) => r(code)));
    await waitFor(() => existsSync(trace) && readFileSync(trace, 'utf8').includes('--- stopped by SIGSTOP ---'), 20000);
    const pid = procs().find((p) => p.ppid === strace.pid)!.pid;
    const finish = async (sig: NodeJS.Signals): Promise<Result> => {
      process.kill(pid, sig);
      const status = await exited;
      const r = { status, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
      rmSync(dir, { recursive: true, force: true });
      return r;
    };
    return { pid, release: () => finish('SIGCONT'), kill: () => finish('SIGKILL') };
  }

  t.test('two creates on one id: the one that makes the state directory wins, the other touches nothing', async (t) => {
    const b = env.bundle('cc', (c) => (c.process.args = ['sleep', '60']));
    // A is held after its mkdir of the state directory, before it takes the lock: B finds
    // the directory taken.
    const a = await hold('mkdir', 2, ['create', '--bundle', b, 'cc']);
    t.ok(existsSync(join(env.root, 'cc')), 'A made the state directory');
    const rb = env.run(['create', '--bundle', b, 'cc']);
    t.match(rb, { status: 1, stderr: /container with id exists: cc/ }, 'the loser fails clearly');
    const ra = await a.release();
    t.equal(ra.status, 0, `the winner succeeds: ${ra.stderr}`);
    const s = state('cc');
    t.equal(s.status, 'created');
    t.ok(runsInit(s.pid), "the winner's init waits, untouched");
    t.ok(cgroupDirs(env, 'cc').length > 0, 'in its cgroups');
    t.equal(env.run(['delete', '--force', 'cc']).status, 0);
    clean(t, 'cc');

    // And unscripted: both started at once, a few times.
    for (let i = 0; i < 4; i++) {
      const both = await Promise.all([0, 1].map(() => env.start(['create', '--bundle', b, 'cc']).done));
      t.same(both.map((r) => r.status).sort(), [0, 1], 'exactly one wins');
      t.match(both.find((r) => r.status === 1), { stderr: /container with id exists: cc/ });
      t.equal(state('cc').status, 'created');
      t.equal(env.run(['delete', '--force', 'cc']).status, 0);
      clean(t, 'cc');
    }
  });

  t.test("a create whose cgroup holds another container's processes fails, and harms them not", async (t) => {
    const a = env.bundle('owner', (c) => (c.process.args = ['sleep', '60']));
    t.equal(env.run(['run', '-d', '--bundle', a, 'owner']).status, 0);
    const pid = state('owner').pid;
    const b = env.bundle('intruder', (c) => (c.linux.cgroupsPath = `${env.cgroupParent}/owner`));
    const r = env.run(['create', '--bundle', b, 'intruder']);
    t.match(r, { status: 1, stderr: /container's cgroup is not empty/ });
    t.equal(state('owner').status, 'running', "the other container's process lives");
    t.ok(existsSync(`/proc/${pid}`));
    t.ok(cgroupDirs(env, 'owner').length > 0, 'and its cgroups are there');
    t.notOk(existsSync(join(env.root, 'intruder')));
    t.equal(env.run(['delete', '--force', 'owner']).status, 0);
    clean(t, 'owner');
  });

  t.test('create vs delete', async (t) => {
    const b = env.bundle('cd', (c) => (c.process.args = ['sleep', '60']));
    // Before the lock: delete takes the empty directory away, and create notices.
    const a = await hold('mkdir', 2, ['create', '--bundle', b, 'cd']);
    const d = env.run(['delete', '--force', 'cd']);
    t.equal(d.status, 0, `delete removes the empty directory: ${d.stderr}`);
    t.match(await a.release(), { status: 1, stderr: /container cd was deleted while it was being created/ });
    clean(t, 'cd');

    // In the middle of create, lock held (capsa-init not started yet): delete waits for it,
    // then deletes what it made.
    const a2 = await hold('socketpair', 1, ['create', '--bundle', b, 'cd']);
    const d2 = env.start(['delete', '--force', 'cd']);
    await sleep(1500);
    t.equal(await Promise.race([d2.done.then(() => 'done'), sleep(0).then(() => 'waiting')]), 'waiting', 'delete waits for the lock');
    t.equal((await a2.release()).status, 0, 'create finishes');
    t.equal((await d2.done).status, 0, 'then delete deletes');
    clean(t, 'cd');
  });

  t.test('delete vs delete, kill vs delete', async (t) => {
    const b = env.bundle('dd', (c) => (c.process.args = ['sleep', '60']));
    for (const other of [['delete', '--force', 'dd'], ['kill', 'dd', 'KILL'], ['kill', '--all', 'dd', 'KILL']]) {
      t.equal(env.run(['run', '-d', '--bundle', b, 'dd']).status, 0);
      // The first delete is held with the container destroyed and state.json removed.
      const d1 = await hold('unlink', 1, ['delete', '--force', 'dd']);
      t.same(cgroupDirs(env, 'dd'), [], 'held after its cgroups went');
      t.match(env.run(['state', 'dd']), { status: 1, stderr: /state\.json: missing: the container is being created or deleted right now/ }, 'state, which takes no lock, says so meanwhile');
      const r = env.start(other);
      await sleep(1000);
      t.equal((await d1.release()).status, 0);
      t.match(await r.done, { status: 1, stderr: /does not exist/ }, `${other.join(' ')} waited, then found it gone`);
      clean(t, 'dd');
    }
    // kill holding the lock (just after its signal), delete waiting for it.
    t.equal(env.run(['run', '-d', '--bundle', b, 'dd']).status, 0);
    const k = await hold('pidfd_send_signal', 1, ['kill', 'dd', 'TERM']);
    const d = env.start(['delete', '--force', 'dd']);
    await sleep(1000);
    t.equal((await k.release()).status, 0, 'kill finishes');
    t.equal((await d.done).status, 0, 'then delete');
    clean(t, 'dd');
  });

  t.test('a lock held by a dead process blocks nobody', async (t) => {
    const b = env.bundle('dl', (c) => (c.process.args = ['sleep', '60']));
    // create held in the middle, lock taken ...
    const a = await hold('socketpair', 1, ['create', '--bundle', b, 'dl']);
    const d = env.start(['delete', '--force', 'dl']);
    await sleep(1500);
    t.equal(await Promise.race([d.done.then(() => 'done'), sleep(0).then(() => 'waiting')]), 'waiting', 'delete waits while the holder lives');
    // ... then killed.
    const killed = Date.now();
    t.equal((await a.kill()).status, null, 'the holder is killed');
    const r: Result = await d.done;
    t.equal(r.status, 0, r.stderr);
    t.ok(Date.now() - killed < 5000, `delete went on ${Date.now() - killed} ms after the holder died`);
    clean(t, 'dl');
  });

  t.test('a foreground run does not hold the lock while it waits: kill and delete get it', async (t) => {
    const b = env.bundle('fg', (c) => (c.process.args = ['sleep', '60']));
    const run = env.start(['run', '--bundle', b, 'fg']);
    await waitFor(() => existsSync(join(env.root, 'fg', 'state.json')) && env.run(['state', 'fg']).stdout.includes('"running"'), 20000);
    const k = env.run(['kill', 'fg', 'KILL'], { timeout: 10000 });
    t.equal(k.status, 0, `kill went through: ${k.stderr}`);
    t.equal((await run.done).status, 128 + 9, 'run reports the signal');
    clean(t, 'fg');
  });

  t.test('a foreground exec killed with its container: 128 + 9 and no message, as runc', async (t) => {
    const b = env.bundle('fx', (c) => (c.process.args = ['sleep', '60']));
    t.equal(env.run(['run', '-d', '--bundle', b, 'fx']).status, 0);
    const exec = env.start(['exec', 'fx', 'sh', '-c', 'echo in; sleep 61']);
    await waitFor(() => env.run(['exec', 'fx', 'sh', '-c', 'ps | grep -q "[s]leep 60$"']).status === 0, 20000);
    t.equal(env.run(['kill', 'fx', 'KILL'], { timeout: 10000 }).status, 0);
    const r = await exec.done;
    t.same([r.status, r.signal, r.stdout, r.stderr], [128 + 9, null, 'in\n', ''], "capsa exits with its process's status");
    t.equal(env.run(['delete', 'fx']).status, 0);
    clean(t, 'fx');
  });
}
