// The container lifecycle once it exists: start, kill, pause, delete, and what `state`
// reports. Creating one is ./create.ts, loaded only by the commands that create.
import { closeSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupManager, type LinuxResources, openManager, type Stats } from './cgroups';
import { planUpdate } from './cgroups/update';
import { CapsaError } from './errors';
import { runHooks } from './hooks';
import * as log from './log';
import { native } from './native';
import type { Spec } from './spec/types';
import { ownMountNamespace, mountsUnder } from './state/hostmounts';
import { openProcess, signalProcess } from './state/proc';
import { deriveStatus, stateDoc, Status, StateDoc } from './state/status';
import {
  fifoPath,
  type Intent,
  Lock,
  MissingStateError,
  readIntent,
  readState,
  removeStateDir,
  stateDir,
  StoredState,
  UnreadableStateError,
  writeState,
} from './state/store';

export class Container {
  /** The pty master of a foreground run's terminal, once create has received it. */
  consoleMaster?: number;
  /** Set once destroy() removed everything: nothing more to delete. */
  destroyed = false;

  constructor(
    readonly root: string,
    readonly id: string,
    readonly dir: string,
    public state: StoredState,
    /** The container's lock, while this process holds it. */
    private held?: Lock,
  ) {}

  /** Reads the container without its lock: for commands that only look. */
  static load(root: string, id: string): Container {
    return new Container(root, id, stateDir(root, id), readState(root, id));
  }

  /** Takes the container's lock, then reads its state: for commands that change it. */
  static locked(root: string, id: string): Container {
    const dir = stateDir(root, id);
    const lock = Lock.acquire(dir, id);
    try {
      return new Container(root, id, dir, readState(root, id), lock).recover();
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /** Takes the lock and reads the state again: what was read before may be stale by now. */
  lock(): this {
    if (this.held) return this;
    const lock = Lock.acquire(this.dir, this.id);
    try {
      this.state = readState(this.root, this.id);
    } catch (e) {
      lock.release();
      throw e;
    }
    this.held = lock;
    return this.recover();
  }

  /** Under the lock: finishes what a killed command left half done. Only `kill` leaves
   *  anything (the container frozen while it signals); the rest is atomic or re-runnable. */
  private recover(): this {
    if (existsSync(join(this.dir, KILL_MARK))) {
      // The cgroup may be gone with the container: nothing is frozen then.
      if (this.cgroup().exists()) this.cgroup().thaw();
      rmSync(join(this.dir, KILL_MARK), { force: true });
    }
    return this;
  }

  unlock(): void {
    this.held?.release();
    this.held = undefined;
  }

  cgroup(): CgroupManager {
    return openManager(this.state.cgroup.path);
  }

  status(): Status {
    return deriveStatus(this.state, this.dir, { frozen: () => this.cgroup().frozen() }, this.held !== undefined);
  }

  doc(status = this.status()): StateDoc {
    return stateDoc(this.state, status);
  }

  /** Lets the waiting init exec the user's process, then runs poststart hooks. */
  start(): void {
    const status = this.status();
    if (status !== 'created') throw new CapsaError('start', `cannot start a container that is ${status}`);
    // Opened before the start time is checked: a pid reused meanwhile cannot be waited on.
    const pidfd = openProcess(this.state.pid, this.state.startTime);
    if (pidfd === undefined) throw new CapsaError('start', 'container not running');
    let out: string | null;
    try {
      out = native().awaitFifo(fifoPath(this.dir), pidfd);
    } finally {
      closeSync(pidfd);
    }
    // Killed before this line, the fifo stays: status() asks /proc whether init exec'd.
    rmSync(fifoPath(this.dir), { force: true });
    if (out === null) throw new CapsaError('start', 'the container process exited before it was started');
    const err = out.indexOf('E');
    if (err >= 0) {
      // capsa-init's own words: "<step>: <path>: <why>", the step a hook's kind when one failed.
      const e = new CapsaError('start', out.slice(err + 1));
      if (/^startContainer hook: /.test(out.slice(err + 1))) this.abort(e);
      throw e;
    }
    if (!out.startsWith('0')) throw new CapsaError('start', 'the container process exited before its program started');
    try {
      runHooks('poststart', this.state.config.hooks?.poststart, this.doc('running'));
    } catch (e) {
      this.abort(e);
    }
  }

  /** A lifecycle hook failed after create: as runtime.md's lifecycle has it, the container is
   *  stopped and destroyed, poststop hooks run, and the error goes to the caller. */
  private abort(e: unknown): never {
    this.destroy();
    this.poststop();
    throw e;
  }

  /** The poststop hooks: the container is gone (lifecycle step 13); failures are warnings. */
  poststop(): void {
    runHooks('poststop', this.state.config.hooks?.poststop, this.doc('stopped'));
  }

  /** Freezes every process of a created or running container (runc allows both). */
  pause(): void {
    const status = this.status();
    if (status !== 'running' && status !== 'created') throw new CapsaError('pause', 'container not running');
    this.cgroup().freeze();
  }

  resume(): void {
    if (this.status() !== 'paused') throw new CapsaError('resume', 'container not paused');
    this.cgroup().thaw();
  }

  /** The pids of every process in the container's cgroup, in the runtime's pid namespace. */
  processes(): number[] {
    return this.cgroup().pids();
  }

  /** The cgroup statistics `events` prints; refused once the container has stopped (runc). */
  stats(): Stats {
    if (this.status() === 'stopped') throw new CapsaError('events', `container with id ${this.id} is not running`);
    return this.cgroup().stats();
  }

  /**
   * Applies a resource update live and records the merged resources in state.json (see
   * planUpdate). On a failed write the recorded values are written back, as runc does.
   */
  update(resources: LinuxResources): string[] {
    const status = this.status();
    if (status === 'stopped' || status === 'creating') throw new CapsaError('update', 'container not running');
    const config = this.state.config;
    const recorded = config.linux?.resources;
    checkResources(config, resources, 'update');
    const plan = planUpdate(recorded, resources);
    checkResources(config, plan.record, 'update');
    const cg = this.cgroup();
    let warnings: string[];
    try {
      warnings = cg.update(plan.apply);
    } catch (e) {
      try {
        if (recorded) cg.update(planUpdate(undefined, recorded).apply);
      } catch (e2) {
        log.warn(`setting the recorded resources back failed, state.json and the cgroup may differ: ${(e2 as Error).message}`);
      }
      throw e;
    }
    this.state.config = { ...config, linux: { ...config.linux, resources: plan.record } };
    writeState(this.dir, this.state);
    return [...plan.warnings, ...warnings];
  }

  /** Sends `signal` to the init, or with `all` to every process in the container's cgroup. */
  kill(signal: number, all: boolean): void {
    const status = this.status();
    // With --all, as runc: whatever is left in the cgroup gets the signal, and none left is no
    // error (containerd's CRI plugin sends `kill --all ID 9` after the init exited).
    if (!all && (status === 'stopped' || status === 'creating')) throw new CapsaError('kill', 'container not running');
    // An init that is not PID 1 of a namespace of its own takes nobody with it when it dies of
    // SIGKILL: the rest of the cgroup gets it too, as runc does.
    const everyone = all || (signal === SIGKILL && !initIsPid1(this.state.config));
    // killAll freezes the cgroup while it signals, and SIGKILL thaws a paused one: if we die in
    // between, the mark tells the next command to thaw what we left frozen. A signal to the
    // init alone freezes nothing, so the common `kill ID 15` writes no mark.
    const mark = join(this.dir, KILL_MARK);
    const thaws = everyone ? signal === SIGKILL || status !== 'paused' : signal === SIGKILL && status === 'paused';
    if (thaws) writeMark(mark);
    try {
      if (everyone) this.cgroup().killAll(signal);
      // Through a pidfd checked against the recorded start time: a reused pid gets nothing.
      else if (!signalProcess(this.state.pid, this.state.startTime, signal)) throw new CapsaError('kill', 'container not running');
      // A v1-frozen process dies of SIGKILL only once thawed (runc thaws for it too).
      else if (signal === SIGKILL && status === 'paused') this.cgroup().thaw();
    } finally {
      if (thaws) rmSync(mark, { force: true });
    }
  }

  /** Removes the container. Without `force` only a created or stopped one; with it, any. */
  delete(force: boolean): void {
    const status = this.status();
    if ((status === 'running' || status === 'paused') && !force)
      throw new CapsaError('delete', `cannot delete container ${this.id} that is not stopped: ${status}`);
    this.destroy();
    if (status !== 'creating' && this.state.phase === 'created') this.poststop();
  }

  /** Kills every process of the container and removes its cgroup, mounts and state
   *  directory. Each step is a no-op when already done, so a killed destroy can be re-run. */
  destroy(): void {
    signalProcess(this.state.pid, this.state.startTime, SIGKILL);
    undo({
      cgroup: this.state.cgroup.path,
      cgroupDirs: this.state.cgroup.dirs,
      hostMounts: !ownMountNamespace(this.state.config),
      rootfs: this.state.rootfs,
    });
    removeStateDir(this.dir);
    this.destroyed = true;
  }
}

/**
 * `delete [--force] ID` under the container's lock. A state directory whose state.json is
 * missing (an interrupted create or delete: nothing runs) is removed either way; one whose
 * state.json cannot be read only with --force, by what intent.json records.
 */
export function deleteContainer(root: string, id: string, force: boolean): void {
  const dir = stateDir(root, id);
  const lock = Lock.acquire(dir, id);
  try {
    let state: StoredState;
    try {
      state = readState(root, id);
    } catch (e) {
      if (e instanceof MissingStateError || (force && e instanceof UnreadableStateError)) return removeUnreadable(dir, id, e);
      throw e;
    }
    new Container(root, id, dir, state, lock).delete(force);
  } finally {
    lock.release();
  }
}

function removeUnreadable(dir: string, id: string, e: MissingStateError | UnreadableStateError): void {
  const intent = readIntent(dir);
  if (intent) undo(intent);
  if (e instanceof UnreadableStateError) {
    log.warn(
      intent
        ? `${id}: state.json ${e.why}: removed what intent.json records (no poststop hooks: the config is unknown)`
        : `${id}: state.json ${e.why}, and intent.json is missing or unreadable: the container's processes and cgroups, if any, are unknown and were left alone`,
    );
  }
  // Missing state.json and intent.json: a create killed before it made anything.
  removeStateDir(dir);
}

/** Kills what is in the container's cgroup, removes the cgroup directories create made, and
 *  detaches the container's mounts from ours. Each step is idempotent. */
function undo(i: Intent): void {
  // Before create claimed the cgroup (checked it empty, recorded it), it may be another's.
  if (i.cgroupDirs) {
    const cg = openManager(i.cgroup);
    cg.killAll(SIGKILL);
    cg.destroy(i.cgroupDirs);
  }
  if (i.hostMounts) for (const m of mountsUnder(i.rootfs)) native().umount(m);
}

const SIGKILL = 9;
function initIsPid1(config: Spec): boolean {
  return (config.linux?.namespaces ?? []).some((n) => n.type === 'pid' && !n.path);
}

/** Present while `kill` may have the container frozen (see kill and recover). */
const KILL_MARK = 'kill.thaw';

function writeMark(path: string): void {
  try {
    writeFileSync(path, '');
  } catch {
    // A full disk: the kill goes on, only a crash in it would leave the container frozen.
  }
}

/** Checks resources in the place of the config's, with the config's validator. */
function checkResources(config: Spec, resources: LinuxResources, step: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { validateConfig } = require('./spec/validate') as typeof import('./spec/validate');
  const doc = { ...config, linux: { ...config.linux, resources } };
  const problems = validateConfig(doc).filter((p) => p.pointer.startsWith('/linux/resources'));
  if (problems.length)
    throw new CapsaError(step, problems.map((p) => `${p.pointer.replace('/linux/resources', 'resources')}: ${p.reason}`).join('; '));
}
