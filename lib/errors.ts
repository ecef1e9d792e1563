// Every failure capsa reports is a CapsaError: the step that failed, the path or value it
// failed on, and why. formatError() is the one place that turns it into text.

export class CapsaError extends Error {
  constructor(
    /** What capsa was doing: "config.json", "mount", "start", ... */
    readonly step: string,
    /** Why, in words; for system errors, what was attempted. */
    readonly reason: string,
    /** The path, JSON pointer or value the step failed on. */
    readonly subject?: string,
    /** The errno name (ENOENT, ...) when a system call failed. */
    readonly errnoCode?: string,
  ) {
    super(formatParts(step, reason, subject, errnoCode));
  }
}

/** Errors that clients match on keep runc's words: "does not exist", "container not running". */
export class NotFoundError extends CapsaError {
  constructor(id: string) {
    super('container', `container "${id}" does not exist`);
  }
}

function formatParts(step: string, reason: string, subject?: string, errnoCode?: string): string {
  const sys = errnoCode ? `: ${describeErrno(errnoCode)}` : '';
  return `${step}: ${subject !== undefined ? subject + ': ' : ''}${reason}${sys}`;
}

const errnoText: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'file exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  ENOSPC: 'no space left on device',
  EBUSY: 'device or resource busy',
  ESRCH: 'no such process',
  ELOOP: 'too many levels of symbolic links',
  EXDEV: 'not on the expected filesystem',
  ETIMEDOUT: 'timed out',
  EROFS: 'read-only file system',
  ENOSYS: 'function not implemented',
  EXXX: 'unknown error',
};

export function describeErrno(code: string): string {
  return errnoText[code] ?? code;
}

/** Wraps a Node system error (fs, addon) as a CapsaError for `step`. */
export function sysError(step: string, err: unknown, subject?: string): CapsaError {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof CapsaError) return err;
  if (e && typeof e.code === 'string' && e.syscall)
    return new CapsaError(step, e.syscall, subject ?? e.path, e.code);
  return new CapsaError(step, e instanceof Error ? e.message : String(err), subject);
}

/** The one formatting function: `capsa: <command> <id>: <step>: <subject>: <reason>`. */
export function formatError(err: unknown, context: { command?: string; id?: string }): string {
  const where = [context.command, context.id].filter(Boolean).join(' ');
  const body = err instanceof Error ? err.message : String(err);
  return where ? `${where}: ${body}` : body;
}
