// Paths handed to capsa: container ids, the state root, the bundle, the rootfs. Each is
// refused or resolved once and then held by fd, so swapping a symlink in cannot redirect it.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { leftovers } from '../helpers/machine';
import { MODES, PROBE, probeMissing } from '../helpers/probe';
import { buildRootfs } from '../helpers/rootfs';

const skip = skipReason() ?? probeMissing();
if (skip) t.plan(0, skip);
else {
  t.setTimeout(300_000);
  const scratch = mkdtempSync(join(tmpdir(), 'capsa-paths-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

  for (const mode of MODES) {
    t.test(`mode ${mode.name}`, async (t) => {
      const env = new Env(`paths-${mode.name}`, mode.opts);
      t.teardown(() => env.cleanup());

      t.test('container ids with "/" or ".." are refused before any path is made of them', async (t) => {
        const b = env.bundle('idcheck');
        for (const id of ['../escape', 'a/b', '..', '.', '/abs', 'x/../../y']) {
          const r = env.run(['create', '--bundle', b, id]);
          t.equal(r.status, 1, JSON.stringify(id));
          t.match(r.stderr, /container id/, JSON.stringify(id));
        }
        t.notOk(existsSync('/run/escape') || existsSync(join(env.root, '..', 'escape')) || existsSync('/y'), 'nothing made outside the root');
        t.same(existsSync(env.root) ? readdirSync(env.root) : [], [], 'nor inside it');
      });

      t.test('the rootfs a symlink: followed once, at create; the container sees what it named', async (t) => {
        const real = join(scratch, `real-${mode.name}`);
        buildRootfs(real);
        writeFileSync(join(real, 'marker'), 'real rootfs\n');
        const link = join(scratch, `link-${mode.name}`);
        symlinkSync(real, link);
        const b = env.bundle('rootlink', (c) => {
          c.root.path = link;
          c.process.args = ['cat', '/marker'];
        });
        const r = env.run(['run', '--bundle', b, 'rootlink']);
        t.equal(r.status, 0, r.stderr);
        t.equal(r.stdout, 'real rootfs\n');
      });

      t.test('a bundle path with ".." resolves as a path, and the state records the clean one', async (t) => {
        const b = env.bundle('dotdot', (c) => (c.process.args = ['sleep', '10']));
        mkdirSync(join(b, 'sub'));
        const r = env.run(['create', '--bundle', join(b, 'sub', '..'), 'dotdot']);
        t.equal(r.status, 0, r.stderr);
        t.equal(JSON.parse(env.run(['state', 'dotdot']).stdout).bundle, b);
        t.equal(env.run(['delete', '--force', 'dotdot']).status, 0);
      });

      t.test('the rootfs swapped for a symlink while create runs: never another directory', async (t) => {
        // dir/hold/rootfs is the rootfs; dir/decoy/rootfs looks alike but says DECOY. A racer
        // exchanges "hold" with a symlink to "decoy" as fast as it can while containers are
        // created. create resolves root.path once (state.json records the result); whatever
        // the container then runs in must be that directory, never the other.
        const dir = join(scratch, `race-${mode.name}`);
        mkdirSync(join(dir, 'out'), { recursive: true });
        buildRootfs(join(dir, 'hold', 'rootfs'));
        buildRootfs(join(dir, 'decoy', 'rootfs'));
        writeFileSync(join(dir, 'hold', 'rootfs', 'which'), 'hold\n');
        writeFileSync(join(dir, 'decoy', 'rootfs', 'which'), 'decoy\n');
        symlinkSync(join(dir, 'decoy'), join(dir, 'swap'));
        const racer = spawn(PROBE, ['swap', dir, 'hold', 'swap', '60'], { stdio: 'ignore' });
        t.teardown(() => racer.kill('SIGKILL'));
        const seen: Record<string, number> = {};
        for (let i = 0; i < 10; i++) {
          const id = `race-${i}`;
          const b = env.bundle(id, (c) => {
            c.root.path = join(dir, 'hold', 'rootfs');
            c.mounts.push({ destination: '/tmp/out', type: 'bind', source: join(dir, 'out'), options: ['bind'] });
            c.process.args = ['sh', '-c', `cat /which > /tmp/out/${id}`];
          });
          const r = env.run(['create', '--bundle', b, id]);
          if (r.status !== 0) {
            const why = /rootfs: [^:]*: (.*)/.exec(r.stderr)?.[1] ?? r.stderr.trim();
            t.match(why, /symbolic links|was replaced|no such file|not a directory|invalid argument/, `${id}: refused, not redirected`);
            seen[why] = (seen[why] ?? 0) + 1;
          } else {
            const resolved = JSON.parse(env.run(['state', id]).stdout).rootfs as string;
            t.equal(env.run(['start', id]).status, 0);
            const out = join(dir, 'out', id);
            const written = () => existsSync(out) && readFileSync(out, 'utf8').endsWith('\n');
            for (let w = 0; w < 300 && !written(); w++) await new Promise((res) => setTimeout(res, 10));
            const ran = written() ? readFileSync(out, 'utf8').trim() : 'nothing';
            t.equal(join(dir, ran, 'rootfs'), resolved, `${id}: ran in the rootfs create resolved (${resolved})`);
            seen[ran] = (seen[ran] ?? 0) + 1;
            env.run(['delete', '--force', id]);
          }
          t.same(leftovers(env, id), [], `${id} left nothing`);
        }
        racer.kill('SIGKILL');
        t.comment(JSON.stringify(seen));
      });
    });
  }

  t.test('--root: a symlink is followed once; a root others can write is refused', async (t) => {
    const real = join(scratch, 'root-real');
    mkdirSync(real, { mode: 0o711 });
    const link = join(scratch, 'root-link');
    symlinkSync(real, link);
    const viaLink = new Env('paths-root', { root: link });
    const direct = new Env('paths-root', { root: real });
    t.teardown(() => {
      chmodSync(real, 0o711);
      direct.cleanup();
      viaLink.cleanup();
    });
    const b = viaLink.bundle('viaroot', (c) => (c.process.args = ['sleep', '10']));
    let r = viaLink.run(['create', '--bundle', b, 'viaroot']);
    t.equal(r.status, 0, r.stderr);
    t.ok(existsSync(join(real, 'viaroot', 'state.json')), 'the state lives where the link led');
    t.equal(JSON.parse(direct.run(['state', 'viaroot']).stdout).status, 'created', 'and is the same container by either name');
    chmodSync(real, 0o777);
    r = viaLink.run(['delete', '--force', 'viaroot']);
    t.equal(r.status, 1);
    t.match(r.stderr, /state root: .*root-link: is writable by its group and others \(mode 777\): refused/);
    t.equal(viaLink.run(['list']).status, 1, 'list refuses it too');
    chmodSync(real, 0o711);
    t.equal(direct.run(['delete', '--force', 'viaroot']).status, 0);
    t.same(readdirSync(real), []);
  });
}
