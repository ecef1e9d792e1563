// pause and resume through the real CLI: state follows the freezer, a paused container makes
// no progress, and kill, kill --all and delete --force of a paused container never hang.
import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { leftovers, waitFor } from '../helpers/machine';

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('cgpause');
  t.teardown(() => env.cleanup());

  /** A container counting up in /dev/shm/n every 10 ms; returns its init pid. */
  const counter = (id: string): number => {
    const b = env.bundle(id, (c) => {
      c.process.args = ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /dev/shm/n; usleep 10000; done'];
    });
    const r = env.run(['run', '-d', '--bundle', b, id]);
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(env.run(['state', id]).stdout).pid;
  };
  const count = (pid: number) => Number(readFileSync(`/proc/${pid}/root/dev/shm/n`, 'utf8').trim() || 0);
  const status = (id: string) => JSON.parse(env.run(['state', id]).stdout).status;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  t.test('pause → paused, no progress; resume → running, progress again', async (t) => {
    const pid = counter('p1');
    await waitFor(() => existsSync(`/proc/${pid}/root/dev/shm/n`) && count(pid) > 2);
    const p = env.run(['pause', 'p1']);
    t.equal(p.status, 0, p.stderr);
    t.equal(status('p1'), 'paused');
    const frozenAt = count(pid);
    await sleep(300);
    t.equal(count(pid), frozenAt, 'a paused container makes no progress');
    t.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /State:\s+[SD]/, 'its process sleeps in the freezer');
    const again = env.run(['pause', 'p1']);
    t.equal(again.status, 1, 'pausing a paused container fails (runc)');
    t.match(again.stderr, /pause p1: .*container not running/);
    t.equal(env.run(['resume', 'p1']).status, 0);
    t.equal(status('p1'), 'running');
    await waitFor(() => count(pid) > frozenAt + 5, 5000);
    t.pass('it counts again after resume');
    const r2 = env.run(['resume', 'p1']);
    t.equal(r2.status, 1);
    t.match(r2.stderr, /resume p1: .*container not paused/);
    t.equal(env.run(['delete', '--force', 'p1']).status, 0);
    t.same(leftovers(env, 'p1', pid), []);
  });

  t.test('pause and resume of a created container; start after resume', async (t) => {
    const b = env.bundle('p2', (c) => (c.process.args = ['sleep', '60']));
    t.equal(env.run(['create', '--bundle', b, 'p2']).status, 0);
    t.equal(env.run(['pause', 'p2']).status, 0, 'runc pauses created containers too');
    t.equal(status('p2'), 'paused');
    t.equal(env.run(['resume', 'p2']).status, 0);
    t.equal(status('p2'), 'created');
    t.equal(env.run(['start', 'p2']).status, 0);
    t.equal(status('p2'), 'running');
    t.equal(env.run(['delete', '--force', 'p2']).status, 0);
  });

  t.test('stopped containers cannot be paused or resumed', async (t) => {
    const b = env.bundle('p3');
    t.equal(env.run(['run', '--bundle', b, '-d', 'p3']).status, 0);
    await waitFor(() => status('p3') === 'stopped');
    const p = env.run(['pause', 'p3']);
    t.equal(p.status, 1);
    t.match(p.stderr, /container not running/);
    const r = env.run(['resume', 'p3']);
    t.equal(r.status, 1);
    t.match(r.stderr, /container not paused/);
    t.equal(env.run(['pause', 'nosuch']).status, 1);
    t.equal(env.run(['delete', 'p3']).status, 0);
  });

  t.test('kill -9 of a paused container: it dies, no hang', async (t) => {
    const pid = counter('p4');
    t.equal(env.run(['pause', 'p4']).status, 0);
    const t0 = Date.now();
    t.equal(env.run(['kill', 'p4', 'KILL']).status, 0);
    await waitFor(() => status('p4') === 'stopped', 5000);
    t.ok(Date.now() - t0 < 5000, `stopped ${Date.now() - t0} ms after kill`);
    t.equal(env.run(['delete', 'p4']).status, 0);
    t.same(leftovers(env, 'p4', pid), []);
  });

  t.test('kill of a paused container with SIGTERM leaves it paused', async (t) => {
    const b = env.bundle('p5', (c) => (c.process.args = ['sh', '-c', 'trap "exit 7" TERM; while true; do usleep 10000; done']));
    t.equal(env.run(['run', '-d', '--bundle', b, 'p5']).status, 0);
    await sleep(100);
    t.equal(env.run(['pause', 'p5']).status, 0);
    t.equal(env.run(['kill', 'p5', 'TERM']).status, 0);
    await sleep(200);
    t.equal(status('p5'), 'paused', 'the signal waits in the freezer');
    t.equal(env.run(['resume', 'p5']).status, 0);
    await waitFor(() => status('p5') === 'stopped');
    t.pass('the pending TERM is handled after resume');
    t.equal(env.run(['delete', 'p5']).status, 0);
  });

  t.test('kill --all 9 and delete --force of a paused container', async (t) => {
    const b = env.bundle('p6', (c) => (c.process.args = ['sh', '-c', 'sleep 60 & sleep 60 & wait']));
    t.equal(env.run(['run', '-d', '--bundle', b, 'p6']).status, 0);
    const pid = JSON.parse(env.run(['state', 'p6']).stdout).pid;
    await waitFor(() => JSON.parse(env.run(['ps', '--format', 'json', 'p6']).stdout).length === 3);
    t.equal(env.run(['pause', 'p6']).status, 0);
    t.equal(env.run(['kill', '--all', 'p6', '9']).status, 0);
    await waitFor(() => JSON.parse(env.run(['ps', '--format', 'json', 'p6']).stdout).length === 0);
    t.equal(status('p6'), 'stopped');
    t.equal(env.run(['delete', 'p6']).status, 0);
    t.same(leftovers(env, 'p6', pid), []);

    const pid7 = counter('p7');
    t.equal(env.run(['pause', 'p7']).status, 0);
    const t0 = Date.now();
    const d = env.run(['delete', '--force', 'p7']);
    t.equal(d.status, 0, d.stderr);
    t.ok(Date.now() - t0 < 3000, `delete --force of a paused container took ${Date.now() - t0} ms`);
    t.same(leftovers(env, 'p7', pid7), []);
  });

  t.test('delete without --force of a paused container is refused', async (t) => {
    counter('p8');
    t.equal(env.run(['pause', 'p8']).status, 0);
    const d = env.run(['delete', 'p8']);
    t.equal(d.status, 1);
    t.match(d.stderr, /not stopped: paused/);
    t.equal(env.run(['delete', '--force', 'p8']).status, 0);
  });
}
