// Status is derived from the live system each time, never trusted from disk alone.
import { existsSync } from 'node:fs';
import { fifoPath, Lock, StoredState } from './store';
import { isAlive, runsInit } from './proc';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface StatusProbe {
  /** True if the container's cgroup is frozen. */
  frozen(s: StoredState): boolean;
}

/**
 * `locked`: the caller holds the container's lock, so a create still "creating" is one whose
 * runtime died (a live create holds the lock until it is done).
 */
export function deriveStatus(s: StoredState, dir: string, probe: StatusProbe, locked = false): Status {
  if (s.phase === 'creating') return !locked && Lock.isHeld(dir) ? 'creating' : 'stopped';
  if (!isAlive(s.pid, s.startTime)) return 'stopped';
  // A frozen container is paused even before start (runc checks the freezer first too).
  if (probe.frozen(s)) return 'paused';
  // Created until capsa-init execs the user's program. exec.fifo alone could lie: a `start`
  // killed after the exec but before it removed the fifo leaves it behind.
  const init = runsInit(s.pid);
  if (init !== undefined) return init ? 'created' : 'running';
  return existsSync(fifoPath(dir)) ? 'created' : 'running';
}

/** The state document of the runtime spec (runtime.md "State"), as runc prints it. */
export interface StateDoc {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export function stateDoc(s: StoredState, status: Status): StateDoc {
  const doc: StateDoc = {
    ociVersion: s.config.ociVersion,
    id: s.id,
    pid: status === 'stopped' ? 0 : s.pid,
    status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    owner: s.owner,
  };
  if (s.config.annotations) doc.annotations = s.config.annotations;
  return doc;
}
