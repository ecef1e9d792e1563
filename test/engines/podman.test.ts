// capsa under podman 4.3 with conmon, driven as it drives runc: `podman --runtime <capsa>` on
// private storage, cgroupfs, no network. Podman calls capsa without --root (so /run/capsa)
// and with --log-format=json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { skipReason } from '../helpers/capsa';
import { IMAGE } from '../helpers/image';
import { DEFAULT_ROOT, Podman, podmanMissing } from '../helpers/podman';

const pm = new Podman('podman');
const skip = skipReason() ?? podmanMissing() ?? (pm.lock() ? undefined : 'the runtime-tools suite holds /tmp/rt.lock (it shares /run/capsa)');
if (skip) {
  t.plan(0, skip);
  pm.cleanup();
} else {
  t.teardown(() => pm.cleanup());
  t.before(() => pm.loadImages([IMAGE]));

  const run = (args: string[], o: { flags?: string[]; tty?: boolean } = {}) =>
    pm.podman(['run', ...pm.runFlags, ...(o.flags ?? []), IMAGE, ...args], { tty: o.tty });
  const fullId = (name: string) => pm.podman(['inspect', '--format', '{{.Id}}', name]).stdout.trim();
  const cgroupOf = (pid: number, ctrl: string) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').match(new RegExp(`^\\d+:${ctrl}:(.*)$`, 'm'))?.[1];

  t.test('podman run --rm: stdout, and exit code 3 comes back', async (t) => {
    const r = run(['sh', '-c', 'echo hello from capsa; exit 3'], { flags: ['--rm'] });
    t.equal(r.status, 3, r.stderr);
    t.equal(r.stdout, 'hello from capsa\n');
    t.same(pm.ids(), [], '--rm removed it');
  });

  t.test('podman run -d, exec, stop, rm; capsa\'s state in /run/capsa', async (t) => {
    const r = run(['sh', '-c', 'trap "exit 42" TERM; sleep 300 & wait'], { flags: ['-d', '--name', 'pd'] });
    t.equal(r.status, 0, r.stderr);
    const id = fullId('pd');
    t.equal(r.stdout.trim(), id);
    const state = JSON.parse(readFileSync(join(DEFAULT_ROOT, id, 'state.json'), 'utf8'));
    t.equal(state.id, id, 'podman calls capsa without --root: the default root holds it');
    t.equal(pm.podman(['inspect', '--format', '{{.State.Status}}', 'pd']).stdout.trim(), 'running');
    const pid = Number(pm.podman(['inspect', '--format', '{{.State.Pid}}', 'pd']).stdout.trim());
    t.equal(cgroupOf(pid, 'memory'), `${pm.cgroupParent}/libpod-${id}`, 'under our --cgroup-parent');

    const e = pm.podman(['exec', 'pd', 'sh', '-c', 'echo exec-out; exit 5']);
    t.equal(e.status, 5, e.stderr);
    t.equal(e.stdout, 'exec-out\n');
    const u = pm.podman(['exec', '--user', '1000', '--workdir', '/tmp', 'pd', 'sh', '-c', 'echo $(id -u):$(pwd)']);
    t.equal(u.stdout, '1000:/tmp\n', u.stderr);

    const stop = pm.podman(['stop', '--time', '10', 'pd']);
    t.equal(stop.status, 0, stop.stderr);
    t.equal(pm.podman(['inspect', '--format', '{{.State.ExitCode}}', 'pd']).stdout.trim(), '42', 'SIGTERM reached the trap');
    t.equal(pm.podman(['rm', 'pd']).status, 0);
    t.notOk(existsSync(join(DEFAULT_ROOT, id)), 'capsa\'s state directory is gone');
    t.same(pm.ids(), []);
  });

  t.test('podman run --read-only: /tmp, /run and /var/tmp are tmpfs copies of the image\'s (tmpcopyup)', async (t) => {
    const r = run(['sh', '-c', 'touch /x 2>&1; cat /run/from-image; stat -c %a /tmp; touch /tmp/y /run/y /var/tmp/y && echo writable'], { flags: ['--rm', '--read-only'] });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, 'touch: /x: Read-only file system\nfrom the image\n1777\nwritable\n');
  });

  t.test('podman run --device and --privileged: fileMode with the type bits, as podman writes it', async (t) => {
    const dev = run(['stat', '-c', '%F %t:%T %a', '/dev/fuse'], { flags: ['--rm', '--device', '/dev/fuse'] });
    t.equal(dev.status, 0, dev.stderr);
    t.equal(dev.stdout, 'character special file a:e5 600\n', "the host node's mode, as podman passes it");
    const priv = run(['sh', '-c', 'grep CapEff /proc/self/status; stat -c "%F %t:%T" /dev/loop0'], { flags: ['--rm', '--privileged'] });
    t.equal(priv.status, 0, priv.stderr);
    const bounding = readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\t(\w+)$/m)![1];
    t.equal(priv.stdout, `CapEff:\t${bounding}\nblock special file 7:0\n`, "every capability this machine has, and the host's devices");
  });

  t.test('podman exec -t', async (t) => {
    t.equal(run(['sleep', '300'], { flags: ['-d', '--name', 'pt'] }).status, 0);
    const e = pm.podman(['exec', '-t', 'pt', 'sh', '-c', 'tty; exit 6'], { tty: true });
    t.equal(e.status, 6, e.stderr);
    t.match(e.stdout, /\/dev\/pts\/\d+\r*\n$/);
    t.equal(pm.podman(['rm', '--force', '--time', '0', 'pt']).status, 0);
  });

  t.test('podman pause and unpause', async (t) => {
    t.equal(run(['sleep', '300'], { flags: ['-d', '--name', 'pp'] }).status, 0);
    t.equal(pm.podman(['pause', 'pp']).status, 0);
    t.equal(pm.podman(['inspect', '--format', '{{.State.Status}}', 'pp']).stdout.trim(), 'paused');
    t.equal(readFileSync(`/sys/fs/cgroup/freezer${pm.cgroupParent}/libpod-${fullId('pp')}/freezer.state`, 'utf8').trim(), 'FROZEN');
    t.equal(pm.podman(['unpause', 'pp']).status, 0);
    t.equal(pm.podman(['inspect', '--format', '{{.State.Status}}', 'pp']).stdout.trim(), 'running');
    t.equal(pm.podman(['rm', '--force', '--time', '0', 'pp']).status, 0);
    t.same(pm.ids(), []);
  });

  t.test('podman run --memory: the limit is in the container\'s cgroup', async (t) => {
    const r = run(['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'], { flags: ['--rm', '--memory', '64m'] });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, `${64 << 20}\n`);
  });

  t.test('podman run --user and --workdir', async (t) => {
    const r = run(['sh', '-c', 'echo $(id -u):$(id -g):$(pwd)'], { flags: ['--rm', '--user', '1000:1000', '--workdir', '/home/user'] });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, '1000:1000:/home/user\n');
  });

  t.test('podman run -t: a terminal, via --console-socket', async (t) => {
    const r = run(['sh', '-c', 'tty; exit 4'], { flags: ['--rm', '-t'], tty: true });
    t.equal(r.status, 4, r.stderr);
    t.match(r.stdout, /\/dev\/pts\/0\r*\n$/);
  });

  t.test('podman run of a nonexistent command: 127, the cause shown, nothing left', async (t) => {
    const r = run(['nonexistent-binary'], { flags: ['--rm', '--name', 'pnx'] });
    t.equal(r.status, 127, 'podman maps "executable file not found" to 127');
    t.match(r.stderr, /executable file not found in \$PATH/);
    t.same(pm.ids(), []);
  });
}
