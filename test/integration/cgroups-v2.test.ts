// Real containers on a pure cgroup v2 host (in the v2 VM: see cgroups-v2vm.test.ts): limits
// read back from the container's cgroup and from inside it, the eBPF device filter refusing
// a device from inside, update, pause/resume through cgroup.freeze, kill --all through
// cgroup.kill, an OOM event, and nothing left behind. Kept lean: every command costs
// 1-2 s under the VM's emulation.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CAPSA, Env, skipReason } from '../helpers/capsa';
import { leftovers, waitFor } from '../helpers/machine';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const skip = skipReason();
if (skip) t.plan(0, skip);
else if (statfsSync('/sys/fs/cgroup').type !== CGROUP2_SUPER_MAGIC)
  t.plan(0, 'needs a cgroup v2 host: on this v1/hybrid host it runs in the v2 VM (cgroups-v2vm.test.ts)');
else {
  // Under the VM's emulation the file takes about a minute: past tap's default 30 s.
  t.setTimeout(10 * 60 * 1000);
  const env = new Env('cgv2');
  t.teardown(() => env.cleanup());
  const cg = (id: string, file: string) => readFileSync(join('/sys/fs/cgroup', env.cgroupParent, id, file), 'utf8').trim();
  const state = (id: string) => JSON.parse(env.run(['state', id]).stdout);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  t.test('limits at create read back from the cgroup; update applies and records', async (t) => {
    const b = env.bundle('lim', (c) => {
      c.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 30 }, cpu: { shares: 512, quota: 50000, period: 100000 } };
      c.process.args = ['sleep', '60'];
    });
    const r = env.run(['run', '-d', '--bundle', b, 'lim']);
    t.equal(r.status, 0, r.stderr);
    const pid = state('lim').pid;
    t.equal(cg('lim', 'memory.max'), String(64 << 20));
    t.equal(cg('lim', 'pids.max'), '30');
    t.equal(cg('lim', 'cpu.max'), '50000 100000');
    t.equal(cg('lim', 'cpu.weight'), '59', 'shares 512 → weight 59');
    t.equal(cg('lim', 'cgroup.procs'), String(pid));

    // update: a lone period keeps the quota; stdin resources; recorded in state.json.
    let u = env.run(['update', '--cpu-period', '200000', 'lim']);
    t.equal(u.status, 0, u.stderr);
    t.equal(cg('lim', 'cpu.max'), '50000 200000', 'the quota survives a lone period');
    u = env.run(['update', '--resources', '-', 'lim'], { input: JSON.stringify({ memory: { limit: 96 << 20, swap: 96 << 20 }, pids: { limit: 40 } }) });
    t.equal(u.status, 0, u.stderr);
    t.equal(cg('lim', 'memory.max'), String(96 << 20));
    if (existsSync(join('/sys/fs/cgroup', env.cgroupParent, 'lim', 'memory.swap.max'))) t.equal(cg('lim', 'memory.swap.max'), '0', 'swap = memory+swap - memory');
    t.equal(cg('lim', 'pids.max'), '40');
    const rec = JSON.parse(readFileSync(join(env.root, 'lim', 'state.json'), 'utf8')).config.linux.resources;
    t.match(rec, { memory: { limit: 96 << 20 }, pids: { limit: 40 }, cpu: { quota: 50000, period: 200000 } });
    t.equal(env.run(['delete', '--force', 'lim']).status, 0);
    t.same(leftovers(env, 'lim', pid), []);
  });

  t.test('from inside: limits in its own cgroup2 mount, a denied device, the allowed ones', async (t) => {
    const b = env.bundle('inside', (c) => {
      c.linux.namespaces.push({ type: 'cgroup' });
      c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 64 << 20 }, pids: { limit: 30 } };
      c.linux.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 }];
      c.process.args = [
        'sh',
        '-c',
        'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; head -c 1 /dev/kmsg; ' +
          'echo -n > /dev/null && echo null ok; head -c 2 /dev/zero | wc -c',
      ];
    });
    const r = env.run(['run', '--bundle', b, 'inside']);
    t.equal(r.status, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), [String(64 << 20), '30', 'null ok', '2']);
    t.match(r.stderr, /\/dev\/kmsg.*Operation not permitted/, 'the device filter refuses /dev/kmsg (1:11)');
  });

  t.test('pause/resume through cgroup.freeze; kill --all through cgroup.kill', async (t) => {
    const b = env.bundle('pk', (c) => {
      c.process.args = ['sh', '-c', 'sleep 60 & i=0; while true; do i=$((i+1)); echo $i > /dev/shm/n; usleep 20000; done'];
    });
    t.equal(env.run(['run', '-d', '--bundle', b, 'pk']).status, 0);
    const pid = state('pk').pid;
    const count = () => Number(readFileSync(`/proc/${pid}/root/dev/shm/n`, 'utf8').trim() || 0);
    await waitFor(() => existsSync(`/proc/${pid}/root/dev/shm/n`) && count() > 0, 15000);
    t.equal(env.run(['pause', 'pk']).status, 0);
    t.equal(cg('pk', 'cgroup.freeze'), '1');
    t.match(cg('pk', 'cgroup.events'), /^frozen 1$/m);
    t.equal(state('pk').status, 'paused');
    const at = count();
    await sleep(500);
    t.equal(count(), at, 'no progress while paused');
    t.equal(env.run(['resume', 'pk']).status, 0);
    t.equal(cg('pk', 'cgroup.freeze'), '0');
    await waitFor(() => count() > at, 10000);
    t.pass('progress after resume');
    const log = join(mkdtempSync(join(tmpdir(), 'capsa-log-')), 'log');
    t.teardown(() => rmSync(join(log, '..'), { recursive: true, force: true }));
    t.equal(env.run(['--debug', '--log', log, 'kill', '--all', 'pk', '9']).status, 0);
    t.match(readFileSync(log, 'utf8'), /cgroup\.kill/, 'SIGKILL went through cgroup.kill');
    await waitFor(() => cg('pk', 'cgroup.procs') === '', 10000);
    t.equal(state('pk').status, 'stopped');
    t.equal(env.run(['delete', 'pk']).status, 0);
    t.same(leftovers(env, 'pk', pid), []);
  });

  t.test('events: an oom event when the memory limit is hit; delete --force of a paused container', async (t) => {
    const b = env.bundle('oom', (c) => {
      c.process.args = ['sh', '-c', 'while [ ! -e /dev/shm/go ]; do usleep 20000; done; cat /dev/zero | tail -c 268435456; sleep 60'];
      c.linux.resources = { memory: { limit: 32 << 20, swap: 32 << 20 } };
    });
    t.equal(env.run(['run', '-d', '--bundle', b, 'oom']).status, 0);
    const pid = state('oom').pid;
    const dir = mkdtempSync(join(tmpdir(), 'capsa-events-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const fd = openSync(join(dir, 'out'), 'w');
    const ev = spawn(CAPSA, ['--root', env.root, 'events', '--interval', '1s', 'oom'], { stdio: ['ignore', fd, 'inherit'] });
    closeSync(fd);
    const exited = new Promise((r) => ev.on('exit', r));
    t.teardown(() => ev.kill('SIGKILL'));
    const events = () =>
      readFileSync(join(dir, 'out'), 'utf8')
        .split('\n')
        .filter((l) => l.endsWith('}'))
        .map((l) => JSON.parse(l));
    // A first stats line: events is running and has counted the OOM kills so far.
    await waitFor(() => events().length > 0, 60000);
    closeSync(openSync(`/proc/${pid}/root/dev/shm/go`, 'w'));
    await waitFor(() => events().some((e) => e.type === 'oom'), 60000);
    t.same(events().find((e) => e.type === 'oom'), { type: 'oom', id: 'oom' });
    t.match(cg('oom', 'memory.events'), /^oom_kill [1-9]/m);
    t.equal(env.run(['pause', 'oom']).status, 0);
    t.equal(env.run(['delete', '--force', 'oom']).status, 0, 'delete --force of a paused container');
    t.equal(await exited, 0, 'the event stream ends with the container');
    t.same(leftovers(env, 'oom', pid), []);
  });
}
