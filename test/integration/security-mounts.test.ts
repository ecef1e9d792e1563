// Mount destinations, device nodes, masked and read-only paths that a hostile rootfs turns
// into symlinks to "/", "/etc", "../../..", a host directory or a magic link: everything lands
// inside the rootfs, never on the host (CVE-2021-30465) — with and without a mount namespace
// of the container's own, with and without openat2.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { leftovers } from '../helpers/machine';
import { MODES, probeMissing } from '../helpers/probe';
import { buildRootfs } from '../helpers/rootfs';
import { mountsUnder } from '../../lib/state/hostmounts';

const skip = skipReason() ?? probeMissing();
if (skip) t.plan(0, skip);
else {
  t.setTimeout(300_000);
  const scratch = mkdtempSync(join(tmpdir(), 'capsa-mounts-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  // A directory both the host and the rootfs have, which a link names absolutely; and a bind
  // source.
  const host = '/var';
  const source = join(scratch, 'bind-source');
  mkdirSync(source);
  writeFileSync(join(source, 'hello'), 'from the bind source\n');

  /** A rootfs whose paths lead out of it, if followed on the host. */
  const hostileRootfs = (name: string) => {
    const r = join(scratch, name);
    buildRootfs(r);
    symlinkSync('/', join(r, 'evil-root'));
    symlinkSync('/etc', join(r, 'evil-etc'));
    symlinkSync('../../../../../../../../..', join(r, 'evil-up'));
    symlinkSync(host, join(r, 'evil-host'));
    symlinkSync('/proc/self/root', join(r, 'evil-magic'));
    writeFileSync(join(r, 'etc', 'secret'), 'container secret\n');
    return r;
  };
  const hostPaths = ['/capsa-m1', '/etc/capsa-m2', '/capsa-m3', join(host, 'capsa-m4'), '/etc/capsa-dev', '/capsa-m5'];
  const etcPasswd = statSync('/etc/passwd');

  const hostile = (c: any, rootfs: string) => {
    c.root.path = rootfs;
    c.root.readonly = false;
    c.mounts.push(
      { destination: '/evil-root/capsa-m1', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      { destination: '/evil-etc/capsa-m2', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      { destination: '/evil-up/capsa-m3', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      { destination: '/evil-host/capsa-m4', type: 'bind', source, options: ['bind', 'ro'] },
    );
    c.linux.devices = [{ path: '/evil-etc/capsa-dev', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
    c.linux.maskedPaths = ['/evil-etc/secret', '/evil-up/etc/passwd'];
    c.linux.readonlyPaths = ['/evil-root/home'];
    c.process.args = ['sh', '-c', [
      'grep -E " /(capsa-m1|etc/capsa-m2|capsa-m3|.*/capsa-m4) " /proc/self/mountinfo | cut -d" " -f5 | sort',
      `cat ${host}/capsa-m4/hello`,
      'stat -c "%F %t:%T" /etc/capsa-dev',
      'wc -c < /etc/secret; wc -c < /etc/passwd',
      'touch /home/x 2>/dev/null || echo home-ro',
    ].join('; ')];
  };

  for (const mode of MODES) {
    t.test(`mode ${mode.name}`, async (t) => {
      const env = new Env(`mounts-${mode.name}`, mode.opts);
      t.teardown(() => env.cleanup());

      t.test('symlinked destinations, device paths, masked and read-only paths stay inside', async (t) => {
        const rootfs = hostileRootfs(`rootfs-ns-${mode.name}`);
        const b = env.bundle('inside', (c) => hostile(c, rootfs));
        const r = env.run(['run', '--bundle', b, 'inside']);
        t.equal(r.status, 0, r.stderr);
        t.same(r.stdout.trim().split('\n'), [
          '/capsa-m1',
          '/capsa-m3',
          '/etc/capsa-m2',
          `${host}/capsa-m4`,
          'from the bind source',
          'character special file 1:3',
          '0',
          '0',
          'home-ro',
        ], 'each landed where the path leads inside the rootfs');
        for (const p of hostPaths) t.notOk(existsSync(p), `nothing at ${p} on the host`);
        t.ok(existsSync(join(rootfs, 'etc', 'capsa-dev')), 'the device node was made in the rootfs');
        t.equal(statSync('/etc/passwd').ino, etcPasswd.ino, 'the host /etc/passwd is untouched');
        t.same(leftovers(env, 'inside'), []);
      });

      t.test('without a mount namespace: the mounts are made on the host, all under the rootfs', async (t) => {
        const rootfs = hostileRootfs(`rootfs-nons-${mode.name}`);
        const b = env.bundle('nons', (c) => {
          hostile(c, rootfs);
          c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount');
          c.process.args = ['sleep', '30'];
        });
        const r = env.run(['create', '--bundle', b, 'nons']);
        t.equal(r.status, 0, r.stderr);
        const mine = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter(Boolean);
        const made = mountsUnder(rootfs);
        t.ok(made.length >= 8, `the container's mounts exist (${made.length})`);
        t.same(mine.filter((m) => /capsa-m\d/.test(m) && !m.startsWith(rootfs)), [], 'none of them outside the rootfs');
        for (const p of ['/capsa-m1', '/etc/capsa-m2', '/capsa-m3', join(host, 'capsa-m4')]) t.notOk(existsSync(p), `nothing at ${p}`);
        t.equal(env.run(['delete', '--force', 'nons']).status, 0);
        t.same(mountsUnder(rootfs), [], 'delete removed them all');
        t.same(leftovers(env, 'nons'), []);
      });

      t.test('a destination through a magic link is refused or stays inside', async (t) => {
        const rootfs = hostileRootfs(`rootfs-magic-${mode.name}`);
        const b = env.bundle('magic', (c) => {
          c.root.path = rootfs;
          c.root.readonly = false;
          c.mounts.push({ destination: '/evil-magic/capsa-m5', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
          c.process.args = ['sh', '-c', 'grep -c " /capsa-m5 " /proc/self/mountinfo'];
        });
        const r = env.run(['run', '--bundle', b, 'magic']);
        // openat2 refuses magic links (ELOOP); the walk reads /proc/self/root as the text "/".
        if (r.status === 0) t.equal(r.stdout.trim(), '1', 'resolved as "/" of the rootfs');
        else t.match(r.stderr, /mount: \/evil-magic\/capsa-m5: create the mount target in the rootfs: too many levels of symbolic links/);
        t.notOk(existsSync('/capsa-m5'));
        t.same(leftovers(env, 'magic'), []);
      });
    });
  }
}
