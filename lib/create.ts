// Creating a container: validated config → cgroup → capsa-init waiting on exec.fifo →
// state.json. Loaded only by the commands that create (create, run): the validator, the plan
// builder, seccomp and the launcher stay off every other command's start-up path.
import { chmodSync, closeSync, realpathSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { containerDeviceRules, resolveCgroupPath } from './cgroups';
import { Container } from './container';
import { CapsaError, sysError } from './errors';
import { isHookFailure, runHooks } from './hooks';
import { launch } from './launch';
import * as log from './log';
import { native } from './native';
import { buildPlan } from './plan/build';
import { checkSupported } from './registry';
import { compileSeccomp, listenerState } from './seccomp';
import { loadConfig } from './spec/load';
import { checkId } from './state/id';
import { writePidFile } from './state/pidfile';
import { procStat } from './state/proc';
import { ownMountNamespace } from './state/hostmounts';
import { fifoPath, type Intent, makeStateDir, removeStateDir, StoredState, STATE_VERSION, writeIntent, writeState } from './state/store';
import { checkTerminal } from './terminal';
import { isoTime } from './time';

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
  /** `run` in the foreground: with a terminal and no console socket, capsa takes the pty
   *  master itself (Container.consoleMaster). `create` and `run -d` detach. */
  detach: boolean;
}

/** On any failure, everything made so far is undone before the error is thrown. */
export function createContainer(root: string, id: string, o: CreateOptions): Container {
  checkId(id);
  const bundle = resolve(o.bundle);
  const config = loadConfig(bundle);
  checkSupported(config);
  const terminal = config.process?.terminal ?? false;
  checkTerminal(terminal, o.detach, o.consoleSocket);
  const rootfs = realRootfs(bundle, config.root?.path ?? 'rootfs');
  const cgroupPath = resolveCgroupPath(config.linux?.cgroupsPath, id);

  // Each step below records what it is about to make before making it (docs/reliability.md).
  const { dir, lock } = makeStateDir(root, id);
  const state: StoredState = {
    version: STATE_VERSION,
    id,
    phase: 'creating',
    pid: 0,
    startTime: '',
    bundle,
    rootfs,
    created: isoTime(),
    owner: userInfo().username,
    cgroup: { path: cgroupPath, dirs: [] },
    config,
    noNewKeyring: o.noNewKeyring,
  };
  const intent: Intent = { cgroup: cgroupPath, hostMounts: !ownMountNamespace(config), rootfs };
  const c = new Container(root, id, dir, state, lock);
  let claimed = false;
  // A foreground terminal: capsa-init sends the pty master over a socketpair of ours.
  const [ours, theirs] = terminal && !o.detach ? native().socketpair() : [];
  try {
    writeIntent(dir, intent);
    const cg = c.cgroup();
    state.cgroup.dirs = cg.create((planned) => {
      // The cgroup is ours from here (create checked that an existing one is empty).
      writeIntent(dir, { ...intent, cgroupDirs: planned });
      state.cgroup.dirs = planned;
      writeState(dir, state);
      claimed = true;
    });
    // runc's default device rules follow the config's: clients send only "deny all" and
    // expect /dev/null and the rest to work.
    const devices = containerDeviceRules(config.linux?.resources?.devices, (config.linux?.devices ?? []).map((d) => d.path));
    for (const w of cg.apply({ ...config.linux?.resources, devices })) log.warn(w);
    // 0622 despite our umask: the container process may run as any user.
    try {
      native().mkfifo(fifoPath(dir), 0o622);
      chmodSync(fifoPath(dir), 0o622);
    } catch (e) {
      throw sysError('state', e, fifoPath(dir));
    }
    const plan = buildPlan(config, {
      id,
      bundle,
      rootfs,
      stateDir: dir,
      parentPid: process.pid,
      noPivot: o.noPivot,
      noNewKeyring: o.noNewKeyring,
      consoleSocket: o.consoleSocket && resolve(o.consoleSocket),
      compileSeccomp: (s) => compileSeccomp(s, native()),
      cgroupMounts: (m, cgroupns) => cg.mountsFor(m, cgroupns),
      hookEnv: hookEnv(),
    });
    launch(plan, o.preserveFds, {
      placeInCgroup: (pid) => cg.addProcess(pid),
      onPid: (pid) => {
        state.pid = pid;
        state.startTime = procStat(pid)?.startTime ?? '';
        writeState(dir, state);
      },
      listenerState: (pid) => listenerState(c.doc('creating'), pid, config.linux?.seccomp?.listenerMetadata),
      createHooks: (pid) => {
        // These hooks come after step 2 of the lifecycle: the status is "created" (runc too).
        const doc = { ...c.doc('created'), pid };
        runHooks('prestart', config.hooks?.prestart, doc);
        runHooks('createRuntime', config.hooks?.createRuntime, doc);
        return JSON.stringify(doc);
      },
      commit: (pid) => {
        state.pid = pid;
        state.startTime = procStat(pid)?.startTime ?? '';
        state.phase = 'created';
        writeState(dir, state);
        if (o.pidFile) writePidFile(resolve(o.pidFile), pid);
      },
    }, theirs);
    if (ours !== undefined) c.consoleMaster = native().recvFd(ours).fd;
  } catch (e) {
    try {
      if (claimed) c.destroy();
      else removeStateDir(dir);
      // A failed hook continues the lifecycle at destroy, then poststop (runtime.md, steps 3-5).
      if (isHookFailure(e)) c.poststop();
    } catch (e2) {
      log.warn(`undoing the failed create: ${(e2 as Error).message}; \`delete --force ${id}\` finishes it`);
    }
    throw e;
  } finally {
    for (const fd of [ours, theirs]) if (fd !== undefined) closeSync(fd);
    c.unlock();
  }
  return c;
}

/** The runtime's environment, which hooks without an `env` of their own get (as in runc). */
function hookEnv(): string[] {
  return Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
}

function realRootfs(bundle: string, path: string): string {
  const p = resolve(bundle, path);
  let real: string;
  try {
    real = realpathSync.native(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CapsaError('rootfs', 'does not exist', p);
    throw sysError('rootfs', e, p);
  }
  if (!statSync(real).isDirectory()) throw new CapsaError('rootfs', 'is not a directory', p);
  return real;
}
