// Shared by the root cgroup tests: a private parent cgroup per test process, children that
// wait to be placed before they run, and a sweep that leaves nothing behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { openManager, type CgroupManager } from '../../lib/cgroups';
import type { Hierarchies } from '../../lib/cgroups/detect';
import { removeCgroup } from '../../lib/cgroups/files';

/** Every test cgroup lives under this one parent, which teardown removes. */
export const TEST_PARENT = `/capsa-test-${process.pid}`;

export const isRoot = process.getuid?.() === 0;

export interface Gated {
  child: ChildProcess;
  pid: number;
  /** Lets the script run (it blocks on a line of stdin until then). */
  go(): void;
  /** Resolves with how the child ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
}

/** `sh -c 'read x; SCRIPT'`: placed into a cgroup first, started with go(). */
export function gated(script: string): Gated {
  const child = spawn('sh', ['-c', `read x; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  if (child.pid === undefined) throw new Error('spawn sh failed');
  return {
    child,
    pid: child.pid,
    go: () => child.stdin?.write('\n'),
    exited,
    stdout: () => out,
    stderr: () => err,
  };
}

/** Records a skipped check with its reason (the machine lacks the feature). */
export function skip(t: { pass(msg: string, extra: { skip: string }): boolean }, reason: string): void {
  t.pass('skipped', { skip: reason });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Mount points of every hierarchy of this host's layout. */
export function mounts(layout: Hierarchies): string[] {
  const m = new Set(layout.v1.values());
  if (layout.unified) m.add(layout.unified);
  return [...m];
}

/** The test parent's directories still present anywhere ([] when clean). */
export function leftovers(layout: Hierarchies): string[] {
  return mounts(layout)
    .map((m) => m + TEST_PARENT)
    .filter((d) => existsSync(d));
}

/**
 * Teardown of last resort: kills every process still in the test parent (all started by
 * this test, by pid), thaws, and removes the whole subtree in every hierarchy.
 */
export function sweep(layout: Hierarchies): void {
  const pids = new Set<number>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const f of ['freezer.state', 'cgroup.freeze']) {
      try {
        if (existsSync(`${dir}/${f}`)) writeFileSync(`${dir}/${f}`, f === 'cgroup.freeze' ? '0' : 'THAWED');
      } catch {
        // best effort
      }
    }
    try {
      for (const l of readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n')) if (l) pids.add(Number(l));
    } catch {
      // gone meanwhile
    }
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(`${dir}/${e.name}`);
  };
  for (const m of mounts(layout)) walk(m + TEST_PARENT);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const m of mounts(layout)) if (existsSync(m + TEST_PARENT)) removeCgroup(m + TEST_PARENT, 5000);
}

/** A manager for TEST_PARENT/name, created; its teardown kills, destroys and checks. */
export function testCgroup(
  t: { teardown(fn: () => void | Promise<void>): void },
  name: string,
  layout?: Hierarchies,
): { m: CgroupManager; made: string[] } {
  const m = openManager(`${TEST_PARENT}/${name}`, layout);
  const made = m.create();
  t.teardown(() => {
    m.killAll(9);
    m.destroy(made);
  });
  return { m, made };
}

/** The first real block device ("254:0"), for throttle tests; undefined if none. */
export function blockDevice(): { major: number; minor: number } | undefined {
  for (const name of readdirSync('/sys/block')) {
    if (/^(loop|ram|zram|nbd)/.test(name)) continue;
    try {
      const [major, minor] = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim().split(':').map(Number);
      if (major !== undefined && minor !== undefined) return { major, minor };
    } catch {
      // not a device directory
    }
  }
  return undefined;
}

export function read(dir: string | undefined, file: string): string {
  return readFileSync(`${dir}/${file}`, 'utf8').trim();
}
