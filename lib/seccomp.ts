// linux.seccomp → a BPF program, compiled here in the parent by libseccomp (through the
// addon); capsa-init only loads the bytes, last, right before execve.
import { CapsaError } from './errors';
import * as log from './log';
import type { Native } from './native/api';
import type { LinuxSeccomp } from './spec/types';

export const ACTIONS: Record<string, (errno: number) => number> = {
  SCMP_ACT_KILL: () => 0x00000000,
  SCMP_ACT_KILL_THREAD: () => 0x00000000,
  SCMP_ACT_KILL_PROCESS: () => 0x80000000,
  SCMP_ACT_TRAP: () => 0x00030000,
  SCMP_ACT_ERRNO: (e) => 0x00050000 | (e & 0xffff),
  SCMP_ACT_TRACE: (e) => 0x7ff00000 | (e & 0xffff),
  SCMP_ACT_LOG: () => 0x7ffc0000,
  SCMP_ACT_ALLOW: () => 0x7fff0000,
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

const EPERM = 1;

function action(name: string, errnoRet: number | undefined, pointer: string): number {
  const a = ACTIONS[name];
  if (!a) throw new CapsaError('config.json', `seccomp action "${name}" is not supported by capsa`, pointer);
  return a(errnoRet ?? EPERM);
}

export function compileSeccomp(s: LinuxSeccomp, n: Native): { program: Buffer; flags: number } {
  const def = action(s.defaultAction, s.defaultErrnoRet, '/linux/seccomp/defaultAction');
  const rules = (s.syscalls ?? []).map((r, i) => ({
    names: r.names,
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
    flags |= FLAGS[f];
  });
  const { program, unknown } = n.seccompCompile({ defaultAction: def, architectures, rules: effective });
  // Real profiles name syscalls newer than this libseccomp: those rules cannot apply here.
  if (unknown.length) log.warn(`seccomp: syscalls unknown to libseccomp ${n.seccompVersion()} skipped: ${[...new Set(unknown)].join(', ')}`);
  return { program, flags };
}
