import type { GlobalOptions } from '../cli';
import { createContainer } from '../create';
import { NotFoundError } from '../errors';
import { waitForeground } from '../foreground';
import { HostConsole } from '../terminal';
import { createOptions, CreateFlags } from './create';

export async function run(g: GlobalOptions, id: string, o: CreateFlags & { detach: boolean }): Promise<number> {
  const c = createContainer(g.root, id, createOptions(o, o.detach));
  try {
    c.lock().start();
  } catch (e) {
    // A failed hook has already destroyed it (and run the poststop hooks).
    if (!c.destroyed) c.delete(true);
    throw e;
  }
  if (o.detach) return 0;
  // kill, pause and the rest must be able to act on it while we wait.
  c.unlock();
  // We are the container's subreaper (launch made us one): its init is our child, and so are
  // the orphans it leaves, which waitForeground reaps on the way.
  const console = c.consoleMaster !== undefined ? HostConsole.attach(c.consoleMaster) : undefined;
  const status = await waitForeground(c.state.pid, console);
  // Someone may have deleted it meanwhile (delete --force while we waited).
  try {
    c.lock();
  } catch (e) {
    if (e instanceof NotFoundError) return status;
    throw e;
  }
  c.delete(true);
  return status;
}
