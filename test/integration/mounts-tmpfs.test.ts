// tmpfs mounts over directories of the rootfs: the new tmpfs takes the covered directory's
// mode unless the options give one (runc >= 1.1.8, crun), and with runc's `tmpcopyup` it
// starts with a copy of what it covers (podman --read-only asks for it on /tmp, /run and
// /var/tmp). The copy keeps types, modes and owners, never follows a link, and stays inside
// the rootfs even when the destination is a symlink that leads out of it.
import { chmodSync, chownSync, lchownSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { leftovers } from '../helpers/machine';
import { buildRootfs } from '../helpers/rootfs';

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('tmpfs');
  const scratch = mkdtempSync(join(tmpdir(), 'capsa-tmpfs-'));
  t.teardown(() => {
    env.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });
  const rootfs = join(scratch, 'rootfs');
  buildRootfs(rootfs);
  // The tree to copy: each kind of entry, with its own mode and owner.
  const data = join(rootfs, 'data');
  mkdirSync(join(data, 'sub', 'deeper'), { recursive: true });
  chmodSync(data, 0o750);
  chownSync(data, 12, 34);
  writeFileSync(join(data, 'f'), 'hello\n');
  chmodSync(join(data, 'f'), 0o604);
  chownSync(join(data, 'f'), 5, 6);
  linkSync(join(data, 'f'), join(data, 'hard'));
  writeFileSync(join(data, 'suid'), '#!/bin/sh\n');
  chmodSync(join(data, 'suid'), 0o4755);
  chmodSync(join(data, 'sub'), 0o711);
  writeFileSync(join(data, 'sub', 'deeper', 'g'), 'deep\n');
  chmodSync(join(data, 'sub', 'deeper'), 0o500); // filled before it loses its write bit
  symlinkSync('../f', join(data, 'sub', 'rel'));
  lchownSync(join(data, 'sub', 'rel'), 7, 8);
  symlinkSync('/etc/passwd', join(data, 'abs')); // the container's passwd, never the host's
  execFileSync('mknod', ['-m', '0640', join(data, 'fifo'), 'p']);
  execFileSync('mknod', ['-m', '0600', join(data, 'null'), 'c', '1', '3']);
  mkdirSync(join(rootfs, 'plain'), { mode: 0o700 });
  chmodSync(join(rootfs, 'plain'), 0o700);
  // A destination that leads out of the rootfs if followed on the host.
  symlinkSync('../../../../../../etc', join(rootfs, 'escape'));

  const tmpfs = (destination: string, ...options: string[]) => ({ destination, type: 'tmpfs', source: 'tmpfs', options });
  const run = (id: string, script: string, mounts: object[]) => {
    const b = env.bundle(id, (c) => {
      c.root.path = rootfs;
      c.process.args = ['sh', '-c', script];
      c.mounts.push(...mounts);
    });
    return env.run(['run', '--bundle', b, id]);
  };
  const STAT = 'stat -c "%n %a %u:%g %F %h"';

  t.test('a tmpfs over a directory takes its mode; options that name one win', async (t) => {
    const r = run('mode', `${STAT} /plain /data /new /given`, [
      tmpfs('/plain', 'nosuid'),
      tmpfs('/data'),
      tmpfs('/new'),
      tmpfs('/given', 'mode=0705'),
    ]);
    t.equal(r.status, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), [
      '/plain 700 0:0 directory 2',
      '/data 750 0:0 directory 2',
      '/new 1777 0:0 directory 2', // made by capsa: the tmpfs default, as runc
      '/given 705 0:0 directory 2',
    ]);
  });

  t.test('tmpcopyup: the covered tree, each entry with its type, mode and owner', async (t) => {
    const r = run('copy', `cd /data && find . | sort | while read f; do ${STAT} "$f"; done; cat f sub/deeper/g; readlink sub/rel; readlink abs; cat abs | wc -l; echo more > f; cat hard`, [
      tmpfs('/data', 'nosuid', 'nodev', 'tmpcopyup'),
    ]);
    t.equal(r.status, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), [
      '. 750 0:0 directory 3', // the tmpfs root: its mode, root's, as runc
      './abs 777 0:0 symbolic link 1',
      './f 604 5:6 regular file 1',
      './fifo 640 0:0 fifo 1',
      './hard 604 5:6 regular file 1', // hard links become copies, as runc
      './null 600 0:0 character special file 1',
      './sub 711 0:0 directory 3',
      './sub/deeper 500 0:0 directory 2',
      './sub/deeper/g 644 0:0 regular file 1',
      './sub/rel 777 7:8 symbolic link 1',
      './suid 4755 0:0 regular file 1',
      'hello',
      'deep',
      '../f',
      '/etc/passwd',
      '2', // the rootfs's passwd has two lines
      'hello',
    ]);
    t.same(readdirSync(data).sort(), ['abs', 'f', 'fifo', 'hard', 'null', 'sub', 'suid'], 'the rootfs is not written to');
  });

  t.test('tmpcopyup on a read-only tmpfs: filled, then read-only', async (t) => {
    const r = run('ro', 'cat /data/f; touch /data/x 2>/dev/null || echo ro-ok; grep " /data " /proc/self/mountinfo', [tmpfs('/data', 'ro', 'tmpcopyup')]);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /^hello\nro-ok\n\S+ \S+ \S+ \/ \/data ro,/);
  });

  t.test('tmpcopyup of a destination that is a symlink out of the rootfs copies the rootfs\'s', async (t) => {
    const r = run('escape', 'ls /escape; wc -l < /escape/passwd', [tmpfs('/escape', 'tmpcopyup')]);
    t.equal(r.status, 0, r.stderr);
    t.same(r.stdout.trim().split('\n').map((l) => l.trim()), ['group', 'passwd', '2'], "the rootfs's /etc, not the host's");
  });

  t.test('tmpcopyup where nothing is covered: an empty tmpfs', async (t) => {
    const r = run('empty', 'ls -A /nothing-here; echo end', [tmpfs('/nothing-here', 'tmpcopyup')]);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, 'end\n');
  });

  t.test('tmpcopyup on a bind mount: a clear error, nothing made', async (t) => {
    const r = run('bind', 'true', [{ destination: '/mnt', type: 'bind', source: scratch, options: ['rbind', 'tmpcopyup'] }]);
    t.equal(r.status, 1);
    t.match(r.stderr, /\/mounts\/\d+\/options: mount option "tmpcopyup" is for tmpfs mounts only/);
    t.same(leftovers(env, 'bind'), []);
  });

  t.test('a tree deeper than capsa copies: a clear error, nothing left', async (t) => {
    const deep = join(rootfs, 'deep');
    mkdirSync(join(deep, ...Array(130).fill('d')), { recursive: true });
    t.teardown(() => rmSync(deep, { recursive: true, force: true }));
    const r = run('deep', 'true', [tmpfs('/deep', 'tmpcopyup')]);
    t.equal(r.status, 1);
    t.match(r.stderr, /mount: \/deep: tmpcopyup: (\/d){129} is more than 128 directories deep/);
    t.same(leftovers(env, 'deep'), []);
  });
}
