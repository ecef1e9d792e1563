// Kubernetes' path, for real: a pod driven through containerd's CRI plugin over gRPC, as the
// kubelet drives it, with capsa as the runtime handler "capsa" of config.toml
// (runtime_type io.containerd.runc.v2, options.BinaryName). The pod uses the node's network
// (no CNI here); its app containers join the sandbox's ipc, uts and network namespaces.
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { skipReason } from '../helpers/capsa';
import { Containerd, containerdMissing } from '../helpers/containerd';
import { CriClient, Fields, num, str, sub } from '../helpers/cri';
import { IMAGE } from '../helpers/image';
import { waitFor } from '../helpers/machine';

// NamespaceMode and ContainerState of the CRI API; gRPC's NOT_FOUND.
const POD = 0, CONTAINER = 1, NODE = 2;
const RUNNING = 1, EXITED = 2;
const NOT_FOUND = 5;

const skip = skipReason() ?? containerdMissing();
if (skip) t.plan(0, skip);
else {
  const ctd = new Containerd('cri', true);
  let cri: CriClient;
  t.teardown(async () => {
    cri?.close();
    await ctd.stop();
  });
  t.before(async () => {
    await ctd.start();
    ctd.importImages();
    cri = new CriClient(ctd.sock);
  });

  const logDir = join(ctd.dir, 'pod-logs');
  const sandboxConfig: Fields = {
    1: { 1: 'capsa-pod', 2: `capsa-pod-uid-${process.pid}`, 3: 'capsa-test', 4: 0 },
    3: logDir,
    8: {
      1: `${ctd.cgroupRoot}/pod1`,
      // hostNetwork: true (no CNI here); the sandbox's own pid and ipc namespaces.
      2: { 1: { 1: NODE, 2: CONTAINER, 3: POD } },
    },
  };
  const containerConfig = (name: string, command: string[], resources?: Fields): Fields => ({
    1: { 1: name, 2: 0 },
    2: { 1: IMAGE },
    3: command,
    11: `${name}.log`,
    // Its own pid namespace (the kubelet's default, shareProcessNamespace: false).
    15: { 1: resources, 2: { 3: { 2: CONTAINER } } },
  });
  const ids: Record<string, string> = {};
  const statusOf = async (id: string) => sub(await cri.call('ContainerStatus', { 1: id }), 1);
  const pidOf = (id: string) => Number(readFileSync(join(ctd.dir, 'state', 'io.containerd.runtime.v2.task', 'k8s.io', id, 'init.pid'), 'utf8'));
  const APP = ['sh', '-c', 'trap "echo got-term; exit 0" TERM; echo hello-from-cri; echo to-stderr >&2; while :; do sleep 1 & wait $!; done'];

  t.test('RunPodSandbox with runtime_handler "capsa": the config.toml BinaryName runs capsa', async (t) => {
    const r = await cri.call('RunPodSandbox', { 1: sandboxConfig, 2: 'capsa' });
    ids.sandbox = str(r, 1);
    t.match(ids.sandbox, /^[0-9a-f]{64}$/);
    t.ok(existsSync(join(ctd.capsaRoot, ids.sandbox, 'state.json')), 'capsa\'s state under the handler\'s Root/k8s.io');
    t.equal(readFileSync(`/proc/${pidOf(ids.sandbox)}/cmdline`, 'utf8'), '/bin/sleep\0infinity\0', 'the pause image\'s command');
  });

  t.test('CreateContainer, StartContainer: the app joins the sandbox\'s namespaces, its output is logged', async (t) => {
    const c = await cri.call('CreateContainer', { 1: ids.sandbox, 2: containerConfig('app', APP), 3: sandboxConfig });
    ids.app = str(c, 1);
    await cri.call('StartContainer', { 1: ids.app });
    t.equal(num(await statusOf(ids.app), 3), RUNNING);
    const [app, sb] = [pidOf(ids.app), pidOf(ids.sandbox)];
    for (const ns of ['ipc', 'uts', 'net']) t.equal(readlinkSync(`/proc/${app}/ns/${ns}`), readlinkSync(`/proc/${sb}/ns/${ns}`), `${ns} shared with the sandbox`);
    t.not(readlinkSync(`/proc/${app}/ns/pid`), readlinkSync(`/proc/${sb}/ns/pid`), 'own pid namespace');
    await waitFor(() => existsSync(join(logDir, 'app.log')) && readFileSync(join(logDir, 'app.log'), 'utf8').split('\n').length > 2);
    const log = readFileSync(join(logDir, 'app.log'), 'utf8');
    t.match(log, / stdout F hello-from-cri\n/, 'CRI log format, stdout');
    t.match(log, / stderr F to-stderr\n/, 'and stderr');
  });

  t.test('ExecSync (probes, kubectl exec): output and exit code', async (t) => {
    const r = await cri.call('ExecSync', { 1: ids.app, 2: ['sh', '-c', 'echo exec-out; echo exec-err >&2; exit 7'], 3: 10 });
    t.equal(str(r, 1), 'exec-out\n');
    t.equal(str(r, 2), 'exec-err\n');
    t.equal(num(r, 3), 7);
  });

  t.test('a container with limits; UpdateContainerResources resizes it in place', async (t) => {
    const resources = { 1: 100000, 2: 50000, 3: 512, 4: 64 << 20 };
    const c = await cri.call('CreateContainer', { 1: ids.sandbox, 2: containerConfig('limits', APP, resources), 3: sandboxConfig });
    ids.limits = str(c, 1);
    await cri.call('StartContainer', { 1: ids.limits });
    const cg = (ctrl: string, file: string) => readFileSync(join('/sys/fs/cgroup', ctrl, ctd.cgroupRoot, 'pod1', ids.limits, file), 'utf8').trim();
    t.equal(cg('memory', 'memory.limit_in_bytes'), String(64 << 20));
    t.equal(cg('cpu', 'cpu.cfs_quota_us'), '50000');
    t.equal(cg('cpu', 'cpu.shares'), '512');
    await cri.call('UpdateContainerResources', { 1: ids.limits, 2: { 1: 100000, 2: 80000, 3: 1024, 4: 128 << 20 } });
    t.equal(cg('memory', 'memory.limit_in_bytes'), String(128 << 20));
    t.equal(cg('cpu', 'cpu.cfs_quota_us'), '80000');
    t.equal(cg('cpu', 'cpu.shares'), '1024');
    t.equal(num(await statusOf(ids.limits), 3), RUNNING);
  });

  t.test('StopContainer: SIGTERM reaches the trap (exit 0); RemoveContainer leaves nothing', async (t) => {
    for (const name of ['app', 'limits']) {
      await cri.call('StopContainer', { 1: ids[name], 2: 10 });
      const st = await statusOf(ids[name]);
      t.equal(num(st, 3), EXITED, `${name} exited`);
      t.equal(num(st, 7), 0, `${name}'s exit code`);
      t.match(readFileSync(join(logDir, `${name}.log`), 'utf8'), / stdout F got-term\n/);
      await cri.call('RemoveContainer', { 1: ids[name] });
      t.notOk(existsSync(join(ctd.capsaRoot, ids[name])), `no capsa state for ${name}`);
      t.same(ctd.cgroupDirs(join('pod1', ids[name])), [], `no cgroup for ${name}`);
      await t.rejects(statusOf(ids[name]), { code: NOT_FOUND }, 'gone from the CRI');
    }
  });

  t.test('StopPodSandbox, RemovePodSandbox: nothing left', async (t) => {
    await cri.call('StopPodSandbox', { 1: ids.sandbox });
    await cri.call('RemovePodSandbox', { 1: ids.sandbox });
    t.same(existsSync(ctd.capsaRoot) ? require('node:fs').readdirSync(ctd.capsaRoot) : [], [], 'no capsa state directories');
    t.same(ctd.cgroupDirs('pod1'), [], 'no container cgroups');
    t.same(ctd.mounts().filter((m) => m.includes('io.containerd.runtime.v2.task') || m.includes('sandboxes')), [], 'no rootfs or shm mounts');
    await waitFor(() => ctd.shims().length === 0, 10000).catch(() => {});
    t.same(ctd.shims(), [], 'the pod\'s shim is gone');
  });
}
