// SELinux labels applied for real: the container's process runs in its context and its session
// keyring carries it, its tmpfs/devpts mounts (and masked directories) are mounted with the
// mount label and files made on them carry it, its mqueue root is labelled, exec inherits or
// overrides the context, a user namespace changes nothing, a context the policy does not
// know is a clear error and one it forbids is refused at exec (enforcing). Needs a kernel
// running SELinux with capsa's test policy (spec-fixtures/selinux): on this machine that is
// the v2 VM booted with security=selinux, where cgroups-v2vm.test.ts runs this file.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { hostLsm } from '../../lib/registry';
import { Env, skipReason } from '../helpers/capsa';
import { leftovers } from '../helpers/machine';

// Labels of the form container engines give (MLS, categories with a comma).
const LABEL = 'system_u:system_r:container_t:s0:c1,c2';
const MOUNT_LABEL = 'system_u:object_r:container_file_t:s0:c1,c2';
const OTHER = 'system_u:system_r:capsa_other_t:s0:c3,c4';
const DENIED = 'system_u:system_r:capsa_denied_t:s0';
const UNKNOWN = 'system_u:system_r:capsa_unknown_t:s0';

/** Whether the loaded policy knows `context` (selinuxfs's context file validates it). */
function validContext(context: string): boolean {
  let fd = -1;
  try {
    fd = openSync('/sys/fs/selinux/context', 'r+');
    writeSync(fd, context);
    readSync(fd, Buffer.alloc(256));
    return true;
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** A file's SELinux label, by coreutils' stat (linked with libselinux on Debian). */
function fileLabel(path: string): string {
  const r = spawnSync('stat', ['-c', '%C', path], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : `stat failed: ${r.stderr.trim()}`;
}

/** The label of the keyring named `name` (KEYCTL_GET_SECURITY through perl's syscall, which
 *  passes a number as a number only once it is one: hence the + 0). */
function keyringLabel(name: string): string {
  const line = readFileSync('/proc/keys', 'utf8')
    .split('\n')
    .find((l) => / keyring +/.test(l) && l.split(/\s+/)[8] === `${name}:`);
  if (!line) return `no keyring ${name} in /proc/keys`;
  const id = parseInt(line.split(' ')[0] as string, 16);
  const perl = 'my $b = "\\0" x 4096; my $n = syscall(250, 17, $ARGV[0] + 0, $b, 4096); die "keyctl: $!\\n" if $n < 0; print substr($b, 0, $n - 1)';
  const r = spawnSync('perl', ['-e', perl, String(id)], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : `perl: ${r.stderr.trim()}`;
}

const attr = (pid: number | string) => readFileSync(`/proc/${pid}/attr/current`, 'utf8').replace(/\0?\n?$/, '');

const skip =
  skipReason() ??
  (!hostLsm().selinux ? 'SELinux is not running on this host (on this machine the file runs in the v2 VM: cgroups-v2vm.test.ts)' : undefined) ??
  (!validContext(OTHER) ? "needs capsa's test policy loaded (spec-fixtures/selinux/load-policy.sh, which the v2 VM runs)" : undefined);
if (skip) t.plan(0, skip);
else {
  t.setTimeout(5 * 60 * 1000);
  const env = new Env('selinux');
  const dir = mkdtempSync(join(tmpdir(), 'capsa-selinux-'));
  t.teardown(() => {
    env.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const enforcing = readFileSync('/sys/fs/selinux/enforce', 'utf8').trim() === '1';
  t.comment(`SELinux ${enforcing ? 'enforcing' : 'permissive'}`);

  t.test('the container runs in its context, with its keyring and its mounts labelled', async (t) => {
    const id = `se-${process.pid}`;
    const b = env.bundle(id, (c) => {
      c.process.selinuxLabel = LABEL;
      c.linux.mountLabel = MOUNT_LABEL;
      c.process.args = ['sh', '-c', 'cat /proc/self/attr/current > /tmp/current; touch /tmp/file /dev/shm/file; exec sleep 120'];
    });
    const r = env.run(['run', '-d', '--bundle', b, id]);
    t.equal(r.status, 0, r.stderr);
    const pid = JSON.parse(env.run(['state', id]).stdout).pid;
    t.equal(attr(pid), LABEL, 'attr/current, read from outside');
    spawnSync('sh', ['-c', `while [ ! -s /proc/${pid}/root/tmp/current ]; do sleep 0.1; done`], { timeout: 20000 });
    t.equal(readFileSync(`/proc/${pid}/root/tmp/current`, 'utf8').replace(/\0?\n?$/, ''), LABEL, 'attr/current, read inside');
    t.equal(keyringLabel(`_ses.${id}`), LABEL, 'the session keyring');

    const supers = new Map(
      readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.split(' ')[4], l.split(' - ')[1]?.split(' ')[2] ?? ''] as [string, string]),
    );
    const ctx = `context="${MOUNT_LABEL}"`;
    for (const m of ['/dev', '/dev/pts', '/dev/shm', '/tmp', '/sys/firmware']) t.match(supers.get(m), ctx, `${m} is mounted with the mount label`);
    for (const m of ['/proc', '/sys', '/dev/mqueue']) t.notMatch(supers.get(m), 'context=', `${m} is not`);
    t.equal(fileLabel(`/proc/${pid}/root/tmp/file`), MOUNT_LABEL, 'a file made on /tmp');
    t.equal(fileLabel(`/proc/${pid}/root/dev/shm/file`), MOUNT_LABEL, 'a file made on /dev/shm');
    t.equal(fileLabel(`/proc/${pid}/root/dev/mqueue`), MOUNT_LABEL, 'the mqueue root (labelled after mounting, as runc)');
    t.equal(fileLabel(`/proc/${pid}/root/sys/firmware`), MOUNT_LABEL, 'a masked directory');

    const exec = (args: string[]) => {
      const r = env.run(['exec', ...args]);
      return { ...r, stdout: r.stdout.replace(/\0?\n?$/, '') };
    };
    let e = exec([id, 'cat', '/proc/self/attr/current']);
    t.equal(e.status, 0, e.stderr);
    t.equal(e.stdout, LABEL, 'exec inherits the container\'s context');
    e = exec(['--process-label', OTHER, id, 'cat', '/proc/self/attr/current']);
    t.equal(e.status, 0, e.stderr);
    t.equal(e.stdout, OTHER, 'exec --process-label');
    writeFileSync(join(dir, 'process.json'), JSON.stringify({ user: { uid: 0, gid: 0 }, args: ['cat', '/proc/self/attr/current'], cwd: '/', selinuxLabel: OTHER }));
    e = exec(['--process', join(dir, 'process.json'), id]);
    t.equal(e.status, 0, e.stderr);
    t.equal(e.stdout, OTHER, 'exec process.json selinuxLabel');
    t.equal(env.run(['delete', '--force', id]).status, 0);
    t.same(leftovers(env, id, pid), []);
  });

  t.test('in a user namespace as a non-root user: the same context and mount label', async (t) => {
    const b = env.bundle('userns', (c) => {
      c.process.selinuxLabel = LABEL;
      c.linux.mountLabel = MOUNT_LABEL;
      c.process.user = { uid: 1000, gid: 1000 };
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.process.args = ['sh', '-c', 'id -u; cat /proc/self/attr/current; echo; grep -c "^[^ ]* [^ ]* [^ ]* / /tmp .*context=" /proc/self/mountinfo'];
    });
    const r = env.run(['run', '--bundle', b, 'userns']);
    t.equal(r.status, 0, r.stderr);
    t.same(r.stdout.replace(/\0/g, '').trim().split('\n'), ['1000', LABEL, '1']);
    t.same(leftovers(env, 'userns'), []);
  });

  t.test('a context the policy does not know: a clear error, nothing left', async (t) => {
    const b = env.bundle('unknown', (c) => (c.process.selinuxLabel = UNKNOWN));
    const r = env.run(['run', '--bundle', b, 'unknown']);
    t.equal(r.status, 1);
    t.match(r.stderr, `selinux: self/attr/keycreate: "${UNKNOWN}" is not a context of the loaded policy: invalid argument`);
    const nb = env.bundle('unknown2', (c) => (c.process.selinuxLabel = UNKNOWN));
    const n = env.run(['run', '--no-new-keyring', '--bundle', nb, 'unknown2']);
    t.equal(n.status, 1);
    t.match(n.stderr, `selinux: thread-self/attr/exec: "${UNKNOWN}" is not a context of the loaded policy: invalid argument`);
    t.same(leftovers(env, 'unknown'), []);
    t.same(leftovers(env, 'unknown2'), []);
  });

  t.test('a context the policy forbids entering: the exec is refused', { skip: !enforcing && 'SELinux is permissive' }, async (t) => {
    // Without no_new_privs, so that what refuses is the policy's transition rule (with it,
    // the kernel checks nnp_transition first and says EPERM).
    const b = env.bundle('denied', (c) => {
      c.process.selinuxLabel = DENIED;
      c.process.noNewPrivileges = false;
    });
    const r = env.run(['run', '--bundle', b, 'denied']);
    t.not(r.status, 0);
    t.match(r.stderr, /exec: \/bin\/sh: exec: "sh": permission denied/i);
    t.same(leftovers(env, 'denied'), []);
  });
}
