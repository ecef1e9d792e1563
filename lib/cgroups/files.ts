// Synchronous cgroup file access. Each value goes to the kernel in one write(2) on an fd
// opened O_WRONLY without O_CREAT (cgroupfs parses per write; some files are write-only).
import { closeSync, constants, openSync, readFileSync, readdirSync, rmdirSync, writeSync } from 'node:fs';
import { CapsaError } from '../errors';

export function cgError(err: unknown, file: string, reason: string): CapsaError {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof CapsaError) return err;
  return new CapsaError('cgroup', reason, file, typeof e?.code === 'string' ? e.code : undefined);
}

/** The errno name of a Node system error or of a CapsaError made from one. */
export function errno(err: unknown): string | undefined {
  if (err instanceof CapsaError) return err.errnoCode;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Writes `value` to dir/file; errors name the file and the value. */
export function writeValue(dir: string, file: string, value: string): void {
  const path = `${dir}/${file}`;
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY);
  } catch (err) {
    throw cgError(err, path, `write ${JSON.stringify(value)}`);
  }
  try {
    writeSync(fd, value);
  } catch (err) {
    throw cgError(err, path, `write ${JSON.stringify(value)}`);
  } finally {
    closeSync(fd);
  }
}

export function readValue(dir: string, file: string): string {
  const path = `${dir}/${file}`;
  try {
    return readFileSync(path, 'latin1');
  } catch (err) {
    throw cgError(err, path, 'read');
  }
}

/** The file's text, or undefined when it does not exist (a controller or kernel feature absent). */
export function readOptional(dir: string, file: string): string | undefined {
  try {
    return readFileSync(`${dir}/${file}`, 'latin1');
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'ENODEV') return undefined;
    throw cgError(err, `${dir}/${file}`, 'read');
  }
}

export type U64 = number | bigint;

/** A cgroup number; "max" is the u64 maximum (as runc reports it); exact past 2^53 as bigint. */
export function parseU64(text: string, file = ''): U64 {
  const s = text.trim();
  if (s === 'max') return 18446744073709551615n;
  if (!/^-?\d+$/.test(s)) throw new CapsaError('cgroup', `not a number: ${JSON.stringify(s)}`, file || undefined);
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : BigInt(s);
}

export function readU64(dir: string, file: string): U64 {
  return parseU64(readValue(dir, file), `${dir}/${file}`);
}

export function readU64Optional(dir: string, file: string): U64 | undefined {
  const t = readOptional(dir, file);
  return t === undefined ? undefined : parseU64(t, `${dir}/${file}`);
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, ...). */
export function parseFlatKeyed(text: string): Map<string, U64> {
  const out = new Map<string, U64>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out.set(k, parseU64(v));
  }
  return out;
}

/** Addition for u64 values of either representation. */
export function u64Add(a: U64, b: U64): U64 {
  if (typeof a === 'number' && typeof b === 'number' && Number.isSafeInteger(a + b)) return a + b;
  const r = BigInt(a) + BigInt(b);
  return r <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r) : r;
}

/** The pids in one cgroup.procs file. */
export function readProcs(dir: string): number[] {
  const t = readValue(dir, 'cgroup.procs');
  const out: number[] = [];
  for (const l of t.split('\n')) if (l) out.push(Number(l));
  return out;
}

/** Sub-cgroup directory names of `dir` (a container may make its own). */
export function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch (err) {
    if (errno(err) === 'ENOENT') return [];
    throw cgError(err, dir, 'read directory');
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * rmdir of a cgroup, retrying EBUSY for a while: a process killed a moment ago may still be
 * leaving. Removes the container's own sub-cgroups first (children before parents).
 * Returns false when the directory did not exist.
 */
export function removeCgroup(dir: string, busyMs = 1000): boolean {
  for (const sub of subdirs(dir)) removeCgroup(`${dir}/${sub}`, busyMs);
  let wait = 1;
  const deadline = Date.now() + busyMs;
  for (;;) {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      const code = errno(err);
      if (code === 'ENOENT') return false;
      if (code === 'EBUSY' && Date.now() < deadline) {
        sleepMs(wait);
        wait = Math.min(wait * 2, 50);
        continue;
      }
      throw cgError(err, dir, 'remove cgroup');
    }
  }
}
