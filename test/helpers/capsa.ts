// Running the real bin/capsa in tests, each test file with its own --root and cgroup parent,
// and removing whatever a test leaves.
import { ChildProcess, spawn, SpawnOptions, spawnSync, SpawnSyncOptions } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedRootfs } from './rootfs';

export const ROOT_DIR = join(__dirname, '..', '..', '..');
export const CAPSA = join(ROOT_DIR, 'bin', 'capsa');

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
  /** start() only: the signal that ended capsa itself (status is then 128 + its number). */
  signal?: NodeJS.Signals | null;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Why integration tests cannot run here, or undefined if they can. */
export function skipReason(): string | undefined {
  if (!isRoot()) return 'needs root';
  if (!existsSync(CAPSA)) return 'bin/capsa is not built (npm run build)';
  if (!existsSync('/bin/busybox')) return 'needs busybox-static';
  return undefined;
}

export interface EnvOptions {
  /** A command capsa runs under (its argv is appended), e.g. a seccomp filter wrapper. */
  wrap?: string[];
  /** --root, instead of /run/capsa-test-<name>-<pid>. */
  root?: string;
}

export class Env {
  readonly root: string;
  readonly cgroupParent: string;
  private bundles: string[] = [];

  constructor(
    name: string,
    private readonly opts: EnvOptions = {},
  ) {
    this.root = opts.root ?? `/run/capsa-test-${name}-${process.pid}`;
    this.cgroupParent = `/capsa-test-${name}-${process.pid}`;
  }

  /** Runs capsa with stdout and stderr in files, not pipes: a container inherits them from
   *  create, and a pipe would keep us waiting until it exits (as the runtime-tools suite does).
   *  `opts.input`, when given, is the command's stdin; `opts.extraFds` become its fds 3, 4, ... */
  run(args: string[], opts: SpawnSyncOptions & { extraFds?: number[] } = {}): Result {
    return this.runUnder([], args, opts);
  }

  /** As run(), with capsa started through `prefix` (a tracer, say): prefix... capsa --root ... args. */
  runUnder(prefix: string[], args: string[], opts: SpawnSyncOptions & { extraFds?: number[] } = {}): Result {
    const argv = [...prefix, ...(this.opts.wrap ?? []), CAPSA, '--root', this.root, ...args];
    const dir = mkdtempSync(join(tmpdir(), 'capsa-out-'));
    const [o, e] = [openSync(join(dir, 'out'), 'w+'), openSync(join(dir, 'err'), 'w+')];
    try {
      const { extraFds = [], ...rest } = opts;
      const stdin = opts.input === undefined ? 'ignore' : 'pipe';
      const r = spawnSync(argv[0], argv.slice(1), { timeout: 30000, stdio: [stdin, o, e, ...extraFds], ...rest });
      return { status: r.status, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
    } finally {
      closeSync(o);
      closeSync(e);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Starts capsa without waiting (to signal it, or to drive its terminal); stdout and stderr
   *  go to files as in run(), unless `opts.stdio` says otherwise. */
  start(args: string[], opts: SpawnOptions = {}): { child: ChildProcess; done: Promise<Result> } {
    const dir = mkdtempSync(join(tmpdir(), 'capsa-out-'));
    const [o, e] = [openSync(join(dir, 'out'), 'w+'), openSync(join(dir, 'err'), 'w+')];
    const child = spawn(CAPSA, ['--root', this.root, ...args], { stdio: ['ignore', o, e], ...opts });
    closeSync(o);
    closeSync(e);
    const done = new Promise<Result>((resolve) =>
      child.on('exit', (code, signal) => {
        const r = { status: code ?? (signal ? 128 + osConstants.signals[signal] : null), signal, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
        rmSync(dir, { recursive: true, force: true });
        resolve(r);
      }),
    );
    return { child, done };
  }

  /** A bundle for container `id`, its config derived from the base below, changed by `edit`. */
  bundle(id: string, edit: (c: any) => void = () => {}): string {
    const dir = mkdtempSync(join(tmpdir(), 'capsa-bundle-'));
    this.bundles.push(dir);
    const c = baseConfig(sharedRootfs());
    c.linux.cgroupsPath = `${this.cgroupParent}/${id}`;
    edit(c);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(c, null, 2));
    return dir;
  }

  /** Deletes every container left under this root, then the root, bundles and cgroup parent. */
  cleanup(): void {
    if (existsSync(this.root)) {
      for (const id of readdirSync(this.root)) this.run(['delete', '--force', id]);
      rmSync(this.root, { recursive: true, force: true });
    }
    for (const b of this.bundles) rmSync(b, { recursive: true, force: true });
    for (const ctrl of ['', ...readdirSync('/sys/fs/cgroup')]) {
      const dir = join('/sys/fs/cgroup', ctrl, this.cgroupParent);
      if (existsSync(dir)) rmdirSync(dir);
    }
  }
}

export function baseConfig(rootfs: string): any {
  const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
  return {
    ociVersion: '1.3.0',
    process: {
      user: { uid: 0, gid: 0 },
      args: ['sh', '-c', 'true'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    hostname: 'capsa-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

