// The six hook kinds through the real CLI: when each runs, in which namespaces, what it gets
// on stdin, its args, env and timeout, and what a failing one does to the container.
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { leftovers, waitFor } from '../helpers/machine';

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('hooks');
  t.teardown(() => env.cleanup());

  /** A directory the hooks write into: on the host, and bound at /hout in the container. */
  const outDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'capsa-hooks-'));
    chmodSync(d, 0o777);
    t.teardown(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };
  /** A hook run by the host's sh: saves its stdin as NAME.json, appends "NAME UTS MNT" to order. */
  const hostHook = (dir: string, name: string, extra = '') => ({
    path: '/bin/sh',
    args: ['sh', '-c', `cat > ${dir}/${name}.json; echo ${name} $(readlink /proc/self/ns/uts) $(readlink /proc/self/ns/mnt) >> ${dir}/order; ${extra}`],
  });
  const failing = (dir: string, name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${name} >> ${dir}/order; echo ${name} went wrong >&2; exit 3`] });
  const lines = (dir: string) => (existsSync(join(dir, 'order')) ? readFileSync(join(dir, 'order'), 'utf8').trim().split('\n') : []);
  const names = (dir: string) => lines(dir).map((l) => l.split(' ')[0]);
  const bundle = (id: string, dir: string, hooks: object, args = ['sh', '-c', 'echo user >> /hout/order; sleep 2']) =>
    env.bundle(id, (c) => {
      c.mounts.push({ destination: '/hout', type: 'bind', source: dir, options: ['rbind'] });
      c.process.args = args;
      c.process.env.push('GREETING=hello');
      c.annotations = { 'org.example/key': 'value' };
      c.hooks = hooks;
    });
  const state = (id: string) => JSON.parse(env.run(['state', id]).stdout);

  t.test('all six, in order, each in its namespaces, with the state on stdin', async (t) => {
    const d = outDir();
    const b = bundle('all', d, {
      prestart: [hostHook(d, 'prestart')],
      createRuntime: [hostHook(d, 'createRuntime1'), hostHook(d, 'createRuntime2')],
      // Resolved on the host, run in the container's namespaces before pivot_root: the host's
      // paths are still there.
      createContainer: [hostHook(d, 'createContainer')],
      // Resolved and run inside the container: its sh, its hostname, its root.
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /hout/startContainer.json; echo startContainer $(hostname) $(ls /hout | wc -l) >> /hout/order'] }],
      poststart: [hostHook(d, 'poststart', `cat /proc/$(sed -e 's/.*"pid":\\([0-9]*\\).*/\\1/' ${d}/poststart.json)/comm > ${d}/poststart.comm`)],
      poststop: [hostHook(d, 'poststop')],
    });
    t.equal(env.run(['create', '--bundle', b, 'all']).status, 0);
    const pid = state('all').pid;
    t.same(names(d), ['prestart', 'createRuntime1', 'createRuntime2', 'createContainer'], 'create runs the first four');
    const start = env.run(['start', 'all']);
    t.equal(start.status, 0, start.stderr);
    t.same(names(d).slice(4, 5), ['startContainer']);
    t.ok(names(d).includes('poststart'), 'poststart ran before start returned');
    t.match(readFileSync(join(d, 'poststart.comm'), 'utf8'), /^(sh|sleep)\n$/, 'after the user process replaced capsa-init');
    await waitFor(() => state('all').status === 'stopped');
    t.equal(env.run(['delete', 'all']).status, 0);
    t.same(names(d), ['prestart', 'createRuntime1', 'createRuntime2', 'createContainer', 'startContainer', ...names(d).slice(5, 7), 'poststop']);
    t.same(names(d).slice(5, 7).sort(), ['poststart', 'user'], 'the user process and poststart, in either order');

    const byName = Object.fromEntries(lines(d).map((l) => [l.split(' ')[0], l.split(' ').slice(1)]));
    const host = [readlinkSync('/proc/self/ns/uts'), readlinkSync('/proc/self/ns/mnt')];
    for (const k of ['prestart', 'createRuntime1', 'createRuntime2', 'poststart', 'poststop']) t.same(byName[k], host, `${k} runs in the runtime's namespaces`);
    t.not(byName.createContainer[0], host[0], 'createContainer runs in the container\'s uts namespace');
    t.not(byName.createContainer[1], host[1], 'and its mount namespace');
    t.same(byName.startContainer.slice(0, 1), ['capsa-test'], 'startContainer runs inside the container');

    const doc = (name: string) => JSON.parse(readFileSync(join(d, `${name}.json`), 'utf8'));
    const base = { ociVersion: '1.3.0', id: 'all', bundle: b, annotations: { 'org.example/key': 'value' } };
    for (const k of ['prestart', 'createRuntime1', 'createRuntime2', 'createContainer', 'startContainer']) t.match(doc(k), { ...base, status: 'created', pid }, `${k} gets the state, status created`);
    t.match(doc('poststart'), { ...base, status: 'running', pid });
    t.match(doc('poststop'), { ...base, status: 'stopped' });
    t.same(leftovers(env, 'all', pid), []);
  });

  t.test('path, args and env as given; env absent: the runtime\'s (the process\'s for startContainer)', async (t) => {
    const d = outDir();
    const b = bundle('args', d, {
      createRuntime: [
        { path: '/bin/sh', args: ['sh', '-c', `echo "$0|$1|$FOO|$PROBE" > ${d}/given`, 'zero', 'one'], env: ['FOO=bar'] },
        { path: '/bin/sh', args: ['sh', '-c', `echo "$PROBE" > ${d}/inherited`] },
      ],
      createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `echo "$PROBE" > ${d}/cc-inherited`] }],
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo "$PROBE|$GREETING" > /hout/start-env'] }],
    }, ['true']);
    const r = env.run(['run', '--bundle', b, 'args'], { env: { ...process.env, PROBE: 'from capsa' } });
    t.equal(r.status, 0, r.stderr);
    t.equal(readFileSync(join(d, 'given'), 'utf8'), 'zero|one|bar|\n', 'argv[0] and the rest; only the given env');
    t.equal(readFileSync(join(d, 'inherited'), 'utf8'), 'from capsa\n');
    t.equal(readFileSync(join(d, 'cc-inherited'), 'utf8'), 'from capsa\n');
    t.equal(readFileSync(join(d, 'start-env'), 'utf8'), '|hello\n', 'startContainer: the process\'s env');
  });

  /** Creates (and starts, unless `createFails`) a container whose hook of `kind` fails. */
  const failingCase = (id: string, kind: string, d: string) =>
    bundle(id, d, {
      ...(kind !== 'prestart' ? { prestart: [hostHook(d, 'prestart')] } : {}),
      // startContainer hooks see the container's filesystem: the directory is /hout there.
      [kind]: [failing(kind === 'startContainer' ? '/hout' : d, kind), hostHook(d, `${kind}-after`)],
      poststop: [hostHook(d, 'poststop')],
    });

  for (const kind of ['prestart', 'createRuntime', 'createContainer']) {
    t.test(`a failing ${kind} hook: create fails naming it, nothing is left, poststop runs`, async (t) => {
      const d = outDir();
      const id = `fail-${kind.toLowerCase()}`;
      const r = env.run(['create', '--bundle', failingCase(id, kind, d), id]);
      t.equal(r.status, 1);
      t.match(r.stderr, new RegExp(`create ${id}: ${kind} hook: /bin/sh: exited with status 3: ${kind} went wrong\n$`), 'with what the hook said');
      t.notOk(names(d).includes(`${kind}-after`), 'the next hook of the list does not run');
      t.notOk(names(d).includes('user'), 'the user process never ran');
      t.equal(names(d).at(-1), 'poststop', 'the lifecycle goes on at destroy, then poststop');
      t.match(env.run(['state', id]).stderr, /does not exist/);
      t.same(leftovers(env, id), []);
    });
  }

  t.test('a failing startContainer hook: start fails naming it; the container is destroyed', async (t) => {
    const d = outDir();
    t.equal(env.run(['create', '--bundle', failingCase('fail-start', 'startContainer', d), 'fail-start']).status, 0);
    const pid = state('fail-start').pid;
    const r = env.run(['start', 'fail-start']);
    t.equal(r.status, 1);
    t.match(r.stderr, /start fail-start: start: startContainer hook: \/bin\/sh: exited with status 3: startContainer went wrong\n$/);
    t.notOk(names(d).includes('user'), 'the user process never ran');
    t.equal(names(d).at(-1), 'poststop');
    t.match(env.run(['state', 'fail-start']).stderr, /does not exist/);
    t.same(leftovers(env, 'fail-start', pid), []);
  });

  t.test('a failing poststart hook: start fails (runtime-spec 1.3.0 lifecycle step 9), the container is destroyed', async (t) => {
    const d = outDir();
    t.equal(env.run(['create', '--bundle', failingCase('fail-poststart', 'poststart', d), 'fail-poststart']).status, 0);
    const pid = state('fail-poststart').pid;
    const r = env.run(['start', 'fail-poststart']);
    t.equal(r.status, 1);
    t.match(r.stderr, /start fail-poststart: poststart hook: \/bin\/sh: exited with status 3: poststart went wrong/);
    t.notOk(names(d).includes('poststart-after'));
    t.equal(names(d).at(-1), 'poststop');
    t.match(env.run(['state', 'fail-poststart']).stderr, /does not exist/);
    t.same(leftovers(env, 'fail-poststart', pid), []);
  });

  t.test('a failing poststop hook: a warning, the rest still run, delete succeeds', async (t) => {
    const d = outDir();
    const b = bundle('fail-poststop', d, { poststop: [failing(d, 'poststop1'), hostHook(d, 'poststop2')] }, ['true']);
    const r = env.run(['run', '--bundle', b, 'fail-poststop']);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stderr, /warning: poststop hook: \/bin\/sh: exited with status 3: poststop1 went wrong/);
    t.same(names(d), ['poststop1', 'poststop2']);
    t.same(leftovers(env, 'fail-poststop'), []);
  });

  t.test('timeouts are enforced: the hook is killed and its kind named', async (t) => {
    const d = outDir();
    const started = Date.now();
    const b = bundle('slow-runtime', d, { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'exec sleep 20'], timeout: 1 }] });
    const r = env.run(['create', '--bundle', b, 'slow-runtime']);
    t.equal(r.status, 1);
    t.match(r.stderr, /createRuntime hook: \/bin\/sh: killed after its timeout of 1 s/);
    t.same(leftovers(env, 'slow-runtime'), []);

    const b2 = bundle('slow-start', d, { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exec sleep 20'], timeout: 1 }] });
    t.equal(env.run(['create', '--bundle', b2, 'slow-start']).status, 0);
    const s = env.run(['start', 'slow-start']);
    t.equal(s.status, 1);
    t.match(s.stderr, /startContainer hook: \/bin\/sh: killed after its timeout of 1 s/);
    t.ok(Date.now() - started < 15000, 'neither waited for its sleep');
    t.same(leftovers(env, 'slow-start'), []);
  });
}
