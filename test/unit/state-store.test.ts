// The state directory's files without root: what readers make of damaged ones, the order
// in which a delete removes them, and the kill points the crash tests derive from a trace.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseState, readIntent, removeStateDir, STATE_VERSION, UnreadableStateError, writeIntent } from '../../lib/state/store';
import { killPoints, samplePoints } from '../helpers/crash';

const good = {
  version: STATE_VERSION,
  id: 'c1',
  phase: 'created',
  pid: 42,
  startTime: '123',
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '2026-01-01T00:00:00Z',
  owner: 'root',
  cgroup: { path: '/capsa/c1', dirs: [] },
  config: { ociVersion: '1.3.0' },
};

t.test('parseState: a good state.json, and each way one can be damaged', async (t) => {
  t.same(parseState(JSON.stringify(good), 'c1', '/x/state.json'), good);
  const cases: [string, string, RegExp][] = [
    ['empty', '', /state: \/x\/state\.json: is empty; `delete --force c1` removes the container/],
    ['truncated', JSON.stringify(good).slice(0, 40), /is not valid JSON \(truncated or corrupt: /],
    ['not an object', '[1]', /is not a JSON object/],
    ['newer', JSON.stringify({ ...good, version: STATE_VERSION + 1 }), /was written by a newer capsa \(state version 2; this capsa reads version 1\)/],
    ['no version', JSON.stringify({ ...good, version: undefined }), /has state version undefined; this capsa reads version 1/],
    ['another id', JSON.stringify({ ...good, id: 'c2' }), /belongs to container "c2"/],
    ['bad fields', JSON.stringify({ ...good, pid: -1, cgroup: { path: 1 }, config: null }), /lacks a valid pid, cgroup, config/],
  ];
  for (const [what, text, why] of cases) {
    t.throws(() => parseState(text, 'c1', '/x/state.json'), why, what);
    try {
      parseState(text, 'c1', '/x/state.json');
    } catch (e) {
      t.type(e, UnreadableStateError, `${what}: an UnreadableStateError (delete --force goes by intent.json)`);
    }
  }
});

t.test('intent.json: read back; damaged or missing reads as undefined', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'capsa-intent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(readIntent(dir), undefined);
  writeIntent(dir, { cgroup: '/capsa/c1', hostMounts: false, rootfs: '/r' });
  t.same(readIntent(dir), { cgroup: '/capsa/c1', cgroupDirs: undefined, hostMounts: false, rootfs: '/r' }, 'before the cgroup is claimed: no directories');
  writeIntent(dir, { cgroup: '/capsa/c1', cgroupDirs: ['/sys/fs/cgroup/pids/capsa/c1'], hostMounts: true, rootfs: '/r' });
  t.same(readIntent(dir)?.cgroupDirs, ['/sys/fs/cgroup/pids/capsa/c1']);
  t.same(readdirSync(dir), ['intent.json'], 'no temp file is left');
  writeFileSync(join(dir, 'intent.json'), JSON.stringify({ cgroup: '/capsa/c1', rootfs: '/r', cgroupDirs: [1], later: true }));
  t.equal(readIntent(dir), undefined, 'a malformed one is not half trusted');
  writeFileSync(join(dir, 'intent.json'), JSON.stringify({ cgroup: '/capsa/c1', rootfs: '/r', fromTheFuture: { x: 1 } }));
  t.same(readIntent(dir), { cgroup: '/capsa/c1', cgroupDirs: undefined, hostMounts: false, rootfs: '/r' }, 'fields it does not know are ignored');
});

t.test('removeStateDir: state.json and intent.json go last, and re-running finishes the job', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'capsa-rm-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'c1');
  mkdirSync(dir);
  for (const f of ['state.json', 'intent.json', 'exec.fifo', '.state.json.tmp', 'kill.thaw']) writeFileSync(join(dir, f), '');
  removeStateDir(dir);
  t.notOk(existsSync(dir));
  removeStateDir(dir);
  t.pass('a second run is a no-op');
});

// A trace of create as `strace -o` writes it, cut down.
const trace = `execve("/usr/bin/node", ["node", "capsa.js", "--root", "/run/r", "create", "c1"], 0x7ff /* 3 vars */) = 0
openat(AT_FDCWD, "/usr/lib/x.so", O_RDONLY|O_CLOEXEC) = 3
read(3, "\\177ELF", 832) = 832
close(3) = 0
mkdir("/run/r", 0711) = -1 EEXIST (File exists)
mkdir("/run/r/c1", 0711) = 0
openat(AT_FDCWD, "/run/r/c1", O_RDONLY|O_CLOEXEC) = 18
flock(18, LOCK_EX) = 0
openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 19
read(19, "root:x:0:0", 4096) = 10
close(19) = 0
openat(AT_FDCWD, "/run/r/c1/.intent.json.tmp", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0600) = 19
write(19, "{}", 2) = 2
close(19) = 0
rename("/run/r/c1/.intent.json.tmp", "/run/r/c1/intent.json") = 0
mkdir("/sys/fs/cgroup/cpu/capsa", 0755) = 0
mkdir("/sys/fs/cgroup/cpu/capsa/c1", 0755) = 0
write(17, "\\1\\0\\0\\0\\0\\0\\0\\0", 8) = 8
clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, stack=0x1}, 88) = 77
socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, [19, 20]) = 0
clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x1}, 88) = 691
write(19, "CPSA", 4) = 4
read(19, "CPSA", 16) = 16
read(19, "CPSA", 16) = 16
close(19) = 0
close(18) = 0
exit_group(0) = ?
+++ exited with 0 +++
`;

t.test('killPoints: the calls that change the machine, from the first one under the root', async (t) => {
  const points = killPoints(trace, '/run/r');
  t.same(
    points.map((p) => `${p.syscall}#${p.n}`),
    ['mkdir#1', 'mkdir#2', 'flock#1', 'openat#4', 'write#1', 'close#3', 'rename#1', 'mkdir#3', 'mkdir#4', 'socketpair#1', 'clone3#2', 'write#3', 'read#3', 'read#4', 'close#4', 'close#5'],
    "the execve's argv, reads of files, Node's own fds and threads are not points",
  );
  t.same(
    samplePoints(points).map((p) => `${p.syscall}#${p.n}`),
    ['mkdir#1', 'mkdir#2', 'flock#1', 'openat#4', 'rename#1', 'mkdir#3', 'socketpair#1', 'clone3#2', 'write#3', 'read#3', 'read#4', 'close#4', 'close#5'],
    'sampled: the first of each run of one kind; every message and the lock are kinds of their own',
  );
});
