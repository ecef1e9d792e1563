// capsa killed with SIGKILL before each system call of `create` that changes the machine
// (test/helpers/crash.ts): whatever it had done, nothing it started outlives it unless the
// container was committed, and `delete --force` then removes everything.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { straceReason, sweep } from '../helpers/crash';
import { adoptOrphans, reapZombies } from '../helpers/machine';
import { buildRootfs, sharedRootfs } from '../helpers/rootfs';

const skip = skipReason() ?? straceReason();
if (skip) t.plan(0, skip);
else {
  t.setTimeout(600_000);
  const env = new Env('crash-create');
  adoptOrphans();
  t.teardown(() => {
    env.cleanup();
    reapZombies();
  });

  t.test('create with its own pid and mount namespaces', async (t) => {
    const b = env.bundle('cc', (c) => (c.process.args = ['sleep', '60']));
    const outcomes = await sweep(t, env, { id: 'cc', args: ['create', '--bundle', b, 'cc'], rootfs: sharedRootfs() });
    t.ok(
      outcomes.some((o) => !o.stateDir) && outcomes.some((o) => o.stateDir && !o.committed) && outcomes.some((o) => o.committed),
      'the points span nothing made, half made, and committed',
    );
  });

  t.test('create sharing the runtime\'s mount and pid namespaces: its mounts are ours until delete', async (t) => {
    const rootfs = mkdtempSync(join(tmpdir(), 'capsa-crash-rootfs-'));
    rmSync(rootfs, { recursive: true });
    buildRootfs(rootfs);
    t.teardown(() => rmSync(rootfs, { recursive: true, force: true }));
    const b = env.bundle('cn', (c) => {
      c.root = { path: rootfs };
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount' && n.type !== 'pid');
      c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/proc' && m.destination !== '/sys');
      c.process.args = ['sleep', '60'];
    });
    // The conversation with capsa-init is what differs here: by the time capsa-init asks
    // for the hooks, its mounts are in our namespace.
    await sweep(t, env, {
      id: 'cn',
      args: ['create', '--bundle', b, 'cn'],
      rootfs,
      pick: (ps) => ps.filter((p) => / socket | lock |clone3|wait4/.test(p.kind + ' ')),
    });
  });
}
