// A busybox root filesystem from Debian's busybox-static, made once per machine and shared
// read-only by the tests. Applets are hard links to a private copy of busybox: a test that
// changes one changes the copy, never the host's /bin/busybox.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BUSYBOX = '/bin/busybox';
const SHARED = join(tmpdir(), 'capsa-test-rootfs-v1');

/** Builds a busybox rootfs in `dir` (which must not exist). */
export function buildRootfs(dir: string): void {
  for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'root', 'run', 'var', 'home']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') linkSync(join(dir, 'bin', 'busybox'), join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
}

/** The shared rootfs; created atomically so parallel test files can race for it. */
export function sharedRootfs(): string {
  if (existsSync(join(SHARED, 'bin', 'sh'))) return SHARED;
  const tmp = mkdtempSync(join(tmpdir(), 'capsa-test-rootfs-tmp-'));
  rmSync(tmp, { recursive: true });
  buildRootfs(tmp);
  try {
    renameSync(tmp, SHARED);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
  return SHARED;
}
