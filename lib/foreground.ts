// A foreground run or exec: capsa stays until the process exits, passes on the signals it
// gets, reaps what the subreaper bit brings it, and exits with the process's status.
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { native } from './native';
import type { HostConsole } from './terminal';

// Every signal a process can catch, as runc forwards them, but SIGCHLD (ours), SIGURG
// (runtime noise), SIGWINCH (a resize, with a terminal), SIGPROF (V8's profiler tick) and the
// fault signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL: a real one in capsa itself must not be
// turned into a listener call). Realtime signals have no name in Node and cannot be listened for.
export const FORWARDED: NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTRAP', 'SIGABRT', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGALRM',
  'SIGTERM', 'SIGSTKFLT', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGXCPU', 'SIGXFSZ',
  'SIGVTALRM', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

/** Exit status as a shell reports it: the code, or 128 + the signal that killed it. */
export function exitStatus(st: { code: number | null; signal: number | null }): number {
  return st.signal ? 128 + st.signal : (st.code ?? 1);
}

/**
 * Waits for `pid` (our child: launch made us its subreaper), forwarding signals to it through a
 * pidfd (a reaped pid may be reused; the pidfd cannot be), and with `console` copying its
 * terminal until the end.
 */
export async function waitForeground(pid: number, console?: HostConsole): Promise<number> {
  const n = native();
  const pidfd = n.pidfdOpen(pid);
  const forward = (sig: NodeJS.Signals) => {
    try {
      n.pidfdSendSignal(pidfd, constants.signals[sig]);
    } catch {
      // exited meanwhile
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  if (console) process.on('SIGWINCH', console.resize);
  try {
    return exitStatus(await n.waitExit(pid));
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
    if (console) {
      process.off('SIGWINCH', console.resize);
      await console.detach();
    }
    closeSync(pidfd);
  }
}
