// The state directory of one container, <root>/<id>/ (docs/reliability.md):
//   intent.json  what create makes (cgroups, host mounts), written before it makes it
//   state.json   the container's record, from the moment its cgroup is claimed
//   exec.fifo    present while the container waits for `start`
// Both JSON files are replaced atomically (temp file + rename). The directory itself is the
// lock every changing command holds (flock), and its mkdir decides which of two creates wins.
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
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
    real = realpathSync.native(root); // realpath(3): the JS walk costs ~0.5 ms on a cold start
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

/**
 * intent.json: what `delete --force` needs to undo a create when state.json cannot be read.
 * Small, and its format only ever gains fields: any capsa reads any intent.json.
 */
export interface Intent {
  /** The container's cgroup path ("/capsa/web1"). */
  cgroup: string;
  /** The cgroup directories create makes, recorded before the first is made. Absent until
   *  then: the cgroup is not the container's yet (it may be another's), so nothing in it is
   *  killed or removed. */
  cgroupDirs?: string[];
  /** The container shares the runtime's mount namespace: its mounts under the rootfs are in
   *  ours, and delete detaches them. */
  hostMounts: boolean;
  rootfs: string;
}

export const STATE_FILE = 'state.json';
export const INTENT_FILE = 'intent.json';

export function stateDir(root: string, id: string): string {
  return join(stateRoot(root), checkId(id));
}

export function fifoPath(dir: string): string {
  return join(dir, 'exec.fifo');
}

/**
 * Makes the state directory and locks it; fails if the id is taken (mkdir is the arbiter
 * between two creates). The root is created on first use.
 */
export function makeStateDir(root: string, id: string): { dir: string; lock: Lock } {
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
  try {
    return { dir, lock: Lock.acquire(dir, id) };
  } catch (e) {
    // A `delete --force` between our mkdir and flock took the empty directory away.
    if (e instanceof NotFoundError) throw new CapsaError('create', `container ${id} was deleted while it was being created`);
    throw e;
  }
}

/** Writes `name` in `dir` atomically: readers see the old content or the new, never a mix. */
function writeAtomic(dir: string, name: string, text: string): void {
  const tmp = join(dir, `.${name}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, join(dir, name));
  } catch (e) {
    // A full disk must not leave a partial temp file behind.
    try {
      unlinkSync(tmp);
    } catch {
      // none was made
    }
    throw sysError('state', e, join(dir, name));
  }
}

export function writeState(dir: string, s: StoredState): void {
  writeAtomic(dir, STATE_FILE, JSON.stringify(s));
}

export function writeIntent(dir: string, i: Intent): void {
  writeAtomic(dir, INTENT_FILE, JSON.stringify(i));
}

/** state.json exists but cannot be used: empty, truncated, garbled, or from another version. */
export class UnreadableStateError extends CapsaError {
  constructor(
    id: string,
    readonly why: string,
    path: string,
  ) {
    super('state', `${why}; \`delete --force ${id}\` removes the container`, path);
  }
}

/** state.json is missing from an existing state directory: a create or delete of the
 *  container was interrupted (or is under way, if `lockHeld`). */
export class MissingStateError extends CapsaError {
  constructor(
    id: string,
    readonly lockHeld: boolean,
    path: string,
  ) {
    super(
      'state',
      lockHeld
        ? 'missing: the container is being created or deleted right now'
        : `missing: a create or delete of the container was interrupted; \`delete --force ${id}\` removes what is left`,
      path,
    );
  }
}

export function readState(root: string, id: string): StoredState {
  const dir = stateDir(root, id);
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw sysError('state', e, path);
    if (!isDir(dir)) throw new NotFoundError(id);
    throw new MissingStateError(id, Lock.isHeld(dir), path);
  }
  return parseState(text, id, path);
}

/** Checks what every command relies on; anything else is the config's business. */
export function parseState(text: string, id: string, path: string): StoredState {
  const bad = (why: string) => new UnreadableStateError(id, why, path);
  if (text.length === 0) throw bad('is empty');
  let s: StoredState;
  try {
    s = JSON.parse(text);
  } catch (e) {
    throw bad(`is not valid JSON (truncated or corrupt: ${(e as Error).message})`);
  }
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw bad('is not a JSON object');
  if (typeof s.version === 'number' && s.version > STATE_VERSION)
    throw bad(`was written by a newer capsa (state version ${s.version}; this capsa reads version ${STATE_VERSION})`);
  if (s.version !== STATE_VERSION) throw bad(`has state version ${JSON.stringify(s.version)}; this capsa reads version ${STATE_VERSION}`);
  if (s.id !== id) throw bad(`belongs to container ${JSON.stringify(s.id)}`);
  const missing = [
    s.phase === 'creating' || s.phase === 'created' ? '' : 'phase',
    Number.isInteger(s.pid) && s.pid >= 0 ? '' : 'pid',
    typeof s.startTime === 'string' ? '' : 'startTime',
    typeof s.cgroup?.path === 'string' && Array.isArray(s.cgroup.dirs) ? '' : 'cgroup',
    typeof s.config === 'object' && s.config !== null ? '' : 'config',
    typeof s.rootfs === 'string' ? '' : 'rootfs',
  ].filter(Boolean);
  if (missing.length) throw bad(`lacks a valid ${missing.join(', ')}`);
  return s;
}

/** intent.json, or undefined when it is missing or unreadable (the caller says what that means). */
export function readIntent(dir: string): Intent | undefined {
  try {
    const i = JSON.parse(readFileSync(join(dir, INTENT_FILE), 'utf8'));
    if (typeof i?.cgroup !== 'string' || typeof i.rootfs !== 'string') return undefined;
    if (i.cgroupDirs !== undefined && !(Array.isArray(i.cgroupDirs) && i.cgroupDirs.every((d: unknown) => typeof d === 'string'))) return undefined;
    return { cgroup: i.cgroup, cgroupDirs: i.cgroupDirs, hostMounts: i.hostMounts === true, rootfs: i.rootfs };
  } catch {
    return undefined;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Removes the state directory in an order that keeps a crash recoverable: everything else,
 * then state.json, then intent.json (what a re-run still needs, last), then the directory.
 * Re-running it after a crash at any point finishes the job.
 */
export function removeStateDir(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw sysError('state', e, dir);
  }
  const last = [STATE_FILE, INTENT_FILE];
  try {
    for (const n of names) if (!last.includes(n)) rmSync(join(dir, n), { recursive: true, force: true });
    for (const n of last) unlinkIfPresent(join(dir, n));
    rmdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw sysError('state', e, dir);
  }
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * An exclusive lock on the state directory, released by close() or by process exit: the
 * kernel drops a flock with the last fd of its holder, so a dead holder never blocks anyone.
 * The lock's fds are close-on-exec: no hook or container process inherits it.
 */
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
    try {
      native().flock(fd, true, true);
      // While we waited, a delete may have removed the directory (and a create made a new
      // one under the same name): a lock on anything but the directory there now is no lock.
      const held = fstatSync(fd);
      let now;
      try {
        now = statSync(dir);
      } catch {
        now = undefined;
      }
      if (!now || now.ino !== held.ino || now.dev !== held.dev) throw new NotFoundError(id);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
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
