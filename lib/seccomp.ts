// linux.seccomp → a BPF program, compiled here in the parent by libseccomp (through the
// addon); capsa-init only loads the bytes, last, right before execve (before the user switch
// when noNewPrivileges is false: loading then needs CAP_SYS_ADMIN). With SCMP_ACT_NOTIFY
// rules capsa-init also sends the listener fd to the agent at listenerPath.
import { CapsaError } from './errors';
import * as log from './log';
import type { Native } from './native/api';
import type { LinuxSeccomp } from './spec/types';
import type { StateDoc } from './state/status';

export const ACTIONS: Record<string, (errno: number) => number> = {
  SCMP_ACT_KILL: () => 0x00000000,
  SCMP_ACT_KILL_THREAD: () => 0x00000000,
  SCMP_ACT_KILL_PROCESS: () => 0x80000000,
  SCMP_ACT_TRAP: () => 0x00030000,
  SCMP_ACT_ERRNO: (e) => 0x00050000 | (e & 0xffff),
  SCMP_ACT_TRACE: (e) => 0x7ff00000 | (e & 0xffff),
  SCMP_ACT_LOG: () => 0x7ffc0000,
  SCMP_ACT_ALLOW: () => 0x7fff0000,
  SCMP_ACT_NOTIFY: () => 0x7fc00000,
};

export const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** Spec architecture names → libseccomp's. */
export const ARCHES: Record<string, string> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
};

/** seccomp(2) filter flags; the kernel refuses those it does not know, with EINVAL. */
export const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};
const NEW_LISTENER = 8;
const TSYNC_ESRCH = 16;

/** The bits that make the kernel accept a flag on its own: WAIT_KILLABLE_RECV only comes with
 *  a listener. */
export const flagProbe = (flag: number) => (flag === FLAGS.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ? flag | NEW_LISTENER : flag);

/** The flags this kernel supports, for `features` and for refusing the others up front. */
export function supportedFlags(n: Pick<Native, 'seccompFlagSupported'>): string[] {
  return Object.keys(FLAGS).filter((f) => n.seccompFlagSupported(flagProbe(FLAGS[f])));
}

const EPERM = 1;
/** capsa-init sends the agent its listener fd with sendmsg, right after loading the filter:
 *  a notification for that call would wait for an agent that has no fd yet. */
const NOT_NOTIFIABLE = ['sendmsg'];

export interface CompiledSeccomp {
  program: Buffer;
  /** For seccomp(2), NEW_LISTENER included when a rule notifies. */
  flags: number;
  /** Where capsa-init sends the listener fd; only when a rule notifies. */
  listenerPath?: string;
}

function action(name: string, errnoRet: number | undefined, pointer: string): number {
  const a = ACTIONS[name];
  if (!a) throw new CapsaError('config.json', `seccomp action "${name}" is not supported by capsa`, pointer);
  return a(errnoRet ?? EPERM);
}

export function compileSeccomp(s: LinuxSeccomp, n: Native): CompiledSeccomp {
  const def = action(s.defaultAction, s.defaultErrnoRet, '/linux/seccomp/defaultAction');
  const rules = (s.syscalls ?? []).map((r, i) => ({
    notify: r.action === 'SCMP_ACT_NOTIFY',
    names: r.names.map((name, j) => {
      if (r.action === 'SCMP_ACT_NOTIFY' && NOT_NOTIFIABLE.includes(name))
        throw new CapsaError('config.json', `SCMP_ACT_NOTIFY cannot be used for ${name}: capsa-init sends the listener fd with it`, `/linux/seccomp/syscalls/${i}/names/${j}`);
      return name;
    }),
    action: action(r.action, r.errnoRet, `/linux/seccomp/syscalls/${i}/action`),
    args: (r.args ?? []).map((a, j) => {
      const op = OPERATORS[a.op];
      if (op === undefined) throw new CapsaError('config.json', `seccomp operator "${a.op}" is not supported`, `/linux/seccomp/syscalls/${i}/args/${j}/op`);
      return { index: a.index, op, value: BigInt(a.value), valueTwo: BigInt(a.valueTwo ?? 0) };
    }),
  }));
  // A rule whose action is the default one changes nothing, and libseccomp refuses it.
  const effective = rules.filter((r) => r.action !== def);
  const architectures = (s.architectures ?? []).map((a, i) => {
    const name = ARCHES[a];
    if (!name) throw new CapsaError('config.json', `seccomp architecture "${a}" is not supported`, `/linux/seccomp/architectures/${i}`);
    return name;
  });
  let flags = 0;
  (s.flags ?? []).forEach((f, i) => {
    if (FLAGS[f] === undefined) throw new CapsaError('config.json', `seccomp flag "${f}" is not supported`, `/linux/seccomp/flags/${i}`);
    if (!n.seccompFlagSupported(flagProbe(FLAGS[f])))
      throw new CapsaError('config.json', `seccomp flag "${f}" is not supported by this kernel`, `/linux/seccomp/flags/${i}`);
    flags |= FLAGS[f];
  });
  const notify = effective.some((r) => r.notify);
  if (notify) {
    flags |= NEW_LISTENER;
    // The kernel refuses TSYNC with a listener unless a failed sync reports ESRCH instead of a
    // thread id (capsa-init has one thread: nothing to sync anyway).
    if (flags & FLAGS.SECCOMP_FILTER_FLAG_TSYNC) flags |= TSYNC_ESRCH;
  } else {
    // It only changes how notifications wait; without a listener the kernel refuses it, and
    // libseccomp drops it the same way.
    flags &= ~FLAGS.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  }
  const { program, unknown } = n.seccompCompile({
    defaultAction: def,
    architectures,
    rules: effective.map(({ names, action, args }) => ({ names, action, args })),
  });
  // Real profiles name syscalls newer than this libseccomp: those rules cannot apply here.
  if (unknown.length) log.warn(`seccomp: syscalls unknown to libseccomp ${n.seccompVersion()} skipped: ${[...new Set(unknown)].join(', ')}`);
  return notify ? { program, flags, listenerPath: s.listenerPath } : { program, flags };
}

/** The container process state of config-linux.md, which the agent receives with the fd:
 *  `pid` is the process the filter is on (the init, or an exec'd process), `state` the
 *  container's. */
export function listenerState(state: StateDoc, pid: number, metadata: string | undefined): string {
  const doc: Record<string, unknown> = { ociVersion: state.ociVersion, fds: ['seccompFd'], pid };
  if (metadata) doc.metadata = metadata;
  doc.state = state;
  return JSON.stringify(doc);
}
