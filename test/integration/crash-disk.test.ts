// A full disk under --root (a small tmpfs mounted there): create fails with a clear error at
// whatever write runs out of space, leaves nothing partial, and works again once there is room.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { adoptOrphans, leftovers, liveChildren, mountsAt, reapZombies } from '../helpers/machine';

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('crash-disk');
  adoptOrphans();
  mkdirSync(env.root, { recursive: true });
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,nr_inodes=64,mode=0711', 'capsa-test-full', env.root]);
  if (mount.status !== 0) throw new Error(`mount tmpfs: ${mount.stderr}`);
  t.teardown(() => {
    for (const id of readdirSync(env.root)) if (!id.startsWith('filler')) env.run(['delete', '--force', id]);
    spawnSync('umount', [env.root]);
    env.cleanup();
    reapZombies();
  });

  /** Fills the tmpfs until `pages` blocks (or, with `inodes`, that many inodes) are free. */
  function fill(t: Test, pages: number, inodes = false): void {
    rmSync(join(env.root, 'filler'), { recursive: true, force: true });
    mkdirSync(join(env.root, 'filler'));
    const st = statfsSync(env.root);
    if (inodes) for (let i = 0; i < st.ffree - pages; i++) writeFileSync(join(env.root, 'filler', String(i)), '');
    else writeFileSync(join(env.root, 'filler', 'blocks'), Buffer.alloc((st.bavail - pages) * st.bsize));
    const now = statfsSync(env.root);
    t.equal(inodes ? now.ffree : now.bavail, pages, `${pages} ${inodes ? 'inodes' : 'blocks'} free`);
  }

  function tryCreate(t: Test, id: string, what: string): boolean {
    const b = env.bundle(id, (c) => (c.process.args = ['sleep', '60']));
    const r = env.run(['create', '--bundle', b, id]);
    reapZombies();
    if (r.status === 0) {
      t.equal(env.run(['delete', '--force', id]).status, 0, `${what}: create fit; delete removes it`);
      reapZombies();
    } else {
      t.match(r.stderr, new RegExp(`create ${id}: .*no space left on device`), `${what}: create fails clearly: ${r.stderr.trim()}`);
    }
    t.same(leftovers(env, id), [], `${what}: nothing partial is left`);
    t.same(readdirSync(env.root), ['filler'], `${what}: not even a temp file`);
    t.same(liveChildren(), [], `${what}: no process`);
    t.same(mountsAt(env.root).length, 1, `${what}: no mount but the tmpfs`);
    return r.status === 0;
  }

  for (const inodes of [false, true]) {
    const unit = inodes ? 'inodes' : 'blocks';
    t.test(`out of ${unit}: create fails at each write it cannot make, then works with room`, async (t) => {
      const fits: boolean[] = [];
      for (let free = 0; free <= 5; free++) {
        fill(t, free, inodes);
        fits.push(tryCreate(t, `full-${unit}-${free}`, `${free} ${unit} free`));
      }
      t.notOk(fits[0], `with no ${unit} free, create fails`);
      t.ok(fits[5], `with 5 ${unit} free, create fits`);
      t.ok(fits.indexOf(true) > 1, `and in between it failed at a later write (first fit with ${fits.indexOf(true)} free)`);
      rmSync(join(env.root, 'filler'), { recursive: true });
      mkdirSync(join(env.root, 'filler'));
      t.ok(tryCreate(t, `full-${unit}-freed`, 'space freed'), 'once space is freed, create works again');
    });
  }
}
