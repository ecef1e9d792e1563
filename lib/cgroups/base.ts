// What the v1 and v2 drivers share: making and removing the directory trees, placing
// processes, listing them, and signalling them all.
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { CapsaError } from '../errors';
import * as log from '../log';
import type { CgroupMode, Hierarchies } from './detect';
import { cgError, errno, readProcs, removeCgroup, sleepMs, subdirs, writeValue } from './files';
import { DEFAULT_PARENT, pathLevels, underDefaultParent } from './path';
import type { LinuxResources } from './resources';
import type { PlanMount } from '../plan/types';
import { cgroupMounts } from './mounts';
import type { Stats } from './stats';

export type FreezerState = 'frozen' | 'thawed' | 'undefined';

export interface CgroupManager {
  readonly mode: CgroupMode;
  /** The container's cgroup path inside each hierarchy, e.g. "/capsa/web1". */
  readonly path: string;
  /** Hierarchy → the container's directory in it: v1 controller names ("memory",
   *  "name=systemd"; co-mounted ones share a directory) and "" for the cgroup2 one
   *  (unified mode, or hybrid's /sys/fs/cgroup/unified). */
  readonly dirs: ReadonlyMap<string, string>;
  /**
   * Makes the directories (parents first). `onPlan` gets the directories about to be made
   * before any is made, so a caller can record them and a crash leaves nothing unknown.
   * Returns the ones actually made (a subset). If the leaf already exists it must hold no
   * process and not be frozen. On failure, what was made is removed again.
   */
  create(onPlan?: (planned: string[]) => void): string[];
  /** Writes `pid` to cgroup.procs in every hierarchy. */
  addProcess(pid: number): void;
  /** Writes every resource; returns warnings (settings the kernel dropped, as runc warns). */
  apply(resources: LinuxResources): string[];
  /** apply() for a running container; device rules are left as they are (as runc update). */
  update(resources: LinuxResources): string[];
  /**
   * Removes the directories in `created` (from create()), children first; the container's
   * own sub-cgroups go with its leaf. Thaws first so killed processes can leave. Parents
   * still in use by others, and capsa's shared /capsa parent, are left when not empty.
   */
  destroy(created: readonly string[]): void;
  /** Whether the container's cgroup directory exists. */
  exists(): boolean;
  /** Every pid in the cgroup and its sub-cgroups; none when the cgroup does not exist. */
  pids(): number[];
  freeze(): void;
  thaw(): void;
  state(): FreezerState;
  /** state() === 'frozen': the container is paused. */
  frozen(): boolean;
  /** Signals every process (none when the cgroup is gone); SIGKILL uses cgroup.kill where
   *  the kernel has it. */
  killAll(signal: number): void;
  stats(): Stats;
  /** How many processes the OOM killer killed in this cgroup (0 without a memory controller). */
  oomKillCount(): number;
  /** A config mount of type cgroup/cgroup2, expanded for this host (see ./mounts.ts). */
  mountsFor(m: PlanMount, cgroupns: boolean): PlanMount[];
}

const SIGKILL = 9;

export abstract class BaseManager implements CgroupManager {
  abstract readonly mode: CgroupMode;
  abstract readonly dirs: ReadonlyMap<string, string>;

  constructor(
    readonly path: string,
    protected readonly layout: Hierarchies,
  ) {}

  /** The mount points to make the container's directories under (each once). */
  protected abstract mounts(): string[];
  /** The directory whose cgroup.procs lists the container's processes. */
  protected abstract primary(): string;
  /** Called for each level before its directory is made (v2: enable controllers in the parent). */
  protected beforeLevel(_parent: string, _mount: string): void {}
  /** Called for each directory this create made (v1 cpuset: copy cpus and mems). */
  protected afterMade(_dir: string, _mount: string): void {}
  abstract apply(resources: LinuxResources): string[];
  abstract freeze(): void;
  abstract thaw(): void;
  abstract state(): FreezerState;
  abstract stats(): Stats;
  abstract oomKillCount(): number;
  /** The cgroup2 directory with cgroup.kill, if any (unified, or hybrid's). */
  protected abstract killDir(): string | undefined;
  /** Best-effort thaw before removal; never throws. */
  protected abstract thawQuietly(): void;

  update(resources: LinuxResources): string[] {
    const rest = { ...resources };
    delete rest.devices;
    return this.apply(rest);
  }

  create(onPlan?: (planned: string[]) => void): string[] {
    const levels = pathLevels(this.path);
    const mounts = this.mounts();
    const planned: string[] = [];
    for (const m of mounts) for (const l of levels) if (!existsSync(m + l)) planned.push(m + l);
    const leaf = this.primary();
    if (!planned.includes(leaf)) this.checkReusable(leaf);
    onPlan?.(planned);
    const made: string[] = [];
    try {
      for (const m of mounts) this.makeTree(m, levels, made);
    } catch (err) {
      this.removeMade(made);
      throw err;
    }
    return made;
  }

  private makeTree(mount: string, levels: string[], made: string[]): void {
    for (let attempt = 0; ; attempt++) {
      try {
        let parent = mount;
        for (const l of levels) {
          const dir = mount + l;
          this.beforeLevel(parent, mount);
          if (mkdirIfMissing(dir)) {
            made.push(dir);
            this.afterMade(dir, mount);
          }
          parent = dir;
        }
        return;
      } catch (err) {
        // A parent removed under us by another container's delete: start this tree again.
        if (errno(err) === 'ENOENT' && attempt < 3) continue;
        throw cgError(err, mount + this.path, 'make cgroup');
      }
    }
  }

  private checkReusable(leaf: string): void {
    if (!existsSync(leaf)) return;
    const n = this.pids().length;
    if (n > 0) throw new CapsaError('cgroup', `container's cgroup is not empty: ${n} process(es) found`, leaf);
    if (this.state() === 'frozen') throw new CapsaError('cgroup', "container's cgroup is unexpectedly frozen", leaf);
  }

  private removeMade(made: string[]): void {
    for (const d of [...made].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // Undoing a failed create: what cannot go now is reported by the original error.
      }
    }
  }

  addProcess(pid: number): void {
    for (const dir of new Set(this.dirs.values())) {
      for (let i = 0; ; i++) {
        try {
          writeValue(dir, 'cgroup.procs', String(pid));
          break;
        } catch (err) {
          // EINVAL: the task is still being created (TASK_NEW); runc retries the same way.
          if (errno(err) === 'EINVAL' && i < 5) {
            sleepMs(30);
            continue;
          }
          throw err;
        }
      }
    }
  }

  destroy(created: readonly string[]): void {
    const levels = pathLevels(this.path);
    const mounts = this.mounts();
    const ours = new Set(created);
    this.thawQuietly();
    const errors: unknown[] = [];
    for (const m of mounts) {
      // Deepest first; the leaf may hold sub-cgroups the container made.
      for (let i = levels.length - 1; i >= 0; i--) {
        const dir = m + levels[i];
        if (!ours.has(dir)) continue;
        try {
          if (i === levels.length - 1) removeCgroup(dir);
          else removeParent(dir);
        } catch (err) {
          errors.push(err);
        }
      }
      if (underDefaultParent(this.path)) {
        try {
          removeParent(m + DEFAULT_PARENT);
        } catch (err) {
          errors.push(err);
        }
      }
    }
    if (errors.length) throw errors[0];
  }

  exists(): boolean {
    return existsSync(this.primary());
  }

  frozen(): boolean {
    return this.state() === 'frozen';
  }

  mountsFor(m: PlanMount, cgroupns: boolean): PlanMount[] {
    return cgroupMounts(this.layout, this.path, m, cgroupns);
  }

  pids(): number[] {
    const out: number[] = [];
    const walk = (dir: string) => {
      try {
        out.push(...readProcs(dir));
      } catch (err) {
        // Removed while being listed: nobody is left in it.
        if (err instanceof CapsaError && err.errnoCode === 'ENOENT') return;
        throw err;
      }
      for (const sub of subdirs(dir)) walk(`${dir}/${sub}`);
    };
    walk(this.primary());
    return out;
  }

  killAll(signal: number): void {
    if (!this.exists()) return;
    const kd = this.killDir();
    if (signal === SIGKILL && kd !== undefined) {
      try {
        writeValue(kd, 'cgroup.kill', '1');
        log.debug(`killed every process through ${kd}/cgroup.kill`);
        // Tasks frozen by a v1 freezer (hybrid) die only once thawed.
        if (this.state() === 'frozen') this.thaw();
        return;
      } catch (err) {
        if (errno(err) !== 'ENOENT') throw err;
      }
    }
    // Freeze so nothing forks away between listing and signalling. A paused container
    // stays paused unless the signal is SIGKILL: frozen v1 tasks die only once thawed.
    const wasFrozen = this.state() === 'frozen';
    let froze = false;
    try {
      this.freeze();
      froze = true;
    } catch {
      // No freezer: signal what is there, as runc does.
    }
    try {
      const pids = this.pids();
      log.debug(`signal ${signal} to ${pids.length} process(es) of ${this.primary()}${froze ? ', frozen meanwhile' : ''}`);
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch (err) {
          if (errno(err) !== 'ESRCH') throw cgError(err, `pid ${pid}`, `kill with signal ${signal}`);
        }
      }
    } finally {
      if (froze && (!wasFrozen || signal === SIGKILL)) this.thaw();
    }
  }
}

function mkdirIfMissing(dir: string): boolean {
  try {
    mkdirSync(dir, 0o755);
    return true;
  } catch (err) {
    if (errno(err) === 'EEXIST') return false;
    if (errno(err) === 'ENOENT') throw err;
    throw cgError(err, dir, 'make cgroup');
  }
}

/** rmdir of a parent other containers may share: busy or non-empty means "still in use". */
function removeParent(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EBUSY') return;
    throw cgError(err, dir, 'remove cgroup');
  }
}
