// What /proc says about a process: enough to tell a live init from a reused pid.
import { closeSync, readFileSync, readlinkSync } from 'node:fs';
import { native } from '../native';

export interface ProcStat {
  /** One-letter state: R, S, D, Z, T, ... */
  state: string;
  /** Field 22: start time in clock ticks since boot. Same pid + same start time = same process. */
  startTime: string;
}

export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], startTime: fields[19] };
}

/** True if `pid` is the very process that was recorded and has not exited. */
export function isAlive(pid: number, startTime: string): boolean {
  if (!pid) return false;
  const s = procStat(pid);
  return !!s && s.startTime === startTime && s.state !== 'Z' && s.state !== 'X';
}

/** capsa-init runs from a sealed memfd of this name (native/addon/process.cc sealedCopy). */
const INIT_EXE = '/memfd:capsa-init (deleted)';

/**
 * Whether `pid` still runs capsa-init, i.e. has not exec'd the user's program yet; undefined
 * when /proc does not say. Unlike exec.fifo, this cannot be left stale by a killed `start`.
 */
export function runsInit(pid: number): boolean | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`) === INIT_EXE;
  } catch {
    return undefined;
  }
}

/**
 * A pidfd for the recorded process, or undefined if it is gone or its pid now belongs to
 * another. The pidfd is opened first and the start time checked after: a pid reused later
 * cannot redirect it, so signals sent through it reach the recorded process or nobody.
 */
export function openProcess(pid: number, startTime: string): number | undefined {
  if (!pid) return undefined;
  let fd: number;
  try {
    fd = native().pidfdOpen(pid);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw e;
  }
  if (isAlive(pid, startTime)) return fd;
  closeSync(fd);
  return undefined;
}

/** Signals the recorded process if it is still that process; false if it is not. */
export function signalProcess(pid: number, startTime: string, signal: number): boolean {
  const fd = openProcess(pid, startTime);
  if (fd === undefined) return false;
  try {
    native().pidfdSendSignal(fd, signal);
    return true;
  } catch (e) {
    // Exited between the check and the signal: the pidfd still names it, so nobody else is hit.
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  } finally {
    closeSync(fd);
  }
}
