// What is on disk cannot always be trusted: state.json empty, truncated, garbled or from a
// future capsa; a state directory a killed create or delete left half made; a recorded pid
// that now belongs to another process. And frozen containers never make kill or delete hang.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { adoptOrphans, leftovers, liveChildren, reapZombies, removeCgroupsByHand, waitFor } from '../helpers/machine';
import { native } from '../../lib/native';

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('crash-state');
  adoptOrphans();
  t.teardown(() => {
    env.cleanup();
    reapZombies();
  });

  /** A running container with a few processes; returns its init's pid. */
  function running(id: string): number {
    const b = env.bundle(id, (c) => (c.process.args = ['sh', '-c', 'sleep 60 & sleep 60 & wait']));
    const r = env.run(['run', '-d', '--bundle', b, id]);
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(env.run(['state', id]).stdout).pid;
  }

  const corruptions: [string, (s: string) => string, RegExp][] = [
    ['empty', () => '', /state\.json: is empty/],
    ['truncated', (s) => s.slice(0, s.length / 2), /state\.json: is not valid JSON \(truncated or corrupt/],
    ['garbled', (s) => s.replace(/[{":]/g, '\u0000'), /state\.json: is not valid JSON/],
    ['from a future capsa', (s) => JSON.stringify({ ...JSON.parse(s), version: 2, layout: 'new' }), /state\.json: was written by a newer capsa \(state version 2; this capsa reads version 1\)/],
    ['of another container', (s) => JSON.stringify({ ...JSON.parse(s), id: 'other' }), /state\.json: belongs to container "other"/],
    ['without its cgroup', (s) => JSON.stringify({ ...JSON.parse(s), cgroup: null }), /state\.json: lacks a valid cgroup/],
  ];
  for (const [what, corrupt, why] of corruptions) {
    t.test(`state.json ${what}: state, kill and delete say so; delete --force removes everything`, async (t) => {
      const id = `bad-${what.replace(/\W+/g, '-')}`;
      const pid = running(id);
      const file = join(env.root, id, 'state.json');
      writeFileSync(file, corrupt(readFileSync(file, 'utf8')));
      for (const args of [['state', id], ['kill', id, 'KILL'], ['kill', '--all', id, 'KILL'], ['delete', id], ['pause', id]]) {
        const r = env.run(args);
        t.equal(r.status, 1, `${args[0]} fails`);
        t.match(r.stderr, why, `${args.join(' ')}: says why`);
        t.match(r.stderr, new RegExp(`delete --force ${id}\` removes the container`), 'and what to do');
      }
      t.ok(alive(pid), 'nothing was signalled');
      const ls = env.run(['list', '--format', 'json']);
      t.equal(ls.status, 0, 'list still works');
      t.same(JSON.parse(ls.stdout), [], 'and lists only what it can read');
      t.match(ls.stderr, new RegExp(`warning: ${id}: .*state\\.json`), 'naming the unreadable one on stderr');
      const del = env.run(['delete', '--force', id]);
      t.equal(del.status, 0, del.stderr);
      t.match(del.stderr, /removed what intent\.json records/);
      reapZombies();
      t.notOk(alive(pid), 'the container was killed through its cgroup');
      t.same(leftovers(env, id, pid), []);
    });
  }

  t.test('state.json and intent.json both unreadable: delete --force removes the directory and says what it could not do', async (t) => {
    const id = 'bad-both';
    const pid = running(id);
    writeFileSync(join(env.root, id, 'state.json'), '{');
    writeFileSync(join(env.root, id, 'intent.json'), '');
    const del = env.run(['delete', '--force', id]);
    t.equal(del.status, 0, del.stderr);
    t.match(del.stderr, /intent\.json is missing or unreadable: the container's processes and cgroups, if any, are unknown and were left alone/);
    t.notOk(existsSync(join(env.root, id)));
    t.ok(alive(pid), 'left alone, as it said');
    // Cleaning up by hand, as its user would have to.
    await removeCgroupsByHand(env, id);
    t.same(leftovers(env, id), []);
  });

  t.test('a state directory a killed create or delete left: state and list say so, delete (even without --force) removes it', async (t) => {
    for (const files of [[], ['intent.json']]) {
      const id = `half-${files.length}`;
      const dir = join(env.root, id);
      mkdirSync(dir, { recursive: true });
      if (files.length) writeFileSync(join(dir, 'intent.json'), JSON.stringify({ cgroup: `${env.cgroupParent}/${id}`, hostMounts: false, rootfs: '/nonexistent' }));
      const st = env.run(['state', id]);
      t.equal(st.status, 1);
      t.match(st.stderr, new RegExp(`state\\.json: missing: a create or delete of the container was interrupted; \`delete --force ${id}\` removes what is left`));
      const ls = env.run(['list']);
      t.equal(ls.status, 0);
      t.match(ls.stderr, new RegExp(`warning: ${id}: .*missing`));
      t.equal(env.run(['kill', id, '9']).status, 1);
      t.equal(env.run(['delete', id]).status, 0, 'nothing runs: a plain delete removes it');
      t.notOk(existsSync(dir));
    }
  });

  t.test('a recorded pid reused by another process: state says stopped, kill and delete signal nobody', async (t) => {
    const id = 'reuse';
    const b = env.bundle(id, (c) => (c.process.args = ['sleep', '60']));
    t.equal(env.run(['run', '-d', '--bundle', b, id]).status, 0);
    const pid = JSON.parse(env.run(['state', id]).stdout).pid;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => liveChildren().every((p) => p.pid !== pid));
    reapZombies();
    t.equal(JSON.parse(env.run(['state', id]).stdout).status, 'stopped');
    // Real pid reuse: the kernel hands out ns_last_pid + 1 next, unless another fork wins.
    // (Each miss is awaited to its exit: node reaps its own children, reapZombies must not.)
    const sleeper = async () => {
      const p = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
      const exited = new Promise((r) => p.once('exit', r));
      await new Promise((r) => p.once('spawn', r));
      return { pid: p.pid, stop: async () => (p.kill('SIGKILL'), await exited) };
    };
    let other = { pid: 0 as number | undefined, stop: async () => undefined as unknown };
    for (let i = 0; i < 200 && other.pid !== pid; i++) {
      await other.stop();
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
      other = await sleeper();
    }
    t.teardown(other.stop);
    if (!t.equal(other.pid, pid, `pid ${pid} now belongs to an unrelated sleep`)) return;
    const st = JSON.parse(env.run(['state', id]).stdout);
    t.match(st, { status: 'stopped', pid: 0 }, 'state: stopped (the start time differs)');
    const k = env.run(['kill', id, 'KILL']);
    t.match(k, { status: 1, stderr: /container not running/ }, 'kill refuses');
    t.equal(env.run(['kill', '--all', id, 'KILL']).status, 0, 'kill --all signals what is in the cgroup: nothing');
    t.equal(env.run(['delete', id]).status, 0);
    await new Promise((r) => setTimeout(r, 200));
    t.ok(alive(pid), 'the unrelated process was never signalled');
    t.same(leftovers(env, id), []);
  });

  for (const [what, args] of [['kill -9', ['kill', 'ID', 'KILL']], ['kill --all -9', ['kill', '--all', 'ID', 'KILL']], ['delete --force', ['delete', '--force', 'ID']]] as const) {
    t.test(`${what} of a paused container does not hang`, async (t) => {
      const id = `frozen-${args.length}-${args[1].replace(/\W/g, '')}`;
      const pid = running(id);
      t.equal(env.run(['pause', id]).status, 0);
      t.equal(JSON.parse(env.run(['state', id]).stdout).status, 'paused');
      const start = Date.now();
      const r = env.run(args.map((a) => (a === 'ID' ? id : a)), { timeout: 10000 });
      t.equal(r.status, 0, r.stderr);
      t.ok(Date.now() - start < 10000, `returned in ${Date.now() - start} ms`);
      await waitFor(() => !alive(pid), 5000);
      env.run(['delete', '--force', id]);
      reapZombies();
      t.same(leftovers(env, id, pid), []);
    });
  }

  t.test('no container process holds the lock (it is close-on-exec everywhere)', async (t) => {
    const id = 'nolock';
    running(id);
    const dir = join(env.root, id);
    const fd = openSync(dir, 'r');
    t.ok(native().flock(fd, true, false), 'the lock is free while the container runs');
    closeSync(fd);
    t.equal(env.run(['delete', '--force', id]).status, 0);
    reapZombies();
  });
}
