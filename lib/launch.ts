// The parent's side of the conversation with capsa-init (lib/protocol/spec.ts): start it
// from a sealed copy, hand it the plan, answer its requests, and turn its errors into
// CapsaErrors. Everything here is synchronous: each command is one short process.
import { closeSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { CapsaError } from './errors';
import * as log from './log';
import { native } from './native';
import { initPath } from './paths';
import { encodePlan } from './plan/encode';
import type { IdMapping, LaunchPlan } from './plan/types';
import { Attrs, parseAttrs, parseHeader, Writer } from './protocol/codec';
import { HEADER_SIZE, Msg } from './protocol/spec';

export interface LaunchHooks {
  /** Stage 0 exists: put it in the container's cgroup before it creates a cgroup namespace. */
  placeInCgroup(pid: number): void;
  /** The container process exists (its pid in our namespace). */
  onPid?(pid: number): void;
  /** The container process state (config-linux.md) that goes to the seccomp agent with the
   *  listener fd; asked for when the plan has a listener. */
  listenerState?(pid: number): string;
  /** Run prestart and createRuntime hooks; return the state document for init's own hooks. */
  createHooks?(pid: number): string;
  /** READY: record the container (state.json, pid file) before init may outlive us. */
  commit(pid: number): void;
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

function send(fd: number, msg: Buffer): void {
  for (let off = 0; off < msg.length; ) off += writeSync(fd, msg, off, msg.length - off);
}

function readExactly(fd: number, n: number): Buffer | undefined {
  const buf = Buffer.alloc(n);
  for (let off = 0; off < n; ) {
    const got = readSync(fd, buf, off, n - off, null);
    if (got === 0) return undefined;
    off += got;
  }
  return buf;
}

/** The next message, or undefined at EOF (capsa-init exited or exec'd). */
function receive(fd: number): { type: number; attrs: Attrs } | undefined {
  const head = readExactly(fd, HEADER_SIZE);
  if (!head) return undefined;
  const { type, length } = parseHeader(head);
  const body = length ? readExactly(fd, length) : Buffer.alloc(0);
  if (!body) throw new CapsaError('init', 'capsa-init closed the connection in the middle of a message');
  return { type, attrs: parseAttrs(body) };
}

function initError(a: Attrs): CapsaError {
  const errno = a.u32('E_ERRNO') ?? 0;
  return new CapsaError(a.str('E_STEP') ?? 'init', a.str('E_MSG') ?? 'failed', a.str('E_PATH'), errno ? (errnoNames.get(errno) ?? `errno ${errno}`) : undefined);
}

function writeMaps(pid: number, uid: IdMapping[], gid: IdMapping[]): void {
  const text = (maps: IdMapping[]) => maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
  for (const [file, maps] of [['uid_map', uid], ['gid_map', gid]] as const) {
    try {
      writeFileSync(`/proc/${pid}/${file}`, text(maps));
    } catch (e) {
      throw new CapsaError('user namespace', `write ${text(maps).trim().replace(/\n/g, ', ')}`, `/proc/${pid}/${file}`, (e as NodeJS.ErrnoException).code);
    }
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Runs capsa-init with `plan` and drives it to READY (create) or to its execve (exec).
 * Returns the pid of the container's process. On failure every process it made is killed
 * and reaped before the error is thrown. `consoleFd`, when given, is a socket capsa-init
 * sends the pty master to (a terminal with no --console-socket).
 */
export function launch(plan: LaunchPlan, preserveFds: number, hooks: LaunchHooks, consoleFd?: number): number {
  const n = native();
  // We reap stage 0, and the container process comes back to us when it exits.
  n.setSubreaper();
  const [parentEnd, childEnd] = n.socketpair();
  const exe = n.sealedCopy(initPath);
  const fds = [0, 1, 2];
  for (let i = 0; i < preserveFds; i++) fds.push(3 + i);
  fds.push(childEnd);
  const env = [`_CAPSA_SYNC_FD=${fds.length - 1}`];
  if (consoleFd !== undefined) {
    fds.push(consoleFd);
    env.push(`_CAPSA_CONSOLE_FD=${fds.length - 1}`);
  }
  let stage0 = 0;
  let pid = 0;
  try {
    stage0 = n.spawn(exe, fds, env);
  } finally {
    closeSync(childEnd);
    closeSync(exe);
  }
  let open = true;
  const hangUp = () => {
    if (open) closeSync(parentEnd);
    open = false;
  };
  try {
    hooks.placeInCgroup(stage0);
    send(parentEnd, encodePlan(plan));
    for (;;) {
      const m = receive(parentEnd);
      if (!m) {
        const st = n.waitpid(pid || stage0);
        throw new CapsaError('init', `capsa-init exited unexpectedly (${st.signal ? `signal ${st.signal}` : `status ${st.code}`})`);
      }
      if (m.type === Msg.ERROR) throw initError(m.attrs);
      if (m.type === Msg.WARNING) {
        log.warn(initError(m.attrs).message);
        continue;
      }
      if (m.type === Msg.MAPS_REQUEST) {
        writeMaps(m.attrs.u32('PID')!, plan.uidMappings, plan.gidMappings);
        send(parentEnd, new Writer().message(Msg.MAPS_DONE));
      } else if (m.type === Msg.PID) {
        pid = m.attrs.u32('PID')!;
        const st = n.waitpid(stage0);
        stage0 = 0;
        if (st.code !== 0) throw new CapsaError('init', `capsa-init stage 0 exited with ${st.code ?? `signal ${st.signal}`}`);
        hooks.onPid?.(pid);
        const go = new Writer();
        if (plan.seccomp?.listenerPath) {
          if (!hooks.listenerState) throw new CapsaError('seccomp', 'no container process state for the seccomp agent');
          go.str('SECCOMP_STATE', hooks.listenerState(pid));
        }
        send(parentEnd, go.message(Msg.CONTINUE));
      } else if (m.type === Msg.HOOKS_REQUEST) {
        const state = hooks.createHooks?.(pid) ?? '{}';
        send(parentEnd, new Writer().str('STATE_JSON', state).message(Msg.HOOKS_DONE));
      } else if (m.type === Msg.READY) {
        break;
      } else {
        throw new CapsaError('init', `unexpected message ${m.type} from capsa-init`);
      }
    }
    hooks.commit(pid);
    send(parentEnd, new Writer().message(Msg.COMMIT));
    // capsa-init clears its PDEATHSIG on COMMIT, then closes the socket (create) or execs
    // (exec): until the socket closes, our exit would kill it. An ERROR instead means the
    // exec failed.
    const m = receive(parentEnd);
    if (m?.type === Msg.ERROR) throw initError(m.attrs);
    return pid;
  } catch (e) {
    // Hanging up first: a capsa-init blocked on the socket then exits by itself.
    hangUp();
    for (const p of [stage0, pid]) {
      if (!p) continue;
      kill(p);
      try {
        n.waitpid(p);
      } catch {
        // not our child (yet): its parent reaps it
      }
    }
    throw e;
  } finally {
    hangUp();
  }
}
