// AppArmor profiles applied for real: a container and an exec'd process confined by the
// profile asked for (read back from /proc/self/attr/current inside), a deny rule enforced, an
// exec inheriting the container's profile, a user namespace, a /proc that is not procfs,
// and an unloaded profile refused with a clear error. Needs a kernel running AppArmor and
// apparmor_parser: on this machine that is the v2 VM, where cgroups-v2vm.test.ts runs this
// file. Kept lean: every command costs 1-2 s there.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { hostLsm } from '../../lib/registry';
import { Env, skipReason } from '../helpers/capsa';
import { leftovers } from '../helpers/machine';

const PARSER = ['/usr/sbin/apparmor_parser', '/sbin/apparmor_parser'].find((p) => spawnSync(p, ['--version']).status === 0);
const skip =
  skipReason() ??
  (!hostLsm().apparmor ? 'AppArmor is not enabled on this host (on this machine the file runs in the v2 VM: cgroups-v2vm.test.ts)' : undefined) ??
  (!PARSER ? 'needs apparmor_parser (apt-get install apparmor)' : undefined);
if (skip) t.plan(0, skip);
else {
  t.setTimeout(5 * 60 * 1000);
  const env = new Env('apparmor');
  const dir = mkdtempSync(join(tmpdir(), 'capsa-apparmor-'));
  const name = (s: string) => `capsa-test-${process.pid}-${s}`;
  const [confined, other] = [name('confined'), name('other')];
  // Everything allowed but writing /tmp/denied: what fails inside fails for the profile.
  const profile = (n: string) =>
    `profile ${n} flags=(attach_disconnected,mediate_deleted) {\n  file,\n  capability,\n  network,\n  signal,\n  ptrace,\n  unix,\n  deny /tmp/denied w,\n}\n`;
  const file = join(dir, 'profiles');
  writeFileSync(file, profile(confined) + profile(other));
  const parser = (flag: string) => spawnSync(PARSER as string, [flag, '--skip-cache', file], { encoding: 'utf8' });
  const load = parser('--replace');
  t.teardown(() => {
    env.cleanup();
    parser('--remove');
    rmSync(dir, { recursive: true, force: true });
  });

  t.test('profiles load', async (t) => {
    t.equal(load.status, 0, load.stderr);
  });

  t.test('the container runs confined by its profile, and its deny rule holds', async (t) => {
    const b = env.bundle('run', (c) => {
      c.process.apparmorProfile = confined;
      c.process.args = ['sh', '-c', 'cat /proc/self/attr/current; echo; echo x > /tmp/allowed && echo allowed; echo x > /tmp/denied || echo refused'];
    });
    const r = env.run(['run', '--bundle', b, 'run']);
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n').filter(Boolean);
    t.equal(lines[0], `${confined} (enforce)`, 'attr/current names the profile');
    t.same(lines.slice(1), ['allowed', 'refused']);
    t.match(r.stderr, /\/tmp\/denied: Permission denied/);
    t.same(leftovers(env, 'run'), []);
  });

  t.test('in a user namespace as a non-root user, and with a tmpfs for /proc: confined all the same', async (t) => {
    const b = env.bundle('userns', (c) => {
      c.process.apparmorProfile = confined;
      c.process.user = { uid: 1000, gid: 1000 };
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.process.args = ['sh', '-c', 'id -u; cat /proc/self/attr/current'];
    });
    const r = env.run(['run', '--bundle', b, 'userns']);
    t.equal(r.status, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), ['1000', `${confined} (enforce)`]);
    t.same(leftovers(env, 'userns'), []);
    // No procfs at /proc: capsa-init writes through one of its own; read back from outside.
    const nb = env.bundle('noproc', (c) => {
      c.process.apparmorProfile = confined;
      c.mounts = c.mounts.map((m: any) => (m.destination === '/proc' ? { destination: '/proc', type: 'tmpfs', source: 'tmpfs' } : m));
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
      c.process.args = ['sleep', '120'];
    });
    const d = env.run(['run', '-d', '--bundle', nb, 'noproc']);
    t.equal(d.status, 0, d.stderr);
    const pid = JSON.parse(env.run(['state', 'noproc']).stdout).pid;
    t.equal(readFileSync(`/proc/${pid}/attr/current`, 'utf8').trim(), `${confined} (enforce)`);
    t.equal(env.run(['delete', '--force', 'noproc']).status, 0);
    t.same(leftovers(env, 'noproc', pid), []);
  });

  t.test('exec: the container\'s profile by default, --apparmor and process.json override it', async (t) => {
    const b = env.bundle('ex', (c) => {
      c.process.apparmorProfile = confined;
      c.process.args = ['sleep', '120'];
    });
    t.equal(env.run(['run', '-d', '--bundle', b, 'ex']).status, 0);
    const current = (args: string[]) => {
      const r = env.run(['exec', ...args]);
      return { ...r, stdout: r.stdout.trim() };
    };
    let r = current(['ex', 'cat', '/proc/self/attr/current']);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, `${confined} (enforce)`, 'inherited from the container');
    r = current(['--apparmor', other, 'ex', 'cat', '/proc/self/attr/current']);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, `${other} (enforce)`, '--apparmor');
    const proc = { user: { uid: 0, gid: 0 }, args: ['cat', '/proc/self/attr/current'], cwd: '/', apparmorProfile: other };
    writeFileSync(join(dir, 'process.json'), JSON.stringify(proc));
    r = current(['--process', join(dir, 'process.json'), 'ex']);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, `${other} (enforce)`, 'process.json apparmorProfile');
    r = current(['--apparmor', name('missing'), 'ex', 'true']);
    t.not(r.status, 0, 'a profile that is not loaded');
    t.match(r.stderr, `apparmor: thread-self/attr/apparmor/exec: profile "${name('missing')}" is not loaded: no such file or directory`);
    t.equal(env.run(['delete', '--force', 'ex']).status, 0);
    t.same(leftovers(env, 'ex'), []);
  });

  t.test('a profile that is not loaded: a clear error, nothing left', async (t) => {
    const b = env.bundle('missing', (c) => (c.process.apparmorProfile = name('missing')));
    const r = env.run(['run', '--bundle', b, 'missing']);
    t.equal(r.status, 1);
    t.match(r.stderr, `apparmor: thread-self/attr/apparmor/exec: profile "${name('missing')}" is not loaded: no such file or directory`);
    t.same(leftovers(env, 'missing'), []);
  });
}
