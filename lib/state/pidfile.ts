import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sysError } from '../errors';

/** The pid file: plain decimal, no newline (as runc), written by rename so readers never see
 *  a partial one. */
export function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${Date.now()}.${process.pid}.pid`);
  try {
    writeFileSync(tmp, String(pid));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw sysError('pid file', e, path);
  }
}
