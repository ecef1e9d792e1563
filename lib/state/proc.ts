// What /proc says about a process: enough to tell a live init from a reused pid.
import { readFileSync } from 'node:fs';

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
