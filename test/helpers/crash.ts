// Killing capsa at exact points: a reference run under strace lists the system calls of its
// main thread; each one that changes the machine (a mkdir, a write, a rename, a spawn, a
// message to capsa-init, ...) is a kill point, and strace's fault injection delivers SIGKILL
// on entry to the N-th call of that system call in a second run. The machine's state can
// only change through system calls, so killing before each of them reaches every state a
// crash can leave. The state of capsa-init, which runs concurrently, is sampled by the kill
// points at which capsa waits for it (its reads of the sync socket).
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { type Env, ROOT_DIR } from './capsa';
import { leftovers, liveChildren, mountsAt, processesInCgroup, reapZombies, waitFor } from './machine';

export const STRACE = '/usr/bin/strace';

export function straceReason(): string | undefined {
  return existsSync(STRACE) ? undefined : 'needs strace (apt-get install strace)';
}

export interface Call {
  /** Line number in the trace (0-based). */
  index: number;
  name: string;
  args: string;
  ret: string;
  /** How many calls of this name came before, plus one: strace's `when=` for it. */
  n: number;
}

export interface Point {
  syscall: string;
  n: number;
  /** The call killed on entry, as the reference trace printed it (shortened). */
  label: string;
  /** A coarse kind ("mkdir /sys/fs/cgroup", "write state.json"), for sampling and reports. */
  kind: string;
}

const LINE = /^(\w+)\((.*)\)\s+=\s+(.*)$/;

export function parseTrace(text: string): Call[] {
  const counts = new Map<string, number>();
  const calls: Call[] = [];
  text.split('\n').forEach((line, index) => {
    const m = LINE.exec(line);
    if (!m) return;
    const n = (counts.get(m[1]) ?? 0) + 1;
    counts.set(m[1], n);
    calls.push({ index, name: m[1], args: m[2], ret: m[3], n });
  });
  return calls;
}

/** Runs `capsa --root <root> args` under strace; returns its exit status and the trace. */
export function straceRun(env: Env, args: string[], inject?: Point): { status: number | null; trace: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'capsa-strace-'));
  try {
    const out = join(dir, 'trace');
    const opts = ['-o', out, '-s', '200'];
    if (inject) opts.push('-e', `trace=${inject.syscall}`, '-e', `inject=${inject.syscall}:signal=KILL:when=${inject.n}`);
    const r = env.runUnder([STRACE, ...opts], args);
    return { status: r.status, trace: existsSync(out) ? readFileSync(out, 'utf8') : '', stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** capsa's own files: the code caches dist/boot.js writes after a command's first run are no
 *  container's state (and the next run does not write them again). */
const INSTALL = join(ROOT_DIR, 'dist') + '/';
const PATHS_CHANGED = new Set(['mkdir', 'mkdirat', 'rmdir', 'unlink', 'unlinkat', 'rename', 'renameat', 'renameat2', 'mknodat', 'chmod', 'umount2']);
const PROCESS = new Set(['clone', 'vfork', 'fork', 'wait4', 'waitid', 'kill', 'pidfd_open', 'pidfd_send_signal', 'prctl', 'flock']);

/**
 * The kill points of a reference trace: from the first call that mentions `from` (the state
 * root, say), every call that changes the machine or hands something to another process:
 * path changes, process operations, opens for writing, writes to what it opened, and the
 * reads, writes and closes of its sockets (each a step of the conversation with capsa-init)
 * and of its lock. Reads of files change nothing and are not points.
 */
export function killPoints(trace: string, from: string): Point[] {
  const calls = parseTrace(trace);
  const start = calls.findIndex((c) => c.name !== 'execve' && c.args.includes(from));
  if (start < 0) return [];
  // fd -> what it is, for the fds the command opened for writing, its sockets and its lock.
  const fds = new Map<number, string>();
  const points: Point[] = [];
  const repeats = new Map<string, number>();
  const fdPaths = new Map<number, string>();
  let step = 0;
  for (const c of calls.slice(start)) {
    const path = /"([^"]*)"/.exec(c.args)?.[1] ?? '';
    const fd = Number(/^(?:\[\{fd=)?(\d+)/.exec(c.args)?.[1] ?? -1);
    if (path.startsWith(INSTALL)) continue;
    let kind: string | undefined;
    if (PATHS_CHANGED.has(c.name)) kind = c.name === 'rename' ? `rename ${pathKind(/"[^"]*", "([^"]*)"/.exec(c.args)?.[1] ?? '')}` : `${c.name} ${pathKind(path, from)}`;
    else if (PROCESS.has(c.name) || (c.name === 'clone3' && !c.args.includes('CLONE_THREAD'))) kind = `${c.name} #${++step}`;
    else if (c.name === 'openat' && /O_WRONLY|O_RDWR|O_CREAT/.test(c.args)) kind = pathKind(path);
    else if (c.name === 'socketpair') kind = `socketpair #${++step}`;
    else if (['write', 'pwrite64', 'writev', 'read', 'close', 'sendmsg', 'recvmsg', 'poll', 'ppoll'].includes(c.name) && fds.has(fd)) {
      const what = fds.get(fd)!;
      // Every message to or from capsa-init, and the lock's release, is a step of its own.
      if (what === 'socket' || what === 'lock' || what === 'fifo') kind = `${c.name} ${what} #${++step}`;
      else if (c.name !== 'read' && !c.name.includes('poll')) kind = what;
    }
    // Opening exec.fifo, even to read, is what releases a waiting capsa-init: a step.
    if (c.name === 'openat' && path.endsWith('/exec.fifo')) kind = `openat exec.fifo #${++step}`;
    if (c.name === 'openat' && /^\d+$/.test(c.ret) && /O_WRONLY|O_RDWR|O_CREAT/.test(c.args)) fds.set(Number(c.ret), pathKind(path));
    if (c.name === 'openat' && /^\d+$/.test(c.ret) && path.endsWith('/exec.fifo')) fds.set(Number(c.ret), 'fifo');
    if (c.name === 'flock' && /LOCK_EX/.test(c.args) && c.ret === '0') fds.set(fd, 'lock');
    if (c.name === 'socketpair') for (const s of /\[(\d+), (\d+)\]/.exec(c.args)?.slice(1) ?? []) fds.set(Number(s), 'socket');
    if (c.name === 'openat' && /^\d+$/.test(c.ret)) fdPaths.set(Number(c.ret), path);
    const label = `${c.name}(${c.args.slice(0, 90)})`;
    // A polling loop (the freezer's FREEZING -> FROZEN, an EBUSY rmdir) repeats the same
    // calls a varying number of times: its first two rounds are points, the rest would drift.
    const key = `${label} ${fdPaths.get(fd) ?? ''}`;
    const seen = (repeats.get(key) ?? 0) + 1;
    repeats.set(key, seen);
    if (kind && seen <= 2) points.push({ syscall: c.name, n: c.n, label, kind });
    if (c.name === 'close') fds.delete(fd);
  }
  return points;
}

/** "state.json.tmp", "cgroup procs", "cgroup dir", ...: what a path is, for grouping. */
function pathKind(path: string, root = ''): string {
  if (root && path === root) return 'root';
  if (root && path.startsWith(root + '/') && !path.slice(root.length + 1).includes('/')) return 'state dir';
  if (path.startsWith('/sys/fs/cgroup/')) {
    const file = path.slice(path.lastIndexOf('/') + 1);
    return /^[a-z_]+\.[a-z_.]+$/.test(file) ? `cgroup ${file.replace(/^cgroup\./, '').replace(/\..*/, '')}` : 'cgroup dir';
  }
  if (path.startsWith('/proc/')) return 'proc';
  const base = path.slice(path.lastIndexOf('/') + 1).replace(/^\./, '');
  return /^(state|intent)\.json(\.tmp)?$|^exec\.fifo$/.test(base) ? base : 'dir';
}

/** CAPSA_CRASH_FULL=1: every kill point, not a sample (minutes per command). */
export const FULL = process.env.CAPSA_CRASH_FULL === '1';

/**
 * The points to try: all of them with CAPSA_CRASH_FULL=1; otherwise the first of each run of
 * same-kind points (twenty cgroup mkdirs in a row are twenty states, but of one kind), which
 * keeps every distinct step (each message to capsa-init is a kind of its own) and CI short.
 */
export function samplePoints(points: Point[]): Point[] {
  if (FULL) return points;
  return points.filter((p, i) => i === 0 || points[i - 1].kind !== p.kind);
}

/** The call a kill run died on, from its trace ("+++ killed by SIGKILL +++" follows it). */
export function killedAt(trace: string): string | undefined {
  const lines = trace.split('\n');
  const k = lines.findIndex((l) => l.startsWith('+++ killed by SIGKILL'));
  if (k < 0) return undefined;
  for (let i = k - 1; i >= 0; i--) if (LINE.test(lines[i])) return lines[i];
  return '';
}

let checks = 0;

function runsInit(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`) === '/memfd:capsa-init (deleted)';
  } catch {
    return false;
  }
}

export interface Outcome {
  point: Point;
  /** The call the run was killed on (undefined: it was not killed, the counts drifted). */
  killedAt?: string;
  /** What the killed command left: a state directory, a committed container. */
  stateDir: boolean;
  committed: boolean;
}

/**
 * After capsa was killed: nothing it started may outlive it unless the container was
 * committed (PDEATHSIG until COMMIT); `state` and `list` answer clearly; `delete --force`
 * succeeds (or says "does not exist" when nothing was made); and then nothing of the
 * container is left: state directory, cgroups, processes, mounts under `rootfs`.
 */
export async function checkAfterKill(t: Test, env: Env, id: string, rootfs: string, point: Point, trace: string): Promise<Outcome> {
  const dir = join(env.root, id);
  let committedPid = 0;
  try {
    const s = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    if (s.phase === 'created') committedPid = s.pid;
  } catch {
    // none, or not readable: nothing was committed
  }
  // capsa-init dies with the capsa that started it until COMMIT; after it, the container's
  // init (create) or the process exec started lives on, in the container's cgroup.
  const inCgroup = new Set(processesInCgroup(`${env.cgroupParent}/${id}`));
  const stray = () => liveChildren().filter((p) => p.pid !== committedPid && (runsInit(p.pid) || !inCgroup.has(p.pid)));
  await waitFor(() => stray().length === 0, 5000).catch(() => undefined);
  const where = `killed before ${point.label}`;
  t.same(stray(), [], `${where}: nothing it started outlives it, unless committed`);

  const st = env.run(['state', id]);
  if (st.status === 0) t.match(JSON.parse(st.stdout), { id }, `${where}: state answers`);
  else t.match(st.stderr, /does not exist|state\.json|state: /, `${where}: state says why it cannot answer`);
  // list reads every container the same way as state: sampled, it costs a start-up each.
  if (FULL || checks++ % 4 === 0) {
    const ls = env.run(['list']);
    t.equal(ls.status, 0, `${where}: list works: ${ls.stderr}`);
  }

  const existed = existsSync(dir);
  const del = env.run(['delete', '--force', id]);
  if (existed) t.equal(del.status, 0, `${where}: delete --force succeeds: ${del.stderr}`);
  else t.match(del, { status: 1, stderr: /does not exist/ }, `${where}: nothing was made: delete --force says so`);
  t.same(leftovers(env, id), [], `${where}: nothing of the container is left`);
  // A killed process leaves its cgroup (so delete can remove it) a moment before it is a zombie.
  await waitFor(() => (reapZombies(), liveChildren().length === 0), 2000).catch(() => undefined);
  t.same(liveChildren(), [], `${where}: no process is left`);
  t.same(mountsAt(rootfs), [], `${where}: no mount is left`);
  return { point, killedAt: killedAt(trace), stateDir: existed, committed: committedPid !== 0 };
}

/** One line per outcome, for the test log (and docs/reliability.md's table). */
export function describe(outcomes: Outcome[]): string {
  return outcomes
    .map((o) => {
      // Where a command retries (an EBUSY rmdir, say), the N-th call can be another one than
      // in the reference run: the line says where it really died.
      const at = o.killedAt === undefined ? `${o.point.label} (not killed: the calls drifted)` : o.killedAt.replace(/\s+= \?$/, '');
      return `${at.slice(0, 76).padEnd(76)} ${o.stateDir ? (o.committed ? 'committed' : 'state dir') : 'nothing'}`;
    })
    .join('\n');
}

export interface Sweep {
  id: string;
  /** The command, without --root. */
  args: string[];
  /** Mounts under this directory are the container's: none may be left. */
  rootfs: string;
  /** Brings the container to where the command starts (nothing, created, running). */
  setup?: () => void;
  /** Which kill points to try; samplePoints by default. */
  pick?: (points: Point[]) => Point[];
  /** Checks what the killed command left, before checkAfterKill deletes it. */
  verify?: (t: Test, where: string) => Promise<void> | void;
}

/** Kills the command at each picked point of a reference run and checks the machine after
 *  each; returns the outcomes (also printed as a test comment). */
export async function sweep(t: Test, env: Env, s: Sweep): Promise<Outcome[]> {
  s.setup?.();
  const ref = straceRun(env, s.args);
  t.equal(ref.status, 0, `the reference run succeeds: ${ref.stderr}`);
  env.run(['delete', '--force', s.id]);
  reapZombies();
  const points = (s.pick ?? samplePoints)(killPoints(ref.trace, env.root));
  t.ok(points.length >= 3, `${points.length} kill points`);
  const outcomes: Outcome[] = [];
  for (const p of points) {
    s.setup?.();
    const r = straceRun(env, s.args, p);
    await s.verify?.(t, `killed before ${p.label}`);
    outcomes.push(await checkAfterKill(t, env, s.id, s.rootfs, p, r.trace));
  }
  t.comment(`${s.args[0]} ${s.id}: killed before each of ${points.length} calls:\n${describe(outcomes)}`);
  const killed = outcomes.filter((o) => o.killedAt !== undefined).length;
  // A syscall's count can drift between runs (an rmdir retried on EBUSY while a killed
  // process leaves its cgroup), so the N-th call may not come: one run in ten may miss, and
  // one always may (with 9 points, 90% allowed none).
  const misses = Math.max(1, Math.floor(points.length / 10));
  t.ok(killed >= points.length - misses, `${killed} of ${points.length} runs were killed where planned`);
  return outcomes;
}
