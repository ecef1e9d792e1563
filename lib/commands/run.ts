import type { GlobalOptions } from '../cli';
import { createContainer } from '../create';
import { native } from '../native';
import { createOptions, CreateFlags } from './create';

// Every signal a foreground `run` passes on to the container (runc's set: all catchable ones
// but SIGCHLD, SIGURG and SIGWINCH).
const FORWARDED: NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGCONT',
  'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGVTALRM', 'SIGXCPU', 'SIGXFSZ', 'SIGPWR', 'SIGSYS', 'SIGIO',
];

export async function run(g: GlobalOptions, id: string, o: CreateFlags & { detach: boolean }): Promise<number> {
  const c = createContainer(g.root, id, createOptions(o));
  try {
    c.lock().start();
  } catch (e) {
    c.delete(true);
    throw e;
  }
  if (o.detach) return 0;
  // We are the container's subreaper (launch made us one): it is our child, and so are the
  // orphans it leaves; waitExit reaps them all until the init itself exits.
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(c.state.pid, sig);
    } catch {
      // exited meanwhile
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  const st = await native().waitExit(c.state.pid);
  for (const s of FORWARDED) process.off(s, forward);
  c.delete(true);
  return st.signal ? 128 + st.signal : (st.code ?? 1);
}
