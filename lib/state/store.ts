// The state directory of one container: <root>/<id>/ holding state.json (replaced atomically),
// exec.fifo (present while the container waits for `start`), and the directory itself as the
// lock every changing command holds (flock).
import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CapsaError, NotFoundError, sysError } from '../errors';
import { native } from '../native';
import type { Spec } from '../spec/types';
import { checkId } from './id';

export const STATE_VERSION = 1;

/** What state.json holds. Status is never stored: it is derived (./status.ts). */
export interface StoredState {
  version: number;
  id: string;
  /** "creating" from the first write of create (an intent: what to undo) until it finished. */
  phase: 'creating' | 'created';
  /** The container's init in the runtime's pid namespace, 0 until known. */
  pid: number;
  /** Its start time (field 22 of /proc/PID/stat), so a reused pid is never mistaken for it. */
  startTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  /** The cgroup the container lives in, and the directories create made for it. */
  cgroup: { path: string; dirs: string[] };
  /** The validated config; start, exec and delete read hooks and defaults from it. */
  config: Spec;
  /** Created with --no-new-keyring: exec joins no session keyring either. */
  noNewKeyring?: boolean;
}

const roots = new Map<string, string>();

/**
 * The state root, checked once per process: a symlink is followed once, to the directory it
 * names, and that directory must be ours and writable by no one else: its state.json files
 * tell `delete` which processes to kill and which cgroups and mounts to remove. Not there yet
 * is fine (create makes it).
 */
export function stateRoot(root: string): string {
  const known = roots.get(root);
  if (known) return known;
  let real: string;
  try {
    real = realpathSync(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return resolve(root);
    throw sysError('state root', e, root);
  }
  const st = statSync(real);
  const uid = process.geteuid?.() ?? 0;
  if (!st.isDirectory()) throw new CapsaError('state root', 'is not a directory', root);
  if (st.uid !== uid) throw new CapsaError('state root', `belongs to uid ${st.uid}, not to ${uid}: refused`, root);
  if (st.mode & 0o022) {
    const who = [st.mode & 0o020 && 'its group', st.mode & 0o002 && 'others'].filter(Boolean).join(' and ');
    throw new CapsaError('state root', `is writable by ${who} (mode ${(st.mode & 0o7777).toString(8)}): refused, they could plant container state there`, root);
  }
  roots.set(root, real);
  return real;
}

export function stateDir(root: string, id: string): string {
  return join(stateRoot(root), checkId(id));
}

export function fifoPath(dir: string): string {
  return join(dir, 'exec.fifo');
}

/** Makes the state directory; fails if the id is taken. The root is created on first use. */
export function makeStateDir(root: string, id: string): string {
  const dir = stateDir(root, id);
  try {
    mkdirSync(root, { recursive: true, mode: 0o711 });
  } catch (e) {
    throw sysError('state', e, root);
  }
  try {
    // 0711: a container process in a user namespace reaches exec.fifo inside, nothing else.
    mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CapsaError('create', `container with id exists: ${id}`);
    throw sysError('state', e, dir);
  }
  return dir;
}

export function writeState(dir: string, s: StoredState): void {
  const tmp = join(dir, '.state.json.tmp');
  try {
    writeFileSync(tmp, JSON.stringify(s), { mode: 0o600 });
    renameSync(tmp, join(dir, 'state.json'));
  } catch (e) {
    throw sysError('state', e, join(dir, 'state.json'));
  }
}

export function readState(root: string, id: string): StoredState {
  const dir = stateDir(root, id);
  let text: string;
  try {
    text = readFileSync(join(dir, 'state.json'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(id);
    throw sysError('state', e, join(dir, 'state.json'));
  }
  let s: StoredState;
  try {
    s = JSON.parse(text);
  } catch {
    throw new CapsaError('state', 'state.json is corrupt', join(dir, 'state.json'));
  }
  if (s?.version !== STATE_VERSION || s.id !== id)
    throw new CapsaError('state', `state.json has version ${JSON.stringify(s?.version)}, capsa reads ${STATE_VERSION}`, join(dir, 'state.json'));
  return s;
}

export function removeStateDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** An exclusive lock on the state directory, released by close() or by process exit. */
export class Lock {
  private constructor(private fd: number) {}

  static acquire(dir: string, id: string): Lock {
    let fd: number;
    try {
      fd = openSync(dir, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(id);
      throw sysError('lock', e, dir);
    }
    native().flock(fd, true, true);
    return new Lock(fd);
  }

  /** True if someone else holds the lock right now (a create in progress). */
  static isHeld(dir: string): boolean {
    let fd: number;
    try {
      fd = openSync(dir, 'r');
    } catch {
      return false;
    }
    try {
      return !native().flock(fd, false, false);
    } finally {
      closeSync(fd);
    }
  }

  release(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
