// exec: a process for a running container → launch plan. Pure, like ./build.ts: the
// container's validated config (from state.json) and the process decide everything.
import { CapsaError } from '../errors';
import { unsupported } from '../registry';
import { NAMESPACE_FLAGS, NAMESPACE_PROC_NAMES } from '../spec/names';
import type { LinuxSeccomp, Process, Spec } from '../spec/types';
import { PERSONALITY, planProcess, sessionKeyring } from './build';
import type { LaunchPlan } from './types';

export interface ExecContext {
  id: string;
  /** The container's init, in the runtime's pid namespace: its namespaces are joined. */
  initPid: number;
  /** Host path of the container's root, entered by chroot when it has no mount namespace. */
  rootfs: string;
  parentPid: number;
  /** The container was created with --no-new-keyring. */
  noNewKeyring: boolean;
  consoleSocket?: string;
  compileSeccomp(s: LinuxSeccomp): { program: Buffer; flags: number };
}

/** The flags of `exec` that shape the process when no --process file is given (runc's). */
export interface ExecFlags {
  cwd?: string;
  env: string[];
  tty: boolean;
  user?: string;
  additionalGids: number[];
  cap: string[];
  noNewPrivs: boolean;
  apparmor?: string;
  processLabel?: string;
}

/**
 * The process of the argument form, `exec ID COMMAND...`: the container's own process with
 * runc's overrides. --cap adds to the bounding, effective and permitted sets, never to the
 * inheritable one (CVE-2022-29162), and to the ambient set only when the capability is
 * inheritable already (runc adds it whenever some are; the kernel raises no other).
 */
export function processFromFlags(config: Spec, args: string[], f: ExecFlags): Process {
  if (!config.process) throw new CapsaError('exec', 'the container has no process to start from; use --process');
  if (!args.length) throw new CapsaError('exec', 'exec args cannot be empty');
  const p: Process = structuredClone(config.process);
  p.args = args;
  if (f.cwd) p.cwd = f.cwd;
  if (f.apparmor) p.apparmorProfile = f.apparmor;
  if (f.processLabel) p.selinuxLabel = f.processLabel;
  if (f.cap.length) {
    const c = (p.capabilities ??= {});
    for (const name of f.cap) {
      for (const set of ['bounding', 'effective', 'permitted'] as const) (c[set] ??= []).push(name);
      if (c.inheritable?.includes(name) && !c.ambient?.includes(name)) (c.ambient ??= []).push(name);
    }
  }
  p.env = [...(p.env ?? []), ...f.env];
  p.terminal = f.tty;
  if (f.noNewPrivs) p.noNewPrivileges = true;
  if (f.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(f.user);
    if (!m) throw new CapsaError('exec', 'must be UID or UID:GID, in numbers', `--user ${f.user}`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : p.user.gid };
  }
  if (f.additionalGids.length) p.user = { ...p.user, additionalGids: [...(p.user.additionalGids ?? []), ...f.additionalGids] };
  return p;
}

/** Later entries override earlier ones with the same name, in the first one's place (as
 *  runc's environment handling leaves them), so `exec -e PATH=...` wins over the config's. */
export function dedupeEnv(env: string[]): string[] {
  const at = new Map<string, number>();
  const out: string[] = [];
  for (const e of env) {
    const eq = e.indexOf('=');
    const name = eq < 0 ? e : e.slice(0, eq);
    const i = at.get(name);
    if (i === undefined) {
      at.set(name, out.length);
      out.push(e);
    } else out[i] = e;
  }
  return out;
}

/**
 * What the exec'd process gets where its own spec says nothing: the container's
 * capabilities, rlimits, no_new_privs, oom_score_adj, I/O priority and LSM labels (runc's
 * defaults: a process.json without a profile must not start unconfined). An explicit
 * `"noNewPrivileges": false` is taken as asked for.
 */
export function effectiveProcess(config: Spec, p: Process): Process {
  const c = config.process;
  return {
    ...p,
    env: dedupeEnv(p.env ?? []),
    capabilities: p.capabilities ?? c?.capabilities,
    rlimits: p.rlimits?.length ? p.rlimits : c?.rlimits,
    noNewPrivileges: p.noNewPrivileges ?? c?.noNewPrivileges,
    oomScoreAdj: p.oomScoreAdj ?? c?.oomScoreAdj,
    ioPriority: p.ioPriority ?? c?.ioPriority,
    apparmorProfile: p.apparmorProfile || c?.apparmorProfile,
    selinuxLabel: p.selinuxLabel || c?.selinuxLabel,
  };
}

export function buildExecPlan(config: Spec, process: Process, ctx: ExecContext): LaunchPlan {
  const u = unsupported({ ociVersion: config.ociVersion, process } as Spec);
  if (u.length) throw new CapsaError('exec', u.map((x) => `${x.pointer}: ${x.why}`).join('; '));
  const namespaces = config.linux?.namespaces ?? [];
  // User first: its capabilities are what make the other joins allowed (capsa-init orders
  // them that way too).
  const joins = [...namespaces]
    .sort((a, b) => Number(b.type === 'user') - Number(a.type === 'user'))
    .map((ns) => ({ type: NAMESPACE_FLAGS[ns.type], path: `/proc/${ctx.initPid}/ns/${NAMESPACE_PROC_NAMES[ns.type]}` }));
  const p = planProcess(effectiveProcess(config, process));
  return {
    mode: 'exec',
    parentPid: ctx.parentPid,
    cloneFlags: 0,
    joins,
    uidMappings: [],
    gidMappings: [],
    rootfs: namespaces.some((n) => n.type === 'mount') ? undefined : ctx.rootfs,
    rootfsPropagation: 0n,
    readonlyRoot: false,
    noPivot: false,
    mounts: [],
    devices: [],
    symlinks: [],
    maskedPaths: [],
    readonlyPaths: [],
    sysctls: [],
    ...p,
    seccomp: config.linux?.seccomp ? ctx.compileSeccomp(config.linux.seccomp) : undefined,
    consoleSocket: p.terminal ? ctx.consoleSocket : undefined,
    hooks: [],
    sessionKeyring: sessionKeyring(ctx.id, ctx.noNewKeyring),
    personality: config.linux?.personality ? PERSONALITY[config.linux.personality.domain] : undefined,
  };
}
