// Mount targets made while the rootfs changes under capsa (CVE-2024-45310, CVE-2021-30465):
// a racer exchanges a directory on the way to the targets with a symlink to a host directory,
// thousands of times a second, while containers start. Whatever capsa ends up doing, it does
// inside the rootfs: the host directory never gets a directory, a file or a mount.
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  const scratch = mkdtempSync(join(tmpdir(), 'capsa-race-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const source = join(scratch, 'file');
  writeFileSync(source, 'bound\n');

  for (const mode of MODES) {
    t.test(`mode ${mode.name}`, async (t) => {
      const env = new Env(`race-${mode.name}`, mode.opts);
      t.teardown(() => env.cleanup());
      const host = join(scratch, `host-${mode.name}`);
      mkdirSync(host);
      const rootfs = join(scratch, `rootfs-${mode.name}`);
      buildRootfs(rootfs);
      mkdirSync(join(rootfs, 'a'));
      // Absolute, and relative with more ".." than the rootfs is deep: both name the host
      // directory if a kernel lookup ever follows them from the host's "/".
      symlinkSync(host, join(rootfs, 'abs'));
      symlinkSync(`../../../../../../../../..${host}`, join(rootfs, 'rel'));
      const outcomes: Record<string, number> = {};
      for (let i = 0; i < 20; i++) {
        const id = `race-${i}`;
        const b = env.bundle(id, (c) => {
          c.root.path = rootfs;
          c.root.readonly = false;
          c.mounts.push(
            { destination: `/a/d${i}/deeper/still`, type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
            { destination: `/a/f${i}/file`, type: 'bind', source, options: ['bind'] },
          );
          c.linux.devices = [{ path: `/a/n${i}/null`, type: 'c', major: 1, minor: 3 }];
          c.process.args = ['true'];
        });
        // One racer at a time (two would permute the three names and leave "a" a symlink for
        // long stretches), flat out for half the containers (capsa mostly loses: the host must
        // stay untouched) and for the other half undoing each flip at once and holding 100 µs
        // (capsa mostly wins, however slow the machine: it works under a racer at all).
        const hold = i % 4 < 2 ? '0' : '100';
        const racer = spawn(PROBE, ['swap', rootfs, 'a', i % 2 ? 'rel' : 'abs', '120', hold], { stdio: 'ignore' });
        t.teardown(() => racer.kill('SIGKILL'));
        const r = env.run(['run', '--bundle', b, id]);
        const stopped = new Promise((done) => racer.once('exit', done));
        racer.kill('SIGTERM');
        await stopped;
        const what = r.status === 0 ? 'ran' : (/: ([^:]*: [^:]*)$/.exec(r.stderr.trim())?.[1] ?? r.stderr.trim());
        outcomes[what] = (outcomes[what] ?? 0) + 1;
        t.same(leftovers(env, id), [], `${id} left nothing`);
        t.same(readdirSync(host), [], `${id}: nothing made in the host directory`);
      }
      t.comment(`${mode.name}: ${JSON.stringify(outcomes)}`);
      t.ok(outcomes.ran > 0, 'some containers started despite the racer');
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
      t.notOk(mounts.includes(host), 'no mount on the host directory');
      t.ok(lstatSync(join(rootfs, 'a')).isDirectory() && ['abs', 'rel'].every((n) => lstatSync(join(rootfs, n)).isSymbolicLink()), 'the racer only exchanged names, and back');
    });
  }
}
