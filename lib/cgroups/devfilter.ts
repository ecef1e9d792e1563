// cgroup v2 device rules: the OCI rule list → a BPF_PROG_TYPE_CGROUP_DEVICE program (struct
// bpf_insn[], loaded and attached by the addon's attachDeviceFilter). Pure.
//
// As runc (opencontainers/cgroups devices/devices_emulator.go and devicefilter.go, from
// crun's ebpf.c): the rules first run through an emulation of the v1 devices controller, so
// a list means on v2 exactly what it means on v1 (later rules change earlier ones; "a"
// resets; a hole punched into a wildcard rule is refused rather than silently ignored), and
// the resulting minimal rule set becomes one block per rule:
//
//   r2 = type (low 16 bits of access_type), r3 = access (high 16 bits), r4 = major, r5 = minor
//   block i: if r2 != type goto i+1; [if (r3 & access) != r3 goto i+1;]  (a deny rule:
//            [if (r3 & access) == 0 goto i+1;], so it refuses any overlap, as v1 does)
//            [if r4 != major goto i+1;] [if r5 != minor goto i+1;] return allow
//   last:    return the default (1 when the list ends in allow-all mode, else 0)
import { CapsaError } from '../errors';
import type { LinuxDeviceCgroup } from './resources';

/** The kernel's license check wants a string; any is accepted for this program type. */
export const DEVICE_FILTER_LICENSE = 'Apache';

type DevType = 'b' | 'c';
/** -1 is the wildcard ("*"). */
interface Meta {
  type: DevType;
  major: number;
  minor: number;
}
export interface CleanRule extends Meta {
  /** A subset of "rwm", in that order. */
  access: string;
  allow: boolean;
}

export interface EmulatedRules {
  /** True when unmatched access is allowed (the list ends in allow-all "blacklist" mode). */
  defaultAllow: boolean;
  /** The exceptions to the default, each with the opposite effect, sorted by (major, minor, type). */
  rules: CleanRule[];
}

const PERMS = 'rwm';
const perms = (s: string) => [...PERMS].filter((p) => s.includes(p)).join('');
const union = (a: string, b: string) => perms(a + b);
const minus = (a: string, b: string) => [...a].filter((p) => !b.includes(p)).join('');
const intersect = (a: string, b: string) => [...a].filter((p) => b.includes(p)).join('');
const key = (m: Meta) => `${m.type} ${m.major} ${m.minor}`;

function ruleText(r: { type: string; major: number; minor: number }, access: string): string {
  const n = (x: number) => (x < 0 ? '*' : String(x));
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${access}`;
}

/** runc's emulator: applies each rule to a v1-like state that starts as "deny all". */
export function emulateDeviceRules(rules: readonly LinuxDeviceCgroup[]): EmulatedRules {
  let defaultAllow = false;
  let state = new Map<string, { meta: Meta; access: string }>();
  rules.forEach((rule, i) => {
    const at = `linux.resources.devices[${i}]`;
    const type = rule.type || 'a';
    if (type !== 'a' && type !== 'b' && type !== 'c')
      throw new CapsaError('cgroup', `device type must be a, b or c, not ${JSON.stringify(type)}`, at);
    const access = rule.access ?? PERMS;
    if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length)
      throw new CapsaError('cgroup', `device access must be a combination of r, w and m, not ${JSON.stringify(access)}`, at);
    if (type === 'a') {
      // "a" resets the whole list, to allow-all or deny-all (whatever its access says).
      defaultAllow = rule.allow;
      state = new Map();
      return;
    }
    const wild = (n: number | undefined | null) => (n === undefined || n === null || n < 0 ? -1 : n);
    for (const [what, n] of [['major', rule.major], ['minor', rule.minor]] as const)
      // The program compares 32-bit immediates sign-extended; device numbers are far smaller.
      if (typeof n === 'number' && n > 0x7fffffff)
        throw new CapsaError('cgroup', `device ${what} ${n} is out of range (at most ${0x7fffffff})`, at);
    const meta: Meta = { type, major: wild(rule.major), minor: wild(rule.minor) };
    const p = perms(access);
    // An allow rule in allow-all mode (or a deny in deny-all mode) removes an exception.
    if (rule.allow === defaultAllow) {
      for (const partial of [
        { ...meta, major: -1 },
        { ...meta, minor: -1 },
        { ...meta, major: -1, minor: -1 },
      ]) {
        if (key(partial) === key(meta)) continue;
        const have = state.get(key(partial))?.access ?? '';
        if (intersect(have, p) !== '')
          throw new CapsaError(
            'cgroup',
            `rule "${ruleText(meta, p)}" cannot punch a hole in the earlier wildcard rule "${ruleText(partial, have)}" ` +
              '(cgroup v1 would ignore it; reorder or narrow the rules)',
            at,
          );
      }
      const left = minus(state.get(key(meta))?.access ?? '', p);
      if (left === '') state.delete(key(meta));
      else state.set(key(meta), { meta, access: left });
    } else {
      state.set(key(meta), { meta, access: union(state.get(key(meta))?.access ?? '', p) });
    }
  });
  const out = [...state.values()]
    .sort((a, b) => a.meta.major - b.meta.major || a.meta.minor - b.meta.minor || a.meta.type.localeCompare(b.meta.type))
    .map(({ meta, access }) => ({ ...meta, access, allow: !defaultAllow }));
  return { defaultAllow, rules: out };
}

// eBPF opcodes (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
const ALU_RSH_K = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const ALU_MOV_K = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
const ALU_MOV_X = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const JMP_JNE_K = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JMP_JNE_X = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
const JMP_JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JMP_EXIT = 0x95; // BPF_JMP | BPF_EXIT

const DEV_BLOCK = 1; // BPF_DEVCG_DEV_BLOCK
const DEV_CHAR = 2; // BPF_DEVCG_DEV_CHAR
const ACC: Record<string, number> = { m: 1, r: 2, w: 4 }; // BPF_DEVCG_ACC_MKNOD, _READ, _WRITE

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

/** The program's instructions for an emulated rule set. */
export function assemble(e: EmulatedRules): Insn[] {
  const prog: Insn[] = [
    // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } at r1
    insn(LDX_MEM_W, 2, 1, 0, 0),
    insn(ALU_AND_K, 2, 0, 0, 0xffff),
    insn(LDX_MEM_W, 3, 1, 0, 0),
    insn(ALU_RSH_K, 3, 0, 0, 16),
    insn(LDX_MEM_W, 4, 1, 4, 0),
    insn(LDX_MEM_W, 5, 1, 8, 0),
  ];
  for (const r of e.rules) {
    const block: Insn[] = [];
    // Jumps to the next block get their offsets once the block's length is known.
    const jumps: number[] = [];
    const jne = (i: Insn) => {
      jumps.push(block.length);
      block.push(i);
    };
    jne(insn(JMP_JNE_K, 2, 0, 0, r.type === 'b' ? DEV_BLOCK : DEV_CHAR));
    const acc = [...r.access].reduce((a, p) => a | (ACC[p] as number), 0);
    if (acc !== 7) {
      block.push(insn(ALU_MOV_X, 1, 3, 0, 0));
      block.push(insn(ALU_AND_K, 1, 0, 0, acc));
      // An allow rule matches when it grants every bit asked for; a deny rule when it
      // refuses any of them (v1's rule: "w" denied refuses an open for read+write too,
      // where runc's program would let it through).
      if (r.allow) jne(insn(JMP_JNE_X, 1, 3, 0, 0));
      else jne(insn(JMP_JEQ_K, 1, 0, 0, 0));
    }
    if (r.major >= 0) jne(insn(JMP_JNE_K, 4, 0, 0, r.major));
    if (r.minor >= 0) jne(insn(JMP_JNE_K, 5, 0, 0, r.minor));
    block.push(insn(ALU_MOV_K, 0, 0, 0, r.allow ? 1 : 0), insn(JMP_EXIT, 0, 0, 0, 0));
    for (const j of jumps) (block[j] as Insn).off = block.length - j - 1;
    prog.push(...block);
  }
  prog.push(insn(ALU_MOV_K, 0, 0, 0, e.defaultAllow ? 1 : 0), insn(JMP_EXIT, 0, 0, 0, 0));
  return prog;
}

/** struct bpf_insn[] as the kernel reads it (little-endian x86-64/arm64 layout). */
export function encode(prog: readonly Insn[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((i, n) => {
    buf.writeUInt8(i.code, n * 8);
    buf.writeUInt8((i.src << 4) | i.dst, n * 8 + 1);
    buf.writeInt16LE(i.off, n * 8 + 2);
    buf.writeInt32LE(i.imm | 0, n * 8 + 4);
  });
  return buf;
}

/** The device filter program for an OCI rule list (in list order, later rules win). */
export function deviceFilter(rules: readonly LinuxDeviceCgroup[]): Buffer {
  return encode(assemble(emulateDeviceRules(rules)));
}
