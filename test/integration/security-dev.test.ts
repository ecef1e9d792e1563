// /dev/null and /dev/console that are not what they claim (CVE-2025-31133, CVE-2025-52565),
// procfs files covered by mounts before capsa writes to them (CVE-2025-52881), and a rootfs
// whose /dev is a symlink (CVE-2026-41579).
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { Test } from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { leftovers } from '../helpers/machine';
import { MODES, PROBE, probeMissing } from '../helpers/probe';
import { buildRootfs } from '../helpers/rootfs';

const skip = skipReason() ?? probeMissing();
if (skip) t.plan(0, skip);
else {
  t.setTimeout(300_000);
  const scratch = mkdtempSync(join(tmpdir(), 'capsa-dev-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  let n = 0;

  /** A directory bound as the container's /dev (so capsa creates nothing in it), holding
   *  what `fill` puts there. */
  const hostDev = (c: any, fill: (dir: string) => void) => {
    const dir = join(scratch, `dev-${n++}`);
    mkdirSync(join(dir, 'pts'), { recursive: true });
    execFileSync('mknod', ['-m', '666', join(dir, 'zero'), 'c', '1', '5']);
    symlinkSync('pts/ptmx', join(dir, 'ptmx'));
    fill(dir);
    const pts = c.mounts.find((m: any) => m.destination === '/dev/pts');
    c.mounts = c.mounts.filter((m: any) => !m.destination.startsWith('/dev'));
    c.mounts.push({ destination: '/dev', type: 'bind', source: dir, options: ['rbind'] }, pts);
    return dir;
  };

  for (const mode of MODES) {
    t.test(`mode ${mode.name}`, async (t) => {
      const env = new Env(`dev-${mode.name}`, mode.opts);
      t.teardown(() => env.cleanup());

      t.test('masking never binds a /dev/null that is not the 1:3 device', async (t) => {
        const fakes: [string, (d: string) => void][] = [
          ['a symlink to a procfs file', (d) => symlinkSync('/proc/sys/kernel/core_pattern', join(d, 'null'))],
          ['a regular file', (d) => writeFileSync(join(d, 'null'), '')],
          ['another device (1:5)', (d) => execFileSync('mknod', ['-m', '666', join(d, 'null'), 'c', '1', '5'])],
          ['a directory', (d) => mkdirSync(join(d, 'null'))],
        ];
        for (const [what, fill] of fakes) {
          const id = `null-${fakes.findIndex(([w]) => w === what)}`;
          const b = env.bundle(id, (c) => {
            hostDev(c, fill);
            c.linux.maskedPaths = ['/proc/keys'];
          });
          const r = env.run(['run', '--bundle', b, id]);
          t.equal(r.status, 1, `${what}: refused`);
          t.match(r.stderr, /masked paths: \/dev\/null: is not the 1:3 character device/, what);
          t.same(leftovers(env, id), [], `${what}: nothing left`);
        }
        const core = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
        t.equal(readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), core, 'core_pattern untouched');
      });

      t.test('a /dev/console that is a symlink or a directory is not what the pty is bound to', async (t) => {
        const rootfs = join(scratch, `rootfs-console-${mode.name}`);
        buildRootfs(rootfs);
        writeFileSync(join(rootfs, 'etc', 'target'), 'keep me\n');
        const run = async (id: string, fill: (d: string) => void) => {
          const sock = join(scratch, `${id}.sock`);
          const out = join(scratch, `${id}.out`);
          const recv = spawn(PROBE, ['console', sock, out], { stdio: ['ignore', 'pipe', 'inherit'] });
          await new Promise((res) => recv.stdout!.once('data', res));
          const b = env.bundle(id, (c) => {
            c.root.path = rootfs;
            hostDev(c, (d) => {
              execFileSync('mknod', ['-m', '666', join(d, 'null'), 'c', '1', '3']);
              fill(d);
            });
            c.process.terminal = true;
            c.process.args = ['sh', '-c', 'stat -c "%F" /dev/console; grep -c " /etc/target " /proc/self/mountinfo; cat /etc/target'];
          });
          // A console socket goes with --detach (runc's rule); the receiver reads the pty until
          // the container's side closes.
          const r = env.run(['run', '--detach', '--console-socket', sock, '--bundle', b, id]);
          if (r.status !== 0) recv.kill();
          await new Promise((res) => (recv.exitCode !== null || recv.signalCode !== null ? res(null) : recv.once('exit', res)));
          env.run(['delete', '--force', id]);
          return { ...r, tty: existsSync(out) ? readFileSync(out, 'utf8').replace(/\r/g, '') : '' };
        };
        const link = await run('console-link', (d) => symlinkSync('/etc/target', join(d, 'console')));
        t.equal(link.status, 0, link.stderr);
        t.equal(link.tty, 'character special file\n0\nkeep me\n', 'the pty went to /dev/console, not to the link target');
        t.equal(readFileSync(join(rootfs, 'etc', 'target'), 'utf8'), 'keep me\n');
        const dir = await run('console-dir', (d) => mkdirSync(join(d, 'console')));
        t.equal(dir.status, 1);
        t.match(dir.stderr, /console: \/dev\/console: remove what the rootfs put there: is a directory/);
        t.same(leftovers(env, 'console-dir'), []);
      });

      t.test('writes to procfs go to the kernel, whatever the config mounted over /proc', async (t) => {
        // ip_forward covered by the domainname file: a write that followed the mount would set
        // the domain name to "1".
        const b = env.bundle('procover', (c) => {
          c.mounts.push(
            { destination: '/proc/sys/net/ipv4/ip_forward', type: 'bind', source: '/proc/sys/kernel/domainname', options: ['bind'] },
            { destination: '/proc/sys/vm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
          );
          c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
          c.linux.readonlyPaths = [];
          c.process.args = ['sh', '-c', 'cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/conf/all/forwarding; ls /proc/sys/vm | wc -l'];
        });
        const r = env.run(['run', '--bundle', b, 'procover']);
        t.equal(r.status, 0, r.stderr);
        t.same(r.stdout.trim().split('\n'), ['(none)', '1', '0'], 'the sysctl was set, the domain name and the tmpfs untouched');

        // oom_score_adj covered by a host file.
        const file = join(scratch, `oom-${mode.name}`);
        writeFileSync(file, 'host file\n');
        const o = env.bundle('oomover', (c) => {
          c.mounts.push({ destination: '/proc/self/oom_score_adj', type: 'bind', source: file, options: ['bind'] });
          c.process.oomScoreAdj = 321;
          c.process.args = ['sleep', '30'];
        });
        t.equal(env.run(['create', '--bundle', o, 'oomover']).status, 0);
        const pid = JSON.parse(env.run(['state', 'oomover']).stdout).pid;
        t.equal(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8'), '321\n', 'the process got its oom_score_adj');
        t.equal(readFileSync(file, 'utf8'), 'host file\n', 'the file mounted over it did not');
        t.equal(env.run(['delete', '--force', 'oomover']).status, 0);
      });

      t.test('a rootfs whose /dev is a symlink is refused', async (t) => {
        for (const target of ['/etc', '../../../../../../tmp']) {
          const rootfs = join(scratch, `rootfs-devlink-${mode.name}-${n++}`);
          buildRootfs(rootfs);
          rmSync(join(rootfs, 'dev'), { recursive: true });
          symlinkSync(target, join(rootfs, 'dev'));
          const before = readdirSync(join(rootfs, 'etc')).sort();
          const id = `devlink-${n}`;
          const b = env.bundle(id, (c) => (c.root.path = rootfs));
          const r = env.run(['run', '--bundle', b, id]);
          t.equal(r.status, 1, target);
          t.match(r.stderr, /rootfs: \/dev: is a symlink in the rootfs; capsa sets up \/dev and does not follow it/);
          t.same(readdirSync(join(rootfs, 'etc')).sort(), before, 'nothing was made where it points');
          t.same(leftovers(env, id), []);
        }
      });
    });
  }

  t.test('without fsopen (a procfs of our own), a covered procfs file is refused, not written', async (t: Test) => {
    const env = new Env('dev-nofsopen', { wrap: [PROBE, 'deny', 'fsopen', '1'] });
    t.teardown(() => env.cleanup());
    const b = env.bundle('procover', (c) => {
      c.mounts.push({ destination: '/proc/sys/net/ipv4/ip_forward', type: 'bind', source: '/proc/sys/kernel/domainname', options: ['bind'] });
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    });
    const r = env.run(['run', '--bundle', b, 'procover']);
    t.equal(r.status, 1);
    t.match(r.stderr, /sysctl: net\/ipv4\/ip_forward: write 1 to \/proc\/sys\/net\/ipv4\/ip_forward: not on the expected filesystem/);
    t.same(leftovers(env, 'procover'), []);
    const plain = env.bundle('plain', (c) => {
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      c.process.args = ['cat', '/proc/sys/net/ipv4/ip_forward'];
    });
    const ok = env.run(['run', '--bundle', plain, 'plain']);
    t.equal(ok.status, 0, ok.stderr);
    t.equal(ok.stdout, '1\n', 'an uncovered /proc works in this mode');
    t.ok(statSync('/proc/sys/kernel/domainname'));
  });
}
