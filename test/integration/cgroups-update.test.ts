// Resource limits through the real CLI: what create applies is visible inside the container
// (its own /sys/fs/cgroup under a cgroup namespace) and takes effect; update applies new
// values live, from stdin as containerd sends them or from runc's flags, records them in
// state.json, and later updates build on what was recorded.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { hierarchies } from '../../lib/cgroups';

const skip = skipReason();
const layout = skip ? undefined : hierarchies();
if (skip) t.plan(0, skip);
else if (layout?.mode === 'unified') t.plan(0, 'a cgroup v1 host test: the v2 suite runs in test/integration/cgroups-v2vm.test.ts');
else {
  const env = new Env('cgupdate');
  t.teardown(() => env.cleanup());
  const v1 = layout!.v1;
  const file = (ctrl: string, id: string, name: string) => readFileSync(join(v1.get(ctrl)!, env.cgroupParent, id, name), 'utf8').trim();
  const recorded = (id: string) => JSON.parse(readFileSync(join(env.root, id, 'state.json'), 'utf8')).config.linux.resources;
  const sleeper = (id: string, resources: object) => {
    const b = env.bundle(id, (c) => {
      c.process.args = ['sleep', '60'];
      c.linux.resources = resources;
    });
    const r = env.run(['run', '-d', '--bundle', b, id]);
    if (r.status !== 0) throw new Error(r.stderr);
  };

  t.test('limits set at create are visible inside the container and take effect', async (t) => {
    const b = env.bundle('lim', (c) => {
      c.linux.namespaces.push({ type: 'cgroup' });
      c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
      c.linux.resources = { memory: { limit: 48 << 20 }, pids: { limit: 12 }, cpu: { shares: 512, quota: 20000, period: 100000 } };
      c.process.args = [
        'sh',
        '-c',
        'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.shares ' +
          '/sys/fs/cgroup/cpu/cpu.cfs_quota_us; ' +
          // A child shell starts 30 background sleeps under a limit of 12 pids and dies at
          // the first fork that fails; then only builtins, which need no fork.
          "sh -c 'for i in $(seq 30); do sleep 5 & done'; read n < /sys/fs/cgroup/pids/pids.current; echo current=$n; " +
          'while read k v; do echo $k=$v; done < /sys/fs/cgroup/pids/pids.events',
      ];
    });
    const r = env.run(['run', '--bundle', b, 'lim']);
    const lines = r.stdout.trim().split('\n');
    t.same(lines.slice(0, 4), [String(48 << 20), '12', '512', '20000'], 'read from inside, through its own cgroup mount');
    const current = Number(/^current=(\d+)$/.exec(lines[4] ?? '')?.[1]);
    t.ok(current >= 10 && current <= 12, `the pids limit held: ${lines[4]}`);
    t.ok(Number(/^max=(\d+)$/.exec(lines[5] ?? '')?.[1]) > 0, `pids.events counts the refused forks: ${lines[5]}`);
    t.match(r.stderr, /can't fork|Resource temporarily unavailable/i, 'the shell saw forks fail');
  });

  t.test('update --resources - (containerd): applied live, read back, recorded', async (t) => {
    const devices = [{ allow: false, access: 'rwm' }];
    sleeper('u1', { devices, memory: { limit: 64 << 20 }, pids: { limit: 50 }, cpu: { shares: 1024 } });
    // The shape containerd's CRI plugin sends: the whole LinuxResources, devices included.
    const input = JSON.stringify({
      devices: [{ allow: true, access: 'rwm' }],
      memory: { limit: 128 << 20, swap: 128 << 20 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 80 },
      blockIO: { weight: 300 },
    });
    const hasWeight = (() => {
      try {
        file('blkio', 'u1', 'blkio.weight');
        return true;
      } catch {
        return false;
      }
    })();
    const body = hasWeight ? input : JSON.stringify({ ...JSON.parse(input), blockIO: undefined });
    const t0 = Date.now();
    const r = env.run(['update', '--resources', '-', 'u1'], { input: body });
    t.equal(r.status, 0, r.stderr);
    t.comment(`update: ${Date.now() - t0} ms`);
    t.equal(file('memory', 'u1', 'memory.limit_in_bytes'), String(128 << 20));
    t.equal(file('memory', 'u1', 'memory.memsw.limit_in_bytes'), String(128 << 20));
    t.equal(file('cpu', 'u1', 'cpu.shares'), '512');
    t.equal(file('cpu', 'u1', 'cpu.cfs_quota_us'), '50000');
    t.equal(file('cpu', 'u1', 'cpu.cfs_period_us'), '100000');
    t.equal(file('cpuset', 'u1', 'cpuset.cpus'), '0');
    t.equal(file('pids', 'u1', 'pids.max'), '80');
    if (hasWeight) t.equal(file('blkio', 'u1', 'blkio.weight'), '300');
    const rec = recorded('u1');
    t.match(rec, {
      memory: { limit: 128 << 20, swap: 128 << 20 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 80 },
    });
    t.same(rec.devices, devices, 'devices are not changed by update (as runc)');
    t.notMatch(file('devices', 'u1', 'devices.list'), /^a \*:\* rwm/, 'the device cgroup still denies by default');
    t.equal(env.run(['delete', '--force', 'u1']).status, 0);
  });

  t.test("update with runc's flags; a lone period keeps the quota; sizes as runc parses them", async (t) => {
    sleeper('u2', { memory: { limit: 64 << 20 }, cpu: { quota: 30000, period: 100000 } });
    let r = env.run(['update', '--memory', '100M', '--memory-reservation', '50m', '--pids-limit', '33', '--cpu-share', '256', 'u2']);
    t.equal(r.status, 0, r.stderr);
    t.equal(file('memory', 'u2', 'memory.limit_in_bytes'), String(100 * 2 ** 20), '100M is 100 MiB');
    t.equal(file('memory', 'u2', 'memory.soft_limit_in_bytes'), String(50 * 2 ** 20));
    t.equal(file('pids', 'u2', 'pids.max'), '33');
    t.equal(file('cpu', 'u2', 'cpu.shares'), '256');
    r = env.run(['update', '--cpu-period', '200000', 'u2']);
    t.equal(r.status, 0, r.stderr);
    t.equal(file('cpu', 'u2', 'cpu.cfs_period_us'), '200000');
    t.equal(file('cpu', 'u2', 'cpu.cfs_quota_us'), '30000', 'the quota is kept');
    t.match(recorded('u2').cpu, { quota: 30000, period: 200000, shares: 256 });
    r = env.run(['update', '--cpu-quota', '-1', '--pids-limit', '-1', '--memory', '-1', 'u2']);
    t.equal(r.status, 0, r.stderr);
    t.equal(file('cpu', 'u2', 'cpu.cfs_quota_us'), '-1');
    t.equal(file('pids', 'u2', 'pids.max'), 'max');
    t.equal(file('memory', 'u2', 'memory.limit_in_bytes'), '9223372036854771712', 'unlimited');
    t.match(recorded('u2'), { memory: { limit: -1, reservation: 50 * 2 ** 20 }, pids: { limit: -1 }, cpu: { quota: -1, period: 200000 } });
    r = env.run(['update', '--memory', '1GiB', '--memory-swap', '2g', 'u2']);
    t.equal(r.status, 0, r.stderr);
    t.equal(file('memory', 'u2', 'memory.limit_in_bytes'), String(2 ** 30));
    t.equal(file('memory', 'u2', 'memory.memsw.limit_in_bytes'), String(2 ** 31));
    const w = env.run(['update', '--kernel-memory', '10M', 'u2']);
    t.equal(w.status, 0);
    t.match(w.stderr, /Kernel memory settings are ignored/);
    t.equal(env.run(['delete', '--force', 'u2']).status, 0);
  });

  t.test('update: bad input changes nothing; a stopped container is refused', async (t) => {
    sleeper('u3', { memory: { limit: 64 << 20 } });
    const before = JSON.stringify(recorded('u3'));
    const bad: [string[], RegExp, string?][] = [
      [['--memory', '12x'], /invalid suffix/],
      [['--memory', 'lots'], /invalid size/],
      [['--pids-limit', 'many'], /invalid value for pids-limit/],
      [['--memory-swap', '10M'], /swap.*must be >= limit/],
      [['--resources', '-'], /resources\/memory\/limit: must be an integer/, '{"memory":{"limit":"x"}}'],
      [['--resources', '-'], /resources: .*line 1/, '{"memory":'],
      [['--resources', '/nonexistent.json'], /nonexistent\.json/],
    ];
    for (const [args, re, input] of bad) {
      const r = env.run(['update', ...args, 'u3'], { input });
      t.equal(r.status, 1, args.join(' '));
      t.match(r.stderr, re, args.join(' '));
    }
    t.equal(JSON.stringify(recorded('u3')), before, 'nothing recorded');
    t.equal(file('memory', 'u3', 'memory.limit_in_bytes'), String(64 << 20), 'nothing applied');
    t.equal(env.run(['kill', 'u3', 'KILL']).status, 0);
    await new Promise((r) => setTimeout(r, 200));
    const stopped = env.run(['update', '--memory', '100M', 'u3']);
    t.equal(stopped.status, 1);
    t.match(stopped.stderr, /container not running/);
    t.equal(env.run(['delete', 'u3']).status, 0);
  });
}
