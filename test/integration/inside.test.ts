// What the process sees from inside the container: identity, capabilities, limits,
// namespaces, mounts, devices, masked and read-only paths.
import { readlinkSync } from 'node:fs';
import t, { Test } from 'tap';
import { Env, skipReason } from '../helpers/capsa';

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('inside');
  t.teardown(() => env.cleanup());

  /** Runs `script` in a fresh container and returns its stdout (failing the test on error). */
  const inside = (t: Test, id: string, script: string, edit: (c: any) => void = () => {}) => {
    const b = env.bundle(id, (c) => {
      c.process.args = ['sh', '-c', script];
      edit(c);
    });
    const r = env.run(['run', '--bundle', b, id]);
    t.equal(r.status, 0, `container ${id} ran: ${r.stderr}`);
    return r.stdout;
  };

  t.test('user, groups, umask, cwd, env, hostname', async (t) => {
    const out = inside(t, 'ids', 'id -u; id -g; id -G; umask; pwd; echo $GREETING; hostname', (c) => {
      c.process.user = { uid: 1000, gid: 1001, additionalGids: [5, 1002], umask: 0o027 };
      c.process.cwd = '/tmp';
      c.process.env.push('GREETING=hi there');
      c.hostname = 'inner';
    });
    t.same(out.trim().split('\n'), ['1000', '1001', '1001 5 1002', '0027', '/tmp', 'hi there', 'inner']);
  });

  t.test('capabilities: the five sets, as the kernel carries them across execve', async (t) => {
    const caps = (out: string) => Object.fromEntries(out.trim().split('\n').map((l) => l.split(/:\s+/)));
    const mask = (...bits: number[]) => bits.reduce((m, b) => m | (1n << BigInt(b)), 0n).toString(16).padStart(16, '0');
    const config = (uid: number) => (c: any) => {
      c.process.user = { uid, gid: uid };
      c.process.capabilities = {
        bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
        effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        inheritable: ['CAP_KILL'],
        ambient: ['CAP_KILL'],
      };
      c.process.noNewPrivileges = false;
    };
    // A non-root process keeps exactly its ambient set (which needs permitted + inheritable).
    const user = caps(inside(t, 'caps-user', 'grep ^Cap /proc/self/status', config(1000)));
    t.equal(user.CapBnd, mask(5, 10, 0));
    t.equal(user.CapPrm, mask(5));
    t.equal(user.CapEff, mask(5));
    t.equal(user.CapInh, mask(5));
    t.equal(user.CapAmb, mask(5));
    // Root gets its whole bounding set back at execve (the kernel's rule, as under runc).
    const root = caps(inside(t, 'caps-root', 'grep ^Cap /proc/self/status', config(0)));
    t.equal(root.CapBnd, mask(5, 10, 0));
    t.equal(root.CapPrm, mask(5, 10, 0));
    t.equal(root.CapInh, mask(5));
  });

  t.test('a non-root user with no capabilities configured has none', async (t) => {
    const out = inside(t, 'nocaps', 'grep -E "^Cap(Eff|Prm|Amb|Inh)" /proc/self/status', (c) => {
      c.process.user = { uid: 65534, gid: 65534 };
      delete c.process.capabilities;
    });
    t.match(out, /CapInh:\s+0{16}\nCapPrm:\s+0{16}\nCapEff:\s+0{16}\n/);
  });

  t.test('rlimits and no_new_privs and oom_score_adj', async (t) => {
    const out = inside(t, 'limits', 'ulimit -n; ulimit -Hn; ulimit -s; grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj', (c) => {
      c.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 512, hard: 768 },
        { type: 'RLIMIT_STACK', soft: 4194304, hard: 4194304 },
      ];
      c.process.oomScoreAdj = 123;
    });
    t.same(out.trim().split('\n'), ['512', '768', '4096', 'NoNewPrivs:\t1', '123']);
  });

  t.test('raising a hard rlimit beyond the host is an error at create (no CAP_SYS_RESOURCE here)', async (t) => {
    const b = env.bundle('rlimit-up', (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1 << 30 }]));
    const r = env.run(['create', '--bundle', b, 'rlimit-up']);
    const hostHard = Number(require('node:fs').readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\d+\s+(\d+)/)[1]);
    if (hostHard >= 1 << 30) t.equal(r.status, 0, 'the host allows it');
    else {
      t.equal(r.status, 1);
      t.match(r.stderr, /create rlimit-up: rlimit: RLIMIT_NOFILE: setrlimit soft 1024, hard 1073741824: operation not permitted/);
    }
    env.run(['delete', '--force', 'rlimit-up']);
  });

  t.test('namespaces differ from the host, except those not asked for', async (t) => {
    const out = inside(t, 'ns', 'for n in pid net ipc uts mnt cgroup user; do echo $n $(readlink /proc/self/ns/$n); done');
    const inner = Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')));
    for (const n of ['pid', 'net', 'ipc', 'uts', 'mnt']) t.not(inner[n], readlinkSync(`/proc/self/ns/${n}`), `${n} is new`);
    for (const n of ['cgroup', 'user']) t.equal(inner[n], readlinkSync(`/proc/self/ns/${n}`), `${n} is the host's`);
  });

  t.test('pid 1 is the user process; the root is the rootfs, read-only', async (t) => {
    const out = inside(t, 'pid1', 'echo $$; cat /proc/1/cmdline | tr "\\0" " "; echo; touch /x 2>&1 || echo ro-ok');
    const [pid, cmd, ...rest] = out.trim().split('\n');
    t.equal(pid, '1');
    t.match(cmd, /^sh -c /);
    t.match(rest.join('\n'), /ro-ok/);
  });

  t.test('mounts in order with their options', async (t) => {
    const out = inside(t, 'mounts', 'cat /proc/self/mountinfo');
    const mounts = out.trim().split('\n').map((l) => {
      const f = l.split(' ');
      return { dest: f[4], opts: f[5], fstype: f[f.indexOf('-') + 1] };
    });
    const find = (d: string) => mounts.find((m) => m.dest === d);
    t.match(find('/'), { opts: /^ro/ });
    t.match(find('/proc'), { fstype: 'proc' });
    t.match(find('/dev'), { fstype: 'tmpfs', opts: /nosuid/ });
    t.match(find('/dev/pts'), { fstype: 'devpts', opts: /noexec/ });
    t.match(find('/sys'), { fstype: 'sysfs', opts: /^ro/ });
    t.match(find('/dev/mqueue'), { fstype: 'mqueue' });
    const order = mounts.map((m) => m.dest);
    t.ok(order.indexOf('/dev') < order.indexOf('/dev/pts'), '/dev before /dev/pts');
    t.notOk(mounts.some((m) => m.dest.startsWith('/run/capsa') || m.dest.includes('bundle')), 'nothing of the host leaks in');
  });

  t.test('devices and /dev links', async (t) => {
    const out = inside(t, 'devs', 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done; for l in fd stdin ptmx; do readlink /dev/$l; done; head -c 4 /dev/zero | od -An -tx1; echo x > /dev/null && echo null-ok; stat -c "%n %F %t:%T %a %u:%g" /dev/fuse', (c) => {
      c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 5 }];
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }] };
    });
    for (const [d, mm] of [['null', '1:3'], ['zero', '1:5'], ['full', '1:7'], ['random', '1:8'], ['urandom', '1:9'], ['tty', '5:0']])
      t.match(out, new RegExp(`/dev/${d} character special file ${mm} 666`));
    t.match(out, /\/proc\/self\/fd\n\/proc\/self\/fd\/0\npts\/ptmx\n/);
    t.match(out, /00 00 00 00\nnull-ok/);
    t.match(out, /\/dev\/fuse character special file a:e5 600 0:5/);
  });

  t.test('masked paths are empty, read-only paths unwritable', async (t) => {
    const out = inside(t, 'masks', 'wc -c < /proc/keys; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo writable || echo ro', (c) => {
      c.process.capabilities = { bounding: ['CAP_SYS_ADMIN'], effective: ['CAP_SYS_ADMIN'], permitted: ['CAP_SYS_ADMIN'] };
      c.process.noNewPrivileges = false;
    });
    t.same(out.trim().split('\n').map((l) => l.trim()), ['0', '0', 'ro']);
  });

  t.test('sysctls and domainname are applied in the container only', async (t) => {
    const out = inside(t, 'sysctl', 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/kernel/domainname', (c) => {
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '123456789' };
      c.domainname = 'example.org';
      c.linux.readonlyPaths = [];
    });
    t.same(out.trim().split('\n'), ['1', '123456789', 'example.org']);
  });
}

