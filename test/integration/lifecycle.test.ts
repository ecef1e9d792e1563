// The lifecycle through the real CLI: create, state, start, kill, delete, run, list, and
// what each leaves on the machine.
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { mountsUnder } from '../../lib/state/hostmounts';
import { cgroupDirs, leftovers, processesInCgroup, waitFor } from '../helpers/machine';
import { buildRootfs } from '../helpers/rootfs';

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('lifecycle');
  t.teardown(() => env.cleanup());

  t.test('run: foreground, stdout passes through, exit status comes back', async (t) => {
    const b = env.bundle('run1', (c) => (c.process.args = ['sh', '-c', 'echo hello; echo oops >&2; exit 3']));
    const r = env.run(['run', '--bundle', b, 'run1']);
    t.equal(r.status, 3);
    t.equal(r.stdout, 'hello\n');
    t.equal(r.stderr, 'oops\n');
    t.same(leftovers(env, 'run1'), [], 'run removes the container when it exits');
  });

  t.test('create waits for start; state follows the container', async (t) => {
    const b = env.bundle('c1', (c) => (c.process.args = ['sh', '-c', 'echo started > /dev/shm/x; sleep 60']));
    const pidFile = join(b, 'pid');
    const r = env.run(['create', '--bundle', b, '--pid-file', pidFile, 'c1']);
    t.equal(r.status, 0, r.stderr);
    const st = JSON.parse(env.run(['state', 'c1']).stdout);
    t.match(st, { ociVersion: '1.3.0', id: 'c1', status: 'created', bundle: b });
    t.ok(st.pid > 0);
    t.equal(readFileSync(pidFile, 'utf8'), String(st.pid), 'pid file: plain decimal, no newline');
    t.ok(cgroupDirs(env, 'c1').length > 0, 'the container has its cgroups');
    t.equal(readFileSync(`/proc/${st.pid}/cmdline`, 'utf8'), 'capsa-init\0', 'the user process has not run yet');

    t.equal(env.run(['start', 'c1']).status, 0);
    t.equal(JSON.parse(env.run(['state', 'c1']).stdout).status, 'running');
    const again = env.run(['start', 'c1']);
    t.equal(again.status, 1);
    t.match(again.stderr, /start c1: .*running/);

    const del = env.run(['delete', 'c1']);
    t.equal(del.status, 1, 'a running container is not deleted without --force');
    t.match(del.stderr, /not stopped: running/);

    t.equal(env.run(['kill', 'c1', 'KILL']).status, 0);
    await waitFor(() => JSON.parse(env.run(['state', 'c1']).stdout).status === 'stopped');
    const stopped = JSON.parse(env.run(['state', 'c1']).stdout);
    t.equal(stopped.pid, 0);
    const k = env.run(['kill', 'c1', '15']);
    t.equal(k.status, 1);
    t.match(k.stderr, /container not running/);
    t.equal(env.run(['delete', 'c1']).status, 0);
    const gone = env.run(['state', 'c1']);
    t.equal(gone.status, 1);
    t.match(gone.stderr, /does not exist/);
    t.same(leftovers(env, 'c1', st.pid), []);
  });

  t.test('delete --force of a running container, and a second delete --force', async (t) => {
    const b = env.bundle('c2', (c) => (c.process.args = ['sleep', '60']));
    t.equal(env.run(['run', '-d', '--bundle', b, 'c2']).status, 0);
    const pid = JSON.parse(env.run(['state', 'c2']).stdout).pid;
    t.equal(env.run(['delete', '--force', 'c2']).status, 0);
    t.same(leftovers(env, 'c2', pid), []);
    const second = env.run(['delete', '--force', 'c2']);
    t.equal(second.status, 1);
    t.match(second.stderr, /does not exist/, 'containerd maps this to not-found');
  });

  t.test('delete of a created container kills its init (as runc; containerd relies on it)', async (t) => {
    const b = env.bundle('c3');
    t.equal(env.run(['create', '--bundle', b, 'c3']).status, 0);
    const pid = JSON.parse(env.run(['state', 'c3']).stdout).pid;
    t.equal(env.run(['delete', 'c3']).status, 0);
    t.same(leftovers(env, 'c3', pid), []);
  });

  t.test('kill: by name, by number, --all; list', async (t) => {
    const b = env.bundle('c4', (c) => (c.process.args = ['sh', '-c', 'trap "exit 42" TERM; sleep 60 & wait']));
    t.equal(env.run(['run', '-d', '--bundle', b, 'c4']).status, 0);
    t.match(env.run(['list']).stdout, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\nc4\s+\d+\s+running\s+/);
    t.equal(env.run(['list', '-q']).stdout, 'c4\n');
    t.match(JSON.parse(env.run(['list', '--format', 'json']).stdout), [{ id: 'c4', status: 'running' }]);
    t.equal(env.run(['kill', 'c4', 'SIGTERM']).status, 0);
    await waitFor(() => JSON.parse(env.run(['state', 'c4']).stdout).status === 'stopped');
    t.equal(env.run(['kill', '--all', 'c4', '9']).status, 0, 'kill --all after the init exited still reaches the rest');
    t.equal(env.run(['delete', 'c4']).status, 0);
  });

  t.test('kill 9 of a container without its own PID namespace reaches all its processes (as runc)', async (t) => {
    const b = env.bundle('c5', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
      c.process.args = ['sh', '-c', 'sleep 60 & sleep 61 & wait'];
    });
    t.equal(env.run(['run', '-d', '--bundle', b, 'c5']).status, 0);
    const cg = join(env.cgroupParent, 'c5');
    await waitFor(() => processesInCgroup(cg).length === 3);
    t.equal(env.run(['kill', 'c5', '9']).status, 0);
    await waitFor(() => processesInCgroup(cg).length === 0);
    t.pass('the init and both of its children are gone');
    t.equal(env.run(['delete', 'c5']).status, 0);
  });

  t.test('--log-format json writes the cause as the last error line', async (t) => {
    const log = join(env.bundle('x'), 'log.json');
    const r = env.run(['--log', log, '--log-format', 'json', 'state', 'nosuch']);
    t.equal(r.status, 1);
    const last = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    t.equal(last.level, 'error');
    t.match(last.msg, /state nosuch: .*does not exist/);
    t.ok(!Number.isNaN(Date.parse(last.time)));
  });


  t.test('without a mount namespace the container inherits the host\'s; delete removes its mounts', async (t) => {
    const rootfs = mkdtempSync(join(tmpdir(), 'capsa-rootfs-'));
    rmSync(rootfs, { recursive: true });
    buildRootfs(rootfs);
    t.teardown(() => rmSync(rootfs, { recursive: true, force: true }));
    const b = env.bundle('nomnt', (c) => {
      c.root = { path: rootfs };
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount');
      c.process.args = ['sleep', '60'];
    });
    t.equal(env.run(['run', '-d', '--bundle', b, 'nomnt']).status, 0);
    const pid = JSON.parse(env.run(['state', 'nomnt']).stdout).pid;
    t.equal(readlinkSync(`/proc/${pid}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'), 'same mount namespace as the host');
    t.ok(mountsUnder(rootfs).length > 3, 'its mounts are in the host namespace, under the rootfs');
    t.equal(env.run(['delete', '--force', 'nomnt']).status, 0);
    t.same(mountsUnder(rootfs), [], 'delete detached them all');
    t.same(leftovers(env, 'nomnt', pid), []);
  });
}
