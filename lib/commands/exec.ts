import type { GlobalOptions } from '../cli';
import { Container } from '../container';
import { CapsaError } from '../errors';
import { execInContainer } from '../exec';
import { ExecFlags, processFromFlags } from '../plan/exec';
import { parseJsonFile } from '../spec/parse';
import type { Process } from '../spec/types';
import { validateProcess } from '../spec/validate';

export interface ExecCommandFlags extends Omit<ExecFlags, 'noNewPrivs'> {
  process?: string;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  ignorePaused: boolean;
  /** commander's name for --no-new-privs: false when given. */
  newPrivs: boolean;
}

function checked(doc: unknown, what: string): Process {
  const problems = validateProcess(doc);
  if (problems.length) throw new CapsaError(what, problems.map((p) => `${p.pointer || '/'}: ${p.reason}`).join('; '));
  return doc as Process;
}

export async function exec(g: GlobalOptions, id: string, command: string[], o: ExecCommandFlags): Promise<number> {
  // Locked while the process joins the container: serialised with delete and kill.
  const c = Container.locked(g.root, id);
  const proc = o.process
    ? checked(parseJsonFile(o.process, 'process.json'), o.process)
    : checked(processFromFlags(c.state.config, command, { ...o, noNewPrivs: o.newPrivs === false }), 'exec');
  return execInContainer(c, proc, o);
}
