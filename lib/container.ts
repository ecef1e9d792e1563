// The container lifecycle once it exists: start, kill, pause, delete, and what `state`
// reports. Creating one is ./create.ts, loaded only by the commands that create.
import { closeSync, rmSync } from 'node:fs';
import { CgroupManager, type LinuxResources, openManager, type Stats } from './cgroups';
import { planUpdate } from './cgroups/update';
import { CapsaError } from './errors';
import { runHooks } from './hooks';
import * as log from './log';
import { native } from './native';
import type { Spec } from './spec/types';
import { ownMountNamespace, mountsUnder } from './state/hostmounts';
import { isAlive } from './state/proc';
import { deriveStatus, stateDoc, Status, StateDoc } from './state/status';
import { fifoPath, Lock, readState, removeStateDir, stateDir, StoredState, writeState } from './state/store';

export class Container {
  /** The pty master of a foreground run's terminal, once create has received it. */
  consoleMaster?: number;
  /** Set once destroy() removed everything: nothing more to delete. */
  destroyed = false;
  private held?: Lock;

  constructor(
    readonly root: string,
    readonly id: string,
    readonly dir: string,
    readonly state: StoredState,
  ) {}

  static load(root: string, id: string): Container {
    return new Container(root, id, stateDir(root, id), readState(root, id));
  }

  cgroup(): CgroupManager {
    return openManager(this.state.cgroup.path);
  }

  status(): Status {
    return deriveStatus(this.state, this.dir, { frozen: () => this.cgroup().frozen() });
  }

  doc(status = this.status()): StateDoc {
    return stateDoc(this.state, status);
  }

  /** Holds the container's lock until unlock() or the end of this process (commands are
   *  short-lived; a foreground run unlocks while it waits). */
  lock(): this {
    this.held ??= Lock.acquire(this.dir, this.id);
    return this;
  }

  unlock(): void {
    this.held?.release();
    this.held = undefined;
  }

  /** Lets the waiting init exec the user's process, then runs poststart hooks. */
  start(): void {
    const status = this.status();
    if (status !== 'created') throw new CapsaError('start', `cannot start a container that is ${status}`);
    const n = native();
    const pidfd = n.pidfdOpen(this.state.pid);
    // The pid could have been reused between status() and pidfdOpen(): check again via the fd.
    if (!isAlive(this.state.pid, this.state.startTime)) throw new CapsaError('start', 'container not running');
    const out = n.awaitFifo(fifoPath(this.dir), pidfd);
    closeSync(pidfd);
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
    if (status === 'stopped' || status === 'creating') {
      // With --all, as runc: whatever is left in the cgroup gets the signal, and none left is
      // no error (containerd's CRI plugin sends `kill --all ID 9` after the init exited).
      if (all) return this.cgroup().killAll(signal);
      throw new CapsaError('kill', 'container not running');
    }
    if (all) return this.cgroup().killAll(signal);
    const n = native();
    const pidfd = n.pidfdOpen(this.state.pid);
    if (!isAlive(this.state.pid, this.state.startTime)) throw new CapsaError('kill', 'container not running');
    n.pidfdSendSignal(pidfd, signal);
    // A v1-frozen process dies of SIGKILL only once thawed (runc thaws for it too).
    if (signal === SIGKILL && status === 'paused') this.cgroup().thaw();
  }

  /** Removes the container. Without `force` only a created or stopped one; with it, any. */
  delete(force: boolean): void {
    const status = this.status();
    if ((status === 'running' || status === 'paused') && !force)
      throw new CapsaError('delete', `cannot delete container ${this.id} that is not stopped: ${status}`);
    this.destroy();
    if (status !== 'creating') this.poststop();
  }

  /** Kills every process of the container and removes its cgroup and state directory. */
  destroy(): void {
    const cg = this.cgroup();
    if (isAlive(this.state.pid, this.state.startTime)) {
      try {
        process.kill(this.state.pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    cg.killAll(9);
    cg.destroy(this.state.cgroup.dirs);
    if (!ownMountNamespace(this.state.config)) for (const m of mountsUnder(this.state.rootfs)) native().umount(m);
    removeStateDir(this.dir);
    this.destroyed = true;
  }
}

const SIGKILL = 9;

/** Checks resources in the place of the config's, with the config's validator. */
function checkResources(config: Spec, resources: LinuxResources, step: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { validateConfig } = require('./spec/validate') as typeof import('./spec/validate');
  const doc = { ...config, linux: { ...config.linux, resources } };
  const problems = validateConfig(doc).filter((p) => p.pointer.startsWith('/linux/resources'));
  if (problems.length)
    throw new CapsaError(step, problems.map((p) => `${p.pointer.replace('/linux/resources', 'resources')}: ${p.reason}`).join('; '));
}
