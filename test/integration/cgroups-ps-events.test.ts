// ps and events through the real CLI: the container's pids (json, as containerd reads them)
// and ps(1) rows filtered to them; a stats document in runc's shape; an OOM event when the
// container's memory limit is hit; the stream ending when the container stops.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CAPSA, Env, skipReason } from '../helpers/capsa';
import { waitFor } from '../helpers/machine';

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('cgpsev');
  t.teardown(() => env.cleanup());

  /** `capsa events` in the background, its stdout in a file (read with lines()). */
  const background = (args: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'capsa-events-'));
    const fd = openSync(join(dir, 'out'), 'w');
    const child = spawn(CAPSA, ['--root', env.root, ...args], { stdio: ['ignore', fd, 'inherit'] });
    closeSync(fd);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const lines = () =>
      readFileSync(join(dir, 'out'), 'utf8')
        .split('\n')
        .filter((l) => l.endsWith('}'))
        .map((l) => JSON.parse(l));
    return { child, exited, lines, cleanup: () => (child.kill('SIGKILL'), rmSync(dir, { recursive: true, force: true })) };
  };

  t.test('ps: json pids; table from ps -ef; ps options after the id; bad format', async (t) => {
    const b = env.bundle('ps1', (c) => (c.process.args = ['sh', '-c', 'sleep 61 & sleep 62 & wait']));
    t.equal(env.run(['run', '-d', '--bundle', b, 'ps1']).status, 0);
    const init = JSON.parse(env.run(['state', 'ps1']).stdout).pid;
    await waitFor(() => JSON.parse(env.run(['ps', '-f', 'json', 'ps1']).stdout).length === 3);
    const j = env.run(['ps', '--format', 'json', 'ps1']);
    t.match(j.stdout, /^\[\d+,\d+,\d+\]\n$/, 'a JSON array of numbers, one line');
    const pids: number[] = JSON.parse(j.stdout);
    t.ok(pids.includes(init), 'includes the init');
    for (const p of pids) t.ok(readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(`${env.cgroupParent}/ps1`), `pid ${p} is in the container's cgroup`);

    const table = env.run(['ps', 'ps1']).stdout.trim().split('\n');
    t.match(table[0], /^UID\s+PID\s+PPID/, 'ps -ef header');
    t.equal(table.length, 4, 'header + the three processes, nothing of the host');
    t.same(table.slice(1).map((l) => Number(l.trim().split(/\s+/)[1])).sort(), [...pids].sort());
    t.match(table.slice(1).join('\n'), /sleep 61/);

    const custom = env.run(['ps', 'ps1', '-o', 'pid,comm']).stdout.trim().split('\n');
    t.match(custom[0], /^\s*PID\s+COMMAND$/);
    t.same(custom.slice(1).map((l) => l.trim().split(/\s+/)[1]).sort(), ['sh', 'sleep', 'sleep']);
    const dashed = env.run(['ps', 'ps1', '--', '-o', 'pid,args']).stdout;
    t.match(dashed, /sleep 62/, 'ps options after --');
    const noPid = env.run(['ps', 'ps1', '-o', 'comm']);
    t.equal(noPid.status, 1);
    t.match(noPid.stderr, /couldn't find PID field in ps output/);
    const bad = env.run(['ps', '--format', 'yaml', 'ps1']);
    t.equal(bad.status, 1);
    t.match(bad.stderr, /invalid format option/);

    t.equal(env.run(['kill', 'ps1', 'KILL']).status, 0);
    await waitFor(() => JSON.parse(env.run(['state', 'ps1']).stdout).status === 'stopped');
    t.equal(env.run(['ps', '-f', 'json', 'ps1']).stdout, '[]\n', 'a stopped container has no processes');
    t.equal(env.run(['delete', 'ps1']).status, 0);
    const gone = env.run(['ps', 'ps1']);
    t.equal(gone.status, 1);
    t.match(gone.stderr, /does not exist/);
  });

  t.test("events --stats: one document in runc's shape", async (t) => {
    const b = env.bundle('ev1', (c) => {
      c.process.args = ['sh', '-c', 'sleep 60 & while true; do usleep 1000; done'];
      c.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 40 } };
    });
    t.equal(env.run(['run', '-d', '--bundle', b, 'ev1']).status, 0);
    await waitFor(() => JSON.parse(env.run(['ps', '-f', 'json', 'ev1']).stdout).length >= 2);
    const r = env.run(['events', '--stats', 'ev1']);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout.split('\n').length, 2, 'one line');
    const ev = JSON.parse(r.stdout);
    t.same(Object.keys(ev), ['type', 'id', 'data']);
    t.match(ev, { type: 'stats', id: 'ev1' });
    const d = ev.data;
    t.same(Object.keys(d), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
    t.ok(d.cpu.usage.total > 0, 'cpu usage total (ns)');
    t.type(d.cpu.usage.kernel, 'number');
    t.type(d.cpu.usage.user, 'number');
    t.ok(Array.isArray(d.cpu.usage.percpu));
    t.equal(d.memory.usage.limit, 64 << 20, 'memory limit');
    t.ok(d.memory.usage.usage > 0, 'memory usage');
    t.type(d.memory.usage.failcnt, 'number');
    t.type(d.memory.swap.limit, 'number');
    t.type(d.memory.raw, 'object');
    t.ok(d.pids.current >= 2, 'pids current');
    t.equal(d.pids.limit, 40, 'pids limit');
    t.type(d.blkio, 'object');
    t.same(d.intel_rdt, {});
    t.equal(d.network_interfaces, null);
    t.equal(env.run(['delete', '--force', 'ev1']).status, 0);
    const gone = env.run(['events', '--stats', 'ev1']);
    t.equal(gone.status, 1);
  });

  t.test('events: a stats stream at --interval, ending when the container stops', async (t) => {
    const b = env.bundle('ev2', (c) => (c.process.args = ['sleep', '60']));
    t.equal(env.run(['run', '-d', '--bundle', b, 'ev2']).status, 0);
    const bad = env.run(['events', '--interval', '0s', 'ev2']);
    t.equal(bad.status, 1);
    t.match(bad.stderr, /duration interval must be greater than 0/);
    t.match(env.run(['events', '--interval', 'soon', 'ev2']).stderr, /invalid duration/);
    const ev = background(['events', '--interval', '200ms', 'ev2']);
    t.teardown(ev.cleanup);
    await waitFor(() => ev.lines().length >= 3, 5000);
    for (const l of ev.lines()) t.match(l, { type: 'stats', id: 'ev2', data: { pids: { current: 1 } } });
    t.equal(env.run(['kill', 'ev2', 'KILL']).status, 0);
    const t0 = Date.now();
    t.equal(await ev.exited, 0, 'events exits 0 when the container stops');
    t.ok(Date.now() - t0 < 2000, `it ended ${Date.now() - t0} ms after the kill`);
    const stopped = env.run(['events', 'ev2']);
    t.equal(stopped.status, 1);
    t.match(stopped.stderr, /container with id ev2 is not running/);
    t.equal(env.run(['delete', 'ev2']).status, 0);
  });

  t.test('events: an oom event when the container exceeds its memory limit', async (t) => {
    const limit = 32 << 20;
    const b = env.bundle('oom1', (c) => {
      // Waits for the go-ahead, then buffers 256 MiB in tail: far over the limit.
      c.process.args = ['sh', '-c', 'while [ ! -e /dev/shm/go ]; do usleep 10000; done; cat /dev/zero | tail -c 268435456; sleep 60'];
      c.linux.resources = { memory: { limit, swap: limit } };
    });
    t.equal(env.run(['run', '-d', '--bundle', b, 'oom1']).status, 0);
    const pid = JSON.parse(env.run(['state', 'oom1']).stdout).pid;
    const ev = background(['events', '--interval', '100ms', 'oom1']);
    t.teardown(ev.cleanup);
    // A first stats line: events is running and has counted the OOM kills so far.
    await waitFor(() => ev.lines().length > 0, 5000);
    const t0 = Date.now();
    closeSync(openSync(`/proc/${pid}/root/dev/shm/go`, 'w'));
    await waitFor(() => ev.lines().some((l) => l.type === 'oom'), 10000);
    t.same(ev.lines().find((l) => l.type === 'oom'), { type: 'oom', id: 'oom1' }, "runc's oom event");
    t.comment(`oom event ${Date.now() - t0} ms after the allocation began`);
    t.equal(JSON.parse(env.run(['state', 'oom1']).stdout).status, 'running', 'the shell survives: tail was killed');
    const stats = JSON.parse(env.run(['events', '--stats', 'oom1']).stdout);
    const m = stats.data.memory;
    t.ok(m.usage.max > limit - (2 << 20), `peak usage ${m.usage.max} reached the limit`);
    t.equal(env.run(['delete', '--force', 'oom1']).status, 0);
    t.equal(await ev.exited, 0, 'the stream ends with the container');
  });
}
