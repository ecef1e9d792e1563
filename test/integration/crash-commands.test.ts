// capsa killed with SIGKILL before each system call of `start`, `kill`, `exec` and `delete`
// that changes the machine (test/helpers/crash.ts): the container is left in a state that
// `state` reports truly, and `delete --force` then removes everything.
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { straceReason, sweep } from '../helpers/crash';
import { adoptOrphans, reapZombies } from '../helpers/machine';
import { sharedRootfs } from '../helpers/rootfs';

const skip = skipReason() ?? straceReason();
if (skip) t.plan(0, skip);
else {
  t.setTimeout(600_000);
  const env = new Env('crash-cmds');
  adoptOrphans();
  t.teardown(() => {
    env.cleanup();
    reapZombies();
  });
  const rootfs = sharedRootfs();
  const state = (id: string) => JSON.parse(env.run(['state', id]).stdout);
  const runsInit = (pid: number) => readlinkSync(`/proc/${pid}/exe`) === '/memfd:capsa-init (deleted)';

  t.test('start', async (t) => {
    const b = env.bundle('cs', (c) => (c.process.args = ['sleep', '60']));
    await sweep(t, env, {
      id: 'cs',
      args: ['start', 'cs'],
      rootfs,
      setup: () => env.run(['create', '--bundle', b, 'cs']),
      verify: (t, where) => {
        // Whether or not the fifo was opened, and the program started: state tells the truth.
        const s = state('cs');
        if (s.status === 'created') {
          t.ok(runsInit(s.pid), `${where}: created: capsa-init still waits`);
          t.equal(env.run(['start', 'cs']).status, 0, `${where}: a start that never released it can be repeated`);
          t.equal(state('cs').status, 'running');
        } else if (s.status === 'running') {
          t.notOk(runsInit(s.pid), `${where}: running: the user's program runs`);
          t.match(env.run(['start', 'cs']), { status: 1, stderr: /running/ }, `${where}: and is not started twice`);
        } else {
          t.equal(s.status, 'stopped', `${where}: or it died with the start that released it`);
        }
      },
    });
  });

  t.test('kill --all with a signal the container survives (the cgroup is frozen meanwhile)', async (t) => {
    // sh is the init of its pid namespace: TERM without a handler does not reach it.
    const b = env.bundle('ck', (c) => (c.process.args = ['sh', '-c', 'sleep 60 & sleep 60 & wait; sleep 60']));
    await sweep(t, env, {
      id: 'ck',
      args: ['kill', '--all', 'ck', 'TERM'],
      rootfs,
      setup: () => env.run(['run', '-d', '--bundle', b, 'ck']),
      verify: (t, where) => {
        const s = state('ck');
        if (s.status === 'paused') {
          t.ok(existsSync(join(env.root, 'ck', 'kill.thaw')), `${where}: left frozen, with the mark that says so`);
          t.equal(env.run(['kill', 'ck', 'CONT']).status, 0);
          t.equal(state('ck').status, 'running', `${where}: the next command that takes the lock thaws it`);
        } else {
          t.equal(s.status, 'running', `${where}: running, as before`);
        }
      },
    });
  });

  t.test('kill -9 of a paused container', async (t) => {
    const b = env.bundle('cp', (c) => (c.process.args = ['sleep', '60']));
    await sweep(t, env, {
      id: 'cp',
      args: ['kill', 'cp', 'KILL'],
      rootfs,
      setup: () => {
        env.run(['run', '-d', '--bundle', b, 'cp']);
        env.run(['pause', 'cp']);
      },
      verify: (t, where) => {
        const s = state('cp');
        if (s.status === 'paused' && existsSync(join(env.root, 'cp', 'kill.thaw'))) {
          env.run(['kill', '--all', 'cp', 'KILL']);
          t.not(state('cp').status, 'paused', `${where}: the next command that takes the lock thaws it`);
        } else {
          t.match(s.status, /paused|stopped/, `${where}: paused as before, or killed`);
        }
      },
    });
  });

  t.test('exec --detach', async (t) => {
    const b = env.bundle('ce', (c) => (c.process.args = ['sleep', '60']));
    await sweep(t, env, {
      id: 'ce',
      args: ['exec', '--detach', 'ce', 'sleep', '50'],
      rootfs,
      setup: () => env.run(['run', '-d', '--bundle', b, 'ce']),
      verify: (t, where) => {
        // The container is untouched whatever became of the exec.
        t.equal(state('ce').status, 'running', `${where}: the container runs on`);
      },
    });
  });

  t.test('delete --force of a running container', async (t) => {
    const b = env.bundle('cd', (c) => (c.process.args = ['sleep', '60']));
    await sweep(t, env, {
      id: 'cd',
      args: ['delete', '--force', 'cd'],
      rootfs,
      setup: () => env.run(['run', '-d', '--bundle', b, 'cd']),
    });
  });
}
