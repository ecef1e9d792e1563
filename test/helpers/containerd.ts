// A private containerd for the engine tests: its own root, state, socket and config.toml in a
// temp dir, started and stopped by its pid, driven through `ctr` with capsa as the runc
// binary. Nothing is shared with a system containerd: containers live in a namespace named
// after the test, their cgroups under /<namespace>/, capsa's state under <dir>/runc.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAPSA, Result } from './capsa';
import { buildImageArchive } from './image';
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

  constructor(name: string) {
    this.dir = mkdtempSync(`/tmp/capsa-ctd-${name}-`);
    this.sock = join(this.dir, 'containerd.sock');
    this.ns = `capsa-${name}-${process.pid}`;
    this.runcRoot = join(this.dir, 'runc');
  }

  /** capsa's state directory for the containers of our namespace. */
  get capsaRoot(): string {
    return join(this.runcRoot, this.ns);
  }

  /** `ctr run` flags that make capsa the runc binary of io.containerd.runc.v2. */
  get runtimeFlags(): string[] {
    return ['--runc-binary', CAPSA, '--runc-root', this.runcRoot];
  }

  /** The config.toml the tests use (docs/containerd.md shows the same): private paths, the CRI
   *  plugin and the snapshotters this machine cannot use disabled, overlayfs by default. */
  configToml(): string {
    return `version = 2
root = "${this.dir}/root"
state = "${this.dir}/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

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
`;
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

  /** The cgroup directories ctr's default cgroupsPath (/<namespace>/<id>) made. */
  cgroupDirs(id?: string): string[] {
    const dirs: string[] = [];
    for (const ctrl of readdirSync('/sys/fs/cgroup')) {
      const d = join('/sys/fs/cgroup', ctrl, this.ns, ...(id ? [id] : []));
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
    for (const d of this.cgroupDirs()) {
      for (const sub of readdirSync(d, { withFileTypes: true })) if (sub.isDirectory()) rmdirSync(join(d, sub.name));
      rmdirSync(d);
    }
  }
}
