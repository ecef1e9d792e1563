// A private containerd for the engine tests: its own root, state, socket and config.toml in a
// temp dir, started and stopped by its pid, driven through `ctr` with capsa as the runc
// binary. Nothing is shared with a system containerd: containers live in a namespace named
// after the test, their cgroups under /<namespace>/, capsa's state under <dir>/runc.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAPSA, Result } from './capsa';
import { buildImageArchive, IMAGE_PAUSE } from './image';
import { native } from '../../lib/native';

const BINARIES = ['containerd', 'ctr', 'containerd-shim-runc-v2', 'script'];

export function which(bin: string): string | undefined {
  for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) if (existsSync(join(d, bin))) return join(d, bin);
  return undefined;
}

export function containerdMissing(): string | undefined {
  const missing = BINARIES.filter((b) => !which(b));
  return missing.length ? `needs ${missing.join(', ')} (scripts/setup.sh installs them)` : undefined;
}

/** Quotes one word for sh (script -c takes a command line). */
export function shQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs a command with stdout and stderr in files (a task's stdio outlives a detached ctr,
 *  and a pipe would block until it exits); `tty` gives it a terminal through script(1). */
export function runCaptured(argv: string[], o: { tty?: boolean; timeout?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Result {
  const dir = mkdtempSync('/tmp/capsa-out-');
  const [out, err] = [openSync(join(dir, 'out'), 'w+'), openSync(join(dir, 'err'), 'w+')];
  try {
    const [cmd, args] = o.tty ? ['script', ['-qec', argv.map(shQuote).join(' '), '/dev/null']] : [argv[0], argv.slice(1)];
    let stdin: 'ignore' | number = 'ignore';
    if (o.input !== undefined) {
      writeFileSync(join(dir, 'in'), o.input);
      stdin = openSync(join(dir, 'in'), 'r');
    }
    const r = spawnSync(cmd, args as string[], { timeout: o.timeout ?? 60000, stdio: [stdin, out, err], env: o.env });
    if (typeof stdin === 'number') closeSync(stdin);
    return { status: r.status, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(dir, { recursive: true, force: true });
  }
}

export class Containerd {
  readonly dir: string;
  readonly sock: string;
  readonly ns: string;
  /** What the shim gets as Root: capsa's --root is <runcRoot>/<namespace>. */
  readonly runcRoot: string;
  private proc?: ChildProcess;
  /** containerd 1.6 puts ctr's fifos and shim sockets in /run/containerd whatever the config. */
  private runDirExisted = existsSync('/run/containerd');

  /** Where containers' cgroups go: ctr's default /<namespace>/<id>, or under the pods'
   *  cgroup_parent when driven through the CRI plugin. */
  readonly cgroupRoot: string;

  /** With `cri`, containerd's CRI plugin runs too, with capsa as its runtime handler "capsa"
   *  (config.toml BinaryName), and containers are in its namespace, k8s.io. */
  constructor(name: string, readonly cri = false) {
    this.dir = mkdtempSync(`/tmp/capsa-ctd-${name}-`);
    this.sock = join(this.dir, 'containerd.sock');
    this.ns = cri ? 'k8s.io' : `capsa-${name}-${process.pid}`;
    this.runcRoot = join(this.dir, 'runc');
    this.cgroupRoot = cri ? `/capsa-${name}-${process.pid}` : `/${this.ns}`;
  }

  /** capsa's state directory for the containers of our namespace. */
  get capsaRoot(): string {
    return join(this.runcRoot, this.ns);
  }

  /** `ctr run` flags that make capsa the runc binary of io.containerd.runc.v2. */
  get runtimeFlags(): string[] {
    return ['--runc-binary', CAPSA, '--runc-root', this.runcRoot];
  }

  /** The config.toml the tests use (docs/containerd.md and docs/kubernetes.md show the
   *  same): private paths, the snapshotters this machine cannot use disabled, overlayfs by
   *  default; the CRI plugin disabled, or configured with the runtime handler "capsa". */
  configToml(): string {
    const plugins = [
      ...(this.cri ? [] : ['io.containerd.grpc.v1.cri']),
      'io.containerd.snapshotter.v1.aufs',
      'io.containerd.snapshotter.v1.btrfs',
      'io.containerd.snapshotter.v1.devmapper',
      'io.containerd.snapshotter.v1.zfs',
      'io.containerd.tracing.processor.v1.otlp',
      'io.containerd.internal.v1.tracing',
    ];
    const cri = `
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${IMAGE_PAUSE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.capsa]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.capsa.options]
        BinaryName = "${CAPSA}"
        Root = "${this.runcRoot}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${this.dir}/cni/bin"
    conf_dir = "${this.dir}/cni/net.d"
`;
    return `version = 2
root = "${this.dir}/root"
state = "${this.dir}/state"
disabled_plugins = [
${plugins.map((p) => `  "${p}",\n`).join('')}]

[grpc]
  address = "${this.sock}"

[ttrpc]
  address = "${this.sock}.ttrpc"

[debug]
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${this.dir}/opt"
${this.cri ? cri : ''}`;
  }

  async start(): Promise<void> {
    writeFileSync(join(this.dir, 'config.toml'), this.configToml());
    const log = openSync(join(this.dir, 'containerd.log'), 'w');
    this.proc = spawn('containerd', ['--config', join(this.dir, 'config.toml')], { stdio: ['ignore', log, log] });
    closeSync(log);
    const end = Date.now() + 20000;
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`containerd exited (${this.proc.exitCode}):\n${this.log()}`);
      if (existsSync(this.sock) && this.ctr(['version']).status === 0) break;
      if (Date.now() > end) throw new Error(`containerd did not come up:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'containerd.log'), 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  }

  ctr(args: string[], o: { tty?: boolean; timeout?: number } = {}): Result {
    return runCaptured(['ctr', '--address', this.sock, '--namespace', this.ns, ...args], o);
  }

  importImages(): void {
    const archive = join(this.dir, 'busybox-oci.tar');
    buildImageArchive(archive, join(this.dir, 'image-build'));
    const r = this.ctr(['images', 'import', archive]);
    if (r.status !== 0) throw new Error(`ctr images import: ${r.stderr}`);
  }

  /** Pids of the shims our containerd started (their command line names our socket). */
  shims(): number[] {
    const pids: number[] = [];
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        if (argv[0].endsWith('containerd-shim-runc-v2') && argv.includes(this.sock)) pids.push(Number(p));
      } catch {
        // exited
      }
    }
    return pids;
  }

  /** The cgroup directories of our containers (of container `id`, or all). */
  cgroupDirs(id?: string): string[] {
    const dirs: string[] = [];
    for (const ctrl of readdirSync('/sys/fs/cgroup')) {
      const d = join('/sys/fs/cgroup', ctrl, this.cgroupRoot, ...(id ? [id] : []));
      if (existsSync(d)) dirs.push(d);
    }
    return dirs;
  }

  /** Mount points under our directory (snapshots, bundles' rootfs). */
  mounts(): string[] {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m) => m && (m === this.dir || m.startsWith(this.dir + '/')));
  }

  /** Removes every task, container, image and the namespace; stops containerd by its pid;
   *  then ends any shim it left, unmounts, and removes the directory and our cgroups. */
  async stop(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      for (const line of this.ctr(['tasks', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
        this.ctr(['tasks', 'kill', '-a', '-s', 'SIGKILL', line]);
        this.ctr(['tasks', 'delete', '-f', line]);
      }
      for (const c of this.ctr(['containers', 'ls', '-q']).stdout.split('\n').filter(Boolean)) this.ctr(['containers', 'rm', c]);
      for (const i of this.ctr(['images', 'ls', '-q']).stdout.split('\n').filter(Boolean)) this.ctr(['images', 'rm', '--sync', i]);
      this.ctr(['namespaces', 'rm', this.ns]);
      const proc = this.proc;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
    for (const pid of this.shims()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const m of this.mounts().reverse()) {
      try {
        native().umount(m);
      } catch {
        // already gone with its parent
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    for (const d of this.cgroupDirs()) rmTree(d);
    if (!this.runDirExisted)
      for (const d of ['/run/containerd/fifo', '/run/containerd/s', '/run/containerd']) {
        try {
          rmdirSync(d);
        } catch {
          // absent, or in use by another instance
        }
      }
  }
}

function rmTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(dir, e.name));
  rmdirSync(dir);
}
