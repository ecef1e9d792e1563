// Privileges as the container ends up with them: capabilities (bounding dropped before the
// user switch, ambient only within inheritable and permitted, nothing for a non-root user
// without any), the cgroup filesystem read-only (CVE-2023-25809), and LSM labels refused
// where the LSM is not running (applied: security-apparmor.test.ts, security-selinux.test.ts).
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';
import { leftovers } from '../helpers/machine';
import { hostLsm } from '../../lib/registry';

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('privileges');
  t.teardown(() => env.cleanup());
  const status = (out: string) => Object.fromEntries(out.trim().split('\n').map((l) => l.split(/:\s+/)));
  const mask = (...bits: number[]) => bits.reduce((m, b) => m | (1n << BigInt(b)), 0n).toString(16).padStart(16, '0');
  const CAP = { CHOWN: 0, KILL: 5, SETGID: 6, SETUID: 7, SETPCAP: 8, NET_BIND_SERVICE: 10, NET_RAW: 13, SYS_ADMIN: 21 };
  const inside = (id: string, edit: (c: any) => void, script = 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status') => {
    const b = env.bundle(id, (c) => {
      c.process.args = ['sh', '-c', script];
      edit(c);
    });
    return env.run(['run', '--bundle', b, id]);
  };

  t.test('a non-root user: bounding dropped (needs CAP_SETPCAP, gone after setuid), only what was asked', async (t) => {
    const r = inside('user', (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.noNewPrivileges = false;
      c.process.capabilities = {
        bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_NET_BIND_SERVICE'],
        inheritable: ['CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_NET_BIND_SERVICE'],
      };
    });
    t.equal(r.status, 0, r.stderr);
    const s = status(r.stdout);
    t.equal(s.CapBnd, mask(CAP.KILL, CAP.NET_BIND_SERVICE));
    t.equal(s.CapAmb, mask(CAP.NET_BIND_SERVICE), 'the ambient capability survived execve');
    t.equal(s.CapEff, mask(CAP.NET_BIND_SERVICE));
    t.equal(s.CapPrm, mask(CAP.NET_BIND_SERVICE));
  });

  t.test("ambient outside inheritable or permitted: not raised, with a warning, as runc (its own `runc spec` asks for that)", async (t) => {
    const r = inside('ambient', (c) => {
      c.process.capabilities = {
        bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW'],
        effective: ['CAP_KILL', 'CAP_CHOWN'],
        permitted: ['CAP_KILL', 'CAP_CHOWN'],
        inheritable: ['CAP_CHOWN', 'CAP_NET_RAW'],
        ambient: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW'],
      };
    });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stderr, 'capsa: warning: capabilities: ambient CAP_KILL, CAP_NET_RAW not raised: not also inheritable and permitted\n');
    const s = status(r.stdout);
    t.equal(s.CapAmb, mask(CAP.CHOWN), 'the one both inheritable and permitted is raised');
    t.equal(s.CapPrm, mask(CAP.KILL, CAP.CHOWN));
  });

  t.test('a non-root user with no capabilities configured ends with none at all', async (t) => {
    for (const [id, caps] of [['none-absent', undefined], ['none-empty', { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] }]] as const) {
      const r = inside(id, (c) => {
        c.process.user = { uid: 65534, gid: 65534 };
        c.process.noNewPrivileges = false;
        if (caps) c.process.capabilities = caps;
        else delete c.process.capabilities;
      }, 'grep -E "^Cap" /proc/self/status');
      t.equal(r.status, 0, r.stderr);
      const s = status(r.stdout);
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) t.equal(s[set], '0'.repeat(16), `${id}: ${set}`);
    }
  });

  t.test('root with a small bounding set cannot get more back through execve', async (t) => {
    const r = inside('root-bnd', (c) => {
      c.process.capabilities = { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] };
    }, 'grep -E "^Cap" /proc/self/status; chown 1 /tmp && echo chown-ok; mknod /tmp/n c 1 3 2>/dev/null || echo mknod-refused');
    t.equal(r.status, 0, r.stderr);
    const s = status(r.stdout.split('\n').filter((l) => l.startsWith('Cap')).join('\n'));
    t.equal(s.CapPrm, mask(CAP.CHOWN));
    t.equal(s.CapBnd, mask(CAP.CHOWN));
    t.match(r.stdout, /chown-ok\nmknod-refused/);
  });

  t.test('exec --cap never makes a capability inheritable (CVE-2022-29162)', async (t) => {
    const caps = ['CAP_KILL', 'CAP_CHOWN'];
    for (const [id, inheritable] of [['cap-noinh', undefined], ['cap-inh', ['CAP_KILL']]] as const) {
      const b = env.bundle(id, (c) => {
        c.process.args = ['sleep', '30'];
        c.process.capabilities = { bounding: caps, effective: caps, permitted: caps, ...(inheritable ? { inheritable, ambient: inheritable } : {}) };
      });
      t.equal(env.run(['run', '--detach', '--bundle', b, id]).status, 0);
      const r = env.run(['exec', '--cap', 'CAP_NET_RAW', id, 'grep', '^Cap', '/proc/self/status']);
      t.equal(r.status, 0, r.stderr);
      const s = status(r.stdout);
      const added = mask(CAP.CHOWN, CAP.KILL, CAP.NET_RAW);
      t.equal(s.CapBnd, added, `${id}: bounding`);
      t.equal(s.CapPrm, added, `${id}: permitted`);
      t.equal(s.CapEff, added, `${id}: effective`);
      t.equal(s.CapInh, inheritable ? mask(CAP.KILL) : mask(), `${id}: inheritable as configured, never the added one`);
      // With an inheritable set the added capability goes to ambient too, where the kernel
      // keeps it only if it is also inheritable: not here.
      t.equal(s.CapAmb, inheritable ? mask(CAP.KILL) : mask(), `${id}: ambient`);
      t.equal(env.run(['delete', '--force', id]).status, 0);
    }
  });

  for (const cgroupns of [false, true]) {
    t.test(`a cgroup mount is read-only unless "rw" is asked for (cgroup namespace: ${cgroupns})`, async (t) => {
      const cg = (options: string[]) => (c: any) => {
        c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options });
        if (cgroupns) c.linux.namespaces.push({ type: 'cgroup' });
      };
      const script = 'grep " /sys/fs/cgroup" /proc/self/mountinfo | cut -d" " -f5,6 | sort; touch /sys/fs/cgroup/x 2>&1 | grep -c Read-only; mkdir /sys/fs/cgroup/pids/escape 2>&1 | grep -c Read-only';
      const ro = inside(`cg-ro-${cgroupns}`, cg(['nosuid', 'noexec', 'nodev']), script);
      t.equal(ro.status, 0, ro.stderr);
      const lines = ro.stdout.trim().split('\n');
      const mounts = lines.filter((l) => l.startsWith('/'));
      t.ok(mounts.length > 2, `the cgroup tree is there (${mounts.length} mounts)`);
      for (const m of mounts) t.match(m, / ro,/, `${m}: read-only`);
      t.same(lines.slice(-2), ['1', '1'], 'neither the tmpfs nor a hierarchy can be written');
      const rw = inside(`cg-rw-${cgroupns}`, cg(['nosuid', 'noexec', 'nodev', 'rw']), 'grep " /sys/fs/cgroup/pids " /proc/self/mountinfo | cut -d" " -f6');
      t.equal(rw.status, 0, rw.stderr);
      t.match(rw.stdout, /^rw,/, 'asked for rw: a hierarchy is writable');
    });
  }

  const lsm = hostLsm();
  t.test('AppArmor and SELinux labels where the LSM is not enabled: a clear error, nothing made', async (t) => {
    const cases: [string, string, (c: any) => void][] = [];
    if (!lsm.apparmor) cases.push(['apparmor', '/process/apparmorProfile', (c) => (c.process.apparmorProfile = 'capsa-test')]);
    if (!lsm.selinux) {
      cases.push(['selinux', '/process/selinuxLabel', (c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0')]);
      cases.push(['mountlabel', '/linux/mountLabel', (c) => (c.linux.mountLabel = 'system_u:object_r:container_file_t:s0')]);
    }
    if (!cases.length) return void t.pass('both LSMs are enabled here: nothing to refuse');
    for (const [id, pointer, edit] of cases) {
      const r = inside(id, edit, 'true');
      t.equal(r.status, 1, id);
      t.match(r.stderr, new RegExp(`config\\.json: ${pointer}: ".*" asks for (AppArmor|SELinux), which is not enabled on this host`), id);
      t.same(leftovers(env, id), []);
    }
  });
  // AppArmor profiles and SELinux labels applied: security-apparmor.test.ts and
  // security-selinux.test.ts (each in its boot of the v2 VM on this machine).
}
