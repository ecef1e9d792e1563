// exec: a new process in a running container. The plan (./plan/exec.ts) joins the init's
// namespaces by /proc/PID/ns/*; here the container is checked, stage 0 goes into its cgroup,
// and the process is waited for (foreground) or left running (--detach).
import { closeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Container } from './container';
import { CapsaError } from './errors';
import { waitForeground } from './foreground';
import { launch } from './launch';
import { native } from './native';
import { buildExecPlan } from './plan/exec';
import { compileSeccomp, listenerState } from './seccomp';
import type { Process } from './spec/types';
import { writePidFile } from './state/pidfile';
import { isAlive } from './state/proc';
import { checkTerminal, HostConsole } from './terminal';

export interface ExecOptions {
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  ignorePaused: boolean;
}

/** Runs `proc` in the container; returns the exit status to leave with. */
export async function execInContainer(c: Container, proc: Process, o: ExecOptions): Promise<number> {
  const status = c.status();
  // runc's words: clients match on them.
  if (status === 'stopped') throw new CapsaError('exec', 'cannot exec in a stopped container');
  if (status === 'paused' && !o.ignorePaused)
    throw new CapsaError('exec', 'cannot exec in a paused container (use --ignore-paused to override)');
  if (status === 'creating') throw new CapsaError('exec', 'cannot exec in a container that is still being created');
  const terminal = proc.terminal ?? false;
  checkTerminal(terminal, o.detach, o.consoleSocket);

  const n = native();
  const { pid: initPid, startTime } = c.state;
  // Held from before the check to after the joins: if the init were gone and its pid reused
  // meanwhile, the pidfd would say so, and we would not have joined a stranger.
  const initFd = n.pidfdOpen(initPid);
  let ours: number | undefined;
  let theirs: number | undefined;
  try {
    if (!isAlive(initPid, startTime)) throw new CapsaError('exec', 'cannot exec in a stopped container');
    const plan = buildExecPlan(c.state.config, proc, {
      id: c.id,
      initPid,
      rootfs: c.state.rootfs,
      parentPid: process.pid,
      noNewKeyring: c.state.noNewKeyring ?? false,
      consoleSocket: o.consoleSocket && resolve(o.consoleSocket),
      compileSeccomp: (s) => compileSeccomp(s, n),
    });
    if (terminal && !o.detach) [ours, theirs] = n.socketpair();
    const cg = c.cgroup();
    const pid = launch(
      plan,
      o.preserveFds,
      {
        placeInCgroup: (p) => cg.addProcess(p),
        onPid: () => {
          try {
            n.pidfdSendSignal(initFd, 0);
          } catch {
            throw new CapsaError('exec', 'the container stopped while the process was joining it');
          }
        },
        listenerState: (p) => listenerState(c.doc('running'), p, c.state.config.linux?.seccomp?.listenerMetadata),
        commit: () => {},
      },
      theirs,
    );
    if (o.pidFile) writePidFile(resolve(o.pidFile), pid);
    // The process is in: delete and kill may go on (a delete meanwhile would have raced its
    // way into the cgroup as the process joined it).
    c.unlock();
    if (o.detach) return 0;
    let console: HostConsole | undefined;
    if (ours !== undefined) console = HostConsole.attach(n.recvFd(ours).fd);
    return await waitForeground(pid, console);
  } finally {
    for (const fd of [initFd, ours, theirs]) if (fd !== undefined) closeSync(fd);
  }
}
