// capsa-init dies with `capsa create` (PDEATHSIG) until it has read COMMIT and cleared that;
// create must not exit before, or a slow init is killed and the container is found stopped
// at `start` (seen under containerd on a loaded machine). strace makes the init slow there:
// every prctl it makes, the one that clears PDEATHSIG too, is delayed.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CAPSA, Env, skipReason } from '../helpers/capsa';
import { which } from '../helpers/containerd';
import { leftovers, waitFor } from '../helpers/machine';

const skip = skipReason() ?? (which('strace') ? undefined : 'needs strace (scripts/setup.sh installs it)');
if (skip) t.plan(0, skip);
else {
  const env = new Env('commit-race');
  t.teardown(() => env.cleanup());

  t.test('a create whose init is slow to take COMMIT leaves a created container', async (t) => {
    const b = env.bundle('slow', (c) => (c.process.args = ['sh', '-c', 'echo started']));
    const pidFile = join(b, 'pid');
    const errFile = join(b, 'create.err');
    const err = openSync(errFile, 'w');
    const strace = spawn('strace', ['-f', '--seccomp-bpf', '-qq', '-o', '/dev/null', '-e', 'trace=prctl', '-e', 'inject=prctl:delay_enter=150000',
      CAPSA, '--root', env.root, 'create', '--bundle', b, '--pid-file', pidFile, 'slow'], { stdio: ['ignore', 'ignore', err] });
    closeSync(err);
    const exited = new Promise((r) => strace.once('exit', r));
    try {
      // strace stays attached to the init after create exits: wait for create itself (the
      // child running capsa: strace forks a probe first).
      const cmdline = (pid: string) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const capsa = () =>
        readFileSync(`/proc/${strace.pid}/task/${strace.pid}/children`, 'utf8').trim().split(' ').filter(Boolean)
          .find((p) => { try { const a = cmdline(p); return a[0] !== 'strace' && a.includes('create'); } catch { return false; } });
      await waitFor(() => capsa() !== undefined, 10000);
      const create = capsa()!;
      await waitFor(() => !existsSync(`/proc/${create}`), 60000);
      t.equal(readFileSync(errFile, 'utf8'), '', 'create succeeded');
      t.equal(JSON.parse(env.run(['state', 'slow']).stdout).status, 'created', 'the init outlived create');
      t.ok(existsSync(`/proc/${Number(readFileSync(pidFile, 'utf8'))}`));
    } finally {
      // SIGKILL: the kernel detaches its tracees (strace may not exit on SIGTERM while delaying).
      // The init is left unable to make traced calls (seccomp RET_TRACE without a tracer), so
      // it is not started: delete ends it.
      strace.kill('SIGKILL');
      await exited;
    }
    t.equal(env.run(['delete', '--force', 'slow']).status, 0);
    t.same(leftovers(env, 'slow'), []);
  });
}
