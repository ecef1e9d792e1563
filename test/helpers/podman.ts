// Podman (with conmon) driving capsa, on private storage: --root, --runroot and --tmpdir in a
// temp dir, the cgroupfs manager with containers under our own cgroup parent, file events, no
// network. Podman calls the runtime without --root, so capsa's default /run/capsa is used:
// the runtime-tools runner cleans that root of containers it did not start, so we hold its
// lock (/tmp/rt.lock) meanwhile.
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CAPSA, Result } from './capsa';
import { runCaptured, which } from './containerd';
import { buildImageArchive } from './image';
import { native } from '../../lib/native';

export const DEFAULT_ROOT = '/run/capsa';
const RT_LOCK = '/tmp/rt.lock';

export function podmanMissing(): string | undefined {
  const missing = ['podman', 'conmon', 'script'].filter((b) => !which(b));
  return missing.length ? `needs ${missing.join(', ')} (scripts/setup.sh installs them)` : undefined;
}

/** The host's hard limit of `resource` (as /proc/self/limits names it). */
function hostHard(resource: string): string {
  const m = readFileSync('/proc/self/limits', 'utf8').match(new RegExp(`^${resource}\\s+\\S+\\s+(\\S+)`, 'm'));
  return m![1];
}

export class Podman {
  readonly dir: string;
  readonly cgroupParent: string;
  private lockFd = -1;
  private rootExisted = existsSync(DEFAULT_ROOT);

  constructor(name: string) {
    this.dir = mkdtempSync(`/tmp/capsa-podman-${name}-`);
    this.cgroupParent = `/capsa-${name}-${process.pid}`;
  }

  /** The global flags of every podman call. */
  get globalFlags(): string[] {
    return [
      '--root', join(this.dir, 'root'),
      '--runroot', join(this.dir, 'runroot'),
      '--tmpdir', join(this.dir, 'tmp'),
      '--storage-driver', 'vfs',
      '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'file',
      '--runtime', CAPSA,
    ];
  }

  /** Flags of every `podman run`. As root podman asks for RLIMIT_NOFILE and RLIMIT_NPROC of
   *  1048576; raising a hard limit needs CAP_SYS_RESOURCE, which this machine's bounding set
   *  lacks (runc fails the same way). So ask for what the runtime it starts already has:
   *  NOFILE at the host's hard limit, NPROC at 32768, which podman sets for itself at start
   *  (seen with strace) and so for conmon and the runtime. */
  get runFlags(): string[] {
    return ['--network', 'none', '--cgroup-parent', this.cgroupParent, '--ulimit', `nofile=${hostHard('Max open files')}`, '--ulimit', 'nproc=32768'];
  }

  podman(args: string[], o: { tty?: boolean; timeout?: number } = {}): Result {
    return runCaptured(['podman', ...this.globalFlags, ...args], o);
  }

  /** Takes the runtime-tools lock, waiting up to `ms`; false if it stayed held. Synchronous:
   *  the test file decides at its top whether it can run at all. */
  lock(ms = 60000): boolean {
    this.lockFd = openSync(RT_LOCK, 'a');
    const end = Date.now() + ms;
    while (!native().flock(this.lockFd, true, false)) {
      if (Date.now() > end) return false;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
    return true;
  }

  loadImages(refs: string[]): void {
    const archive = join(this.dir, 'busybox-oci.tar');
    buildImageArchive(archive, join(this.dir, 'image-build'));
    // The archive holds two images: podman's oci-archive transport picks one by its ref name.
    for (const ref of refs) {
      const r = this.podman(['pull', '-q', `oci-archive:${archive}:${ref}`]);
      if (r.status !== 0) throw new Error(`podman pull ${ref}: ${r.stderr}`);
    }
  }

  /** Full ids of every container podman knows. */
  ids(): string[] {
    return this.podman(['ps', '-a', '--no-trunc', '--format', '{{.ID}}']).stdout.split('\n').filter(Boolean);
  }

  cgroupDirs(): string[] {
    return readdirSync('/sys/fs/cgroup')
      .map((c) => join('/sys/fs/cgroup', c, this.cgroupParent))
      .filter((d) => existsSync(d));
  }

  mounts(): string[] {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m) => m && m.startsWith(this.dir + '/'));
  }

  /** Removes every container and image, the storage, our cgroups, and /run/capsa if we made
   *  it and it is empty; then releases the lock. */
  async cleanup(): Promise<void> {
    const ids = this.ids();
    this.podman(['rm', '--force', '--all', '--time', '0']);
    for (const id of ids) if (existsSync(join(DEFAULT_ROOT, id))) runCaptured([CAPSA, 'delete', '--force', id]);
    this.podman(['rmi', '--force', '--all']);
    // conmon leaves once its container is cleaned up; its cgroup (<parent>/conmon) then empties.
    const end = Date.now() + 10000;
    while (this.cgroupDirs().some((d) => busy(d)) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    for (const m of this.mounts().reverse()) {
      try {
        native().umount(m);
      } catch {
        // gone with its parent
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    for (const d of this.cgroupDirs()) {
      for (const sub of readdirSync(d, { withFileTypes: true })) if (sub.isDirectory()) rmdirSync(join(d, sub.name));
      rmdirSync(d);
    }
    if (!this.rootExisted && existsSync(DEFAULT_ROOT) && readdirSync(DEFAULT_ROOT).length === 0) rmdirSync(DEFAULT_ROOT);
    if (this.lockFd >= 0) closeSync(this.lockFd);
    this.lockFd = -1;
  }
}

/** Any process left in this cgroup tree? */
function busy(dir: string): boolean {
  const procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim();
  if (procs) return true;
  return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && busy(join(dir, e.name)));
}
