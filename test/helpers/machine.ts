// What a container leaves on the machine: state directory, cgroup directories, processes,
// mounts. Tests assert that all of it is gone.
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../../lib/native';
import type { Env } from './capsa';

export function cgroupDirs(env: Env, id: string): string[] {
  const dirs: string[] = [];
  // '' is the cgroup2 root of a unified host, the others v1 controllers or hybrid's unified.
  for (const ctrl of ['', ...readdirSync('/sys/fs/cgroup')]) {
    const d = join('/sys/fs/cgroup', ctrl, env.cgroupParent, id);
    if (existsSync(d)) dirs.push(d);
  }
  return dirs;
}

/** Everything of container `id` still on the machine, described; [] when clean. */
export function leftovers(env: Env, id: string, pid?: number): string[] {
  const left: string[] = [];
  if (existsSync(join(env.root, id))) left.push(`state directory ${join(env.root, id)}`);
  for (const d of cgroupDirs(env, id)) left.push(`cgroup ${d}`);
  if (pid && existsSync(`/proc/${pid}`)) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (!/\) Z /.test(stat)) left.push(`process ${pid}`);
  }
  return left;
}

export async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Mount points at or under `dir` in our mount namespace. */
export function mountsAt(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => mp === dir || mp.startsWith(dir + '/'));
}

export interface Proc {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
}

export function procs(): Proc[] {
  const out: Proc[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${e}/stat`, 'latin1');
    } catch {
      continue;
    }
    const close = text.lastIndexOf(')');
    const f = text.slice(close + 2).split(' ');
    out.push({ pid: Number(e), comm: text.slice(text.indexOf('(') + 1, close), state: f[0], ppid: Number(f[1]) });
  }
  return out;
}

/** Our children that have not exited. With us as subreaper (see adoptOrphans), these include
 *  every process a killed capsa left behind, at any depth below it. */
export function liveChildren(): Proc[] {
  return procs().filter((p) => p.ppid === process.pid && p.state !== 'Z' && p.state !== 'X');
}

/** Processes whose cgroup (any hierarchy) is at or under `path`. */
export function processesInCgroup(path: string): number[] {
  const pids: number[] = [];
  for (const p of procs()) {
    try {
      const cg = readFileSync(`/proc/${p.pid}/cgroup`, 'utf8');
      if (cg.split('\n').some((l) => { const c = l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1); return c === path || c.startsWith(path + '/'); })) pids.push(p.pid);
    } catch {
      // exited
    }
  }
  return pids;
}

/** Makes this test process the subreaper of everything it starts, so orphans of a killed
 *  capsa come back to it, where liveChildren() sees them; reapZombies() collects them. */
export function adoptOrphans(): void {
  native().setSubreaper();
}

export function reapZombies(): void {
  for (const p of procs()) if (p.ppid === process.pid && p.state === 'Z') native().waitpid(p.pid);
}

/** Machine-wide counters that a leak makes grow: for soak tests. */
export interface Snapshot {
  /** Allocated file handles, system-wide (/proc/sys/fs/file-nr). */
  files: number;
  /** This process's open fds. */
  ownFds: number;
  /** Cgroups per hierarchy, /proc/cgroups num_cgroups summed (a removed memory cgroup the
   *  kernel still holds counts until it is freed). */
  cgroups: number;
  mounts: number;
  processes: number;
  /** Kernel slab memory and available memory, kB (/proc/meminfo). */
  slabKb: number;
  availableKb: number;
}

export function snapshot(): Snapshot {
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
  const cgroups = readFileSync('/proc/cgroups', 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .reduce((n, l) => n + Number(l.split('\t')[2] ?? 0), 0);
  return {
    files: Number(readFileSync('/proc/sys/fs/file-nr', 'utf8').split('\t')[0]),
    ownFds: readdirSync('/proc/self/fd').length,
    cgroups,
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length - 1,
    processes: procs().length,
    slabKb: kb('Slab'),
    availableKb: kb('MemAvailable'),
  };
}

/** Kills whatever is in container `id`'s cgroups and removes them: for tests that leave a
 *  container capsa was told to forget. */
export async function removeCgroupsByHand(env: Env, id: string): Promise<void> {
  for (const d of cgroupDirs(env, id)) {
    for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const d of cgroupDirs(env, id)) {
    await waitFor(() => {
      try {
        rmdirSync(d);
        return true;
      } catch {
        reapZombies();
        return false;
      }
    });
  }
}
