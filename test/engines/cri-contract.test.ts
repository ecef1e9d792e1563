// The Kubernetes path, replayed: every runtime call containerd 1.6's CRI plugin (through
// containerd-shim-runc-v2) made for one pod — sandbox, app container, limits container —
// in its order (../shared/real-configs/runtime-calls-cri.txt), against bin/capsa, with the
// configs it generated (spec-fixtures/real/containerd-1.6.20-cri/) and the global flags the
// shim passes. Like the shim, this process is the subreaper that reaps what capsa leaves,
// reads pids from --pid-file and errors from <bundle>/log.json.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { Test } from 'tap';
import { native } from '../../lib/native';
import { CAPSA, ROOT_DIR, skipReason } from '../helpers/capsa';
import { waitFor } from '../helpers/machine';
import { buildRootfs } from '../helpers/rootfs';

const FIXTURES = join(ROOT_DIR, 'spec-fixtures', 'real', 'containerd-1.6.20-cri');
const RECORDED_SANDBOX = '65797fd45c2e052ec36db73a75b55165d386a1f1fee54f9b909b7b9ad778b2ab';
const RECORDED_PID = 28978;

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const work = mkdtempSync('/tmp/capsa-cri-');
  // As the shim: --root <runtime Root>/<containerd namespace>.
  const runtimeRoot = `/run/capsa-test-cri-${process.pid}`;
  const root = join(runtimeRoot, 'k8s.io');
  const cgroupParent = `/capsa-test-cri-${process.pid}`;
  const ids = { sandbox: 'sandbox-' + process.pid, app: 'app-' + process.pid, limits: 'limits-' + process.pid };
  const bundles: Record<string, string> = {};
  const pids: Record<string, number> = {};
  const podFiles = join(work, 'pod');

  t.teardown(() => {
    for (const id of Object.values(ids)) if (existsSync(join(root, id))) spawnSync(CAPSA, ['--root', root, 'delete', '--force', id]);
    rmSync(runtimeRoot, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    for (const ctrl of cgroupControllers()) rmTree(join('/sys/fs/cgroup', ctrl, cgroupParent));
  });

  // The shim is the subreaper of everything the runtime starts; so are we.
  native().setSubreaper();

  /** The recorded config, with this run's rootfs, ids, cgroups, pod files and sandbox pid. */
  function bundle(name: keyof typeof ids, fixture: string): string {
    const dir = join(work, name);
    buildRootfs(join(dir, 'rootfs'));
    let text = readFileSync(join(FIXTURES, fixture), 'utf8');
    for (const dir of ['/tmp/clients/cri/state/io.containerd.grpc.v1.cri/sandboxes/', '/tmp/clients/cri/root/io.containerd.grpc.v1.cri/sandboxes/'])
      text = text.split(dir + RECORDED_SANDBOX).join(podFiles);
    text = text.split(`/proc/${RECORDED_PID}/`).join(`/proc/${pids.sandbox}/`).split(RECORDED_SANDBOX).join(ids.sandbox);
    const config = JSON.parse(text);
    config.linux.cgroupsPath = `${cgroupParent}/pod1/${ids[name]}`;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
    return dir;
  }

  interface Call {
    status: number | null;
    stderr: string;
    /** The msg of the last error line in log.json, as the shim reads it. */
    logError?: string;
  }

  /** One runtime call as the shim makes it, the container's stdio in files. */
  function call(name: keyof typeof ids, args: string[], o: { input?: string; stdio?: string } = {}): Call {
    const log = join(bundles[name], 'log.json');
    const before = existsSync(log) ? readFileSync(log, 'utf8').length : 0;
    const out = openSync(join(bundles[name], `${o.stdio ?? 'ctl'}.out`), 'a');
    const err = openSync(join(bundles[name], `${o.stdio ?? 'ctl'}.err`), 'a');
    let stdin: 'ignore' | number = 'ignore';
    if (o.input !== undefined) {
      writeFileSync(join(work, 'stdin'), o.input);
      stdin = openSync(join(work, 'stdin'), 'r');
    }
    const r = spawnSync(CAPSA, ['--root', root, '--log', log, '--log-format', 'json', ...args], { stdio: [stdin, out, err], timeout: 30000 });
    for (const fd of [out, err, stdin]) if (typeof fd === 'number') closeSync(fd);
    const lines = existsSync(log) ? readFileSync(log, 'utf8').slice(before).trim().split('\n').filter(Boolean) : [];
    const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
    const stderr = readFileSync(join(bundles[name], `${o.stdio ?? 'ctl'}.err`), 'utf8');
    return { status: r.status, stderr, logError: errors.pop()?.msg };
  }

  const ok = (t: Test, c: Call) => {
    t.equal(c.status, 0, c.logError ?? c.stderr);
    t.equal(c.logError, undefined, 'no error line in log.json');
  };
  const status = (id: string) => JSON.parse(spawnSync(CAPSA, ['--root', root, 'state', id], { encoding: 'utf8' }).stdout || '{}').status;
  const readPid = (file: string) => Number(readFileSync(file, 'utf8'));

  /** exec --process FILE --detach --pid-file, then reap it as the shim does: its output and status. */
  function exec(t: Test, name: keyof typeof ids, fixture: string, extra: string[] = []): { code: number | null; out: string; err: string } {
    const process = join(bundles[name], `${fixture}`);
    writeFileSync(process, readFileSync(join(FIXTURES, fixture)));
    const pidFile = join(bundles[name], `${fixture}.pid`);
    const tag = `exec-${fixture}`;
    const c = call(name, ['exec', '--process', process, ...extra, '--detach', '--pid-file', pidFile, ids[name]], { stdio: tag });
    ok(t, c);
    const st = native().waitpid(readPid(pidFile));
    return { code: st.code, out: readFileSync(join(bundles[name], `${tag}.out`), 'utf8'), err: readFileSync(join(bundles[name], `${tag}.err`), 'utf8') };
  }


  t.test('1-2 sandbox: create --bundle --pid-file, start', async (t) => {
    mkdirSync(join(podFiles, 'shm'), { recursive: true });
    writeFileSync(join(podFiles, 'hostname'), 'cri-pod\n');
    writeFileSync(join(podFiles, 'hosts'), '127.0.0.1 localhost\n');
    writeFileSync(join(podFiles, 'resolv.conf'), 'nameserver 127.0.0.1\n');
    bundles.sandbox = bundle('sandbox', 'config-bin-sleep-infinity.json');
    const pidFile = join(bundles.sandbox, 'init.pid');
    ok(t, call('sandbox', ['create', '--bundle', bundles.sandbox, '--pid-file', pidFile, ids.sandbox]));
    pids.sandbox = readPid(pidFile);
    t.equal(status(ids.sandbox), 'created');
    ok(t, call('sandbox', ['start', ids.sandbox]));
    t.equal(status(ids.sandbox), 'running');
    t.equal(readFileSync(`/proc/${pids.sandbox}/cmdline`, 'utf8'), '/bin/sleep\0infinity\0');
  });

  t.test('3-4 app: create joining the sandbox\'s ipc, uts and network namespaces by path, start', async (t) => {
    bundles.app = bundle('app', 'config-sh-c-trap-echo-got-term-exit-0-term.json');
    const pidFile = join(bundles.app, 'init.pid');
    ok(t, call('app', ['create', '--bundle', bundles.app, '--pid-file', pidFile, ids.app], { stdio: 'init' }));
    pids.app = readPid(pidFile);
    for (const ns of ['ipc', 'uts', 'net']) t.equal(readlinkSync(`/proc/${pids.app}/ns/${ns}`), readlinkSync(`/proc/${pids.sandbox}/ns/${ns}`), `${ns} joined`);
    for (const ns of ['pid', 'mnt']) t.not(readlinkSync(`/proc/${pids.app}/ns/${ns}`), readlinkSync(`/proc/${pids.sandbox}/ns/${ns}`), `own ${ns}`);
    ok(t, call('app', ['start', ids.app]));
    t.equal(status(ids.app), 'running');
    await waitFor(() => readFileSync(join(bundles.app, 'init.out'), 'utf8') === 'hello-from-cri\n');
    t.equal(readFileSync(join(bundles.app, 'init.err'), 'utf8'), 'to-stderr\n');
  });

  t.test('5-7 exec: output and exit status (exec -s twice, a streaming exec)', async (t) => {
    t.same(exec(t, 'app', 'exec-process-sh-c-echo-exec-out-echo-exec-err-2.json'), { code: 0, out: 'exec-out\n', err: 'exec-err\n' });
    t.same(exec(t, 'app', 'exec-process-sh-c-echo-oops-2-exit-7.json'), { code: 7, out: '', err: 'oops\n' });
    t.same(exec(t, 'app', 'exec-process-sh-c-echo-stream-out-exit-3.json'), { code: 3, out: 'stream-out\n', err: '' });
  });

  t.test('8 exec -it: --console-socket', async (t) => {
    const sock = join(work, 'console.sock');
    const ttyOut = join(work, 'tty.out');
    const receiver = spawn('python3', [join(ROOT_DIR, 'test', 'helpers', 'console-socket.py'), sock, ttyOut], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => receiver.stdout!.once('data', r));
    const done = new Promise((r) => receiver.once('exit', r));
    const r = exec(t, 'app', 'exec-process-sh-c-tty-echo-tty-ok.json', ['--console-socket', sock]);
    t.equal(r.code, 0);
    await done;
    t.match(readFileSync(ttyOut, 'utf8'), /^\/dev\/pts\/\d+\r\ntty-ok\r\n$/);
  });

  t.test('9 exec: masked and read-only paths as the config asks', async (t) => {
    t.same(exec(t, 'app', 'exec-process-sh-c-c-proc-keys-echo-keys-mas.json'), { code: 0, out: 'keys-masked\nfirmware-masked\nproc-sys-ro\n', err: '' });
  });

  t.test('10-11 limits: create with memory and cpu limits, start', async (t) => {
    bundles.limits = bundle('limits', 'config-sh-c-trap-echo-got-term-exit-0-term-1.json');
    const pidFile = join(bundles.limits, 'init.pid');
    ok(t, call('limits', ['create', '--bundle', bundles.limits, '--pid-file', pidFile, ids.limits], { stdio: 'init' }));
    pids.limits = readPid(pidFile);
    const cg = (ctrl: string, file: string) => readFileSync(join('/sys/fs/cgroup', ctrl, cgroupParent, 'pod1', ids.limits, file), 'utf8').trim();
    t.equal(cg('memory', 'memory.limit_in_bytes'), String(64 << 20));
    t.equal(cg('cpu', 'cpu.shares'), '512');
    t.equal(cg('cpu', 'cpu.cfs_quota_us'), '50000');
    t.equal(cg('cpu', 'cpu.cfs_period_us'), '100000');
    ok(t, call('limits', ['start', ids.limits]));
    t.equal(status(ids.limits), 'running');
  });

  t.test('12 exec: the limits read inside', async (t) => {
    t.same(exec(t, 'limits', 'exec-process-cat-sys-fs-cgroup-memory-memory-limit-i.json'), { code: 0, out: `${64 << 20}\n50000\n`, err: '' });
  });

  t.test('13 update --resources -: resized in place', async (t) => {
    const resources = { memory: { limit: 128 << 20, swap: 128 << 20 }, cpu: { shares: 1024, quota: 100000, period: 100000 } };
    ok(t, call('limits', ['update', '--resources', '-', ids.limits], { input: JSON.stringify(resources) }));
    const cg = (ctrl: string, file: string) => readFileSync(join('/sys/fs/cgroup', ctrl, cgroupParent, 'pod1', ids.limits, file), 'utf8').trim();
    t.equal(cg('memory', 'memory.limit_in_bytes'), String(128 << 20));
    t.equal(cg('cpu', 'cpu.cfs_quota_us'), '100000');
    t.equal(status(ids.limits), 'running');
  });

  for (const name of ['app', 'limits'] as const) {
    const first = name === 'app' ? 14 : 18;
    t.test(`${first}-${first + 3} ${name}: kill 15 (its trap exits 0), kill --all 9 after it exited, delete, delete --force`, async (t) => {
      ok(t, call(name, ['kill', ids[name], '15']));
      t.same(native().waitpid(pids[name]), { pid: pids[name], code: 0, signal: null }, 'the trap ran and exited 0');
      t.equal(readFileSync(join(bundles[name], 'init.out'), 'utf8'), 'hello-from-cri\ngot-term\n');
      t.equal(status(ids[name]), 'stopped');
      const all = call(name, ['kill', '--all', ids[name], '9']);
      if (all.status === 0) t.pass('kill --all of an exited container succeeds');
      else t.match(all.logError, /container not running/, 'or says what the shim maps to not-found');
      ok(t, call(name, ['delete', ids[name]]));
      const again = call(name, ['delete', '--force', ids[name]]);
      t.equal(again.status, 1);
      t.match(again.logError, /does not exist/, 'the shim maps this to not-found');
      t.notOk(existsSync(join(root, ids[name])), 'no state directory');
      t.same(cgroupControllers().filter((c) => existsSync(join('/sys/fs/cgroup', c, cgroupParent, 'pod1', ids[name]))), [], 'no cgroup');
    });
  }

  t.test('22-25 sandbox: kill 9, kill --all 9, delete, delete --force; nothing left', async (t) => {
    ok(t, call('sandbox', ['kill', ids.sandbox, '9']));
    t.same(native().waitpid(pids.sandbox), { pid: pids.sandbox, code: null, signal: 9 });
    const all = call('sandbox', ['kill', '--all', ids.sandbox, '9']);
    if (all.status !== 0) t.match(all.logError, /container not running/);
    ok(t, call('sandbox', ['delete', ids.sandbox]));
    const again = call('sandbox', ['delete', '--force', ids.sandbox]);
    t.equal(again.status, 1);
    t.match(again.logError, /does not exist/);
    t.same(existsSync(root) ? readdirSync(root) : [], [], 'no state directories');
    t.same(cgroupControllers().filter((c) => existsSync(join('/sys/fs/cgroup', c, cgroupParent))), [], 'no cgroups, the pod\'s parents included');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(work));
    t.same(mounts, [], 'no mounts');
    for (const [name, pid] of Object.entries(pids)) t.notOk(existsSync(`/proc/${pid}`), `${name} process gone`);
  });
}

function cgroupControllers(): string[] {
  return readdirSync('/sys/fs/cgroup');
}

function rmTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(dir, e.name));
  rmdirSync(dir);
}

