// What a container leaves on the machine: state directory, cgroup directories, processes,
// mounts. Tests assert that all of it is gone.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
