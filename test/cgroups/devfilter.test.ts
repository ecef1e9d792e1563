// The cgroup v2 device filter, without root: the rule emulation (v1 semantics), the program
// text against runc's own expected listings (opencontainers/cgroups devicefilter_test.go),
// and the program's verdicts, computed by a small interpreter of the instructions used.
import t from 'tap';
import { DEFAULT_DEVICE_RULES, containerDeviceRules } from '../../lib/cgroups';
import { type Insn, assemble, deviceFilter, emulateDeviceRules } from '../../lib/cgroups/devfilter';
import type { LinuxDeviceCgroup } from '../../lib/cgroups/resources';

/** The program in cilium/ebpf's listing format, jumps shown by block label as runc's tests do. */
function listing(prog: Insn[]): string {
  const starts = [6];
  prog.forEach((i, n) => i.code === 0x95 && n + 1 < prog.length && starts.push(n + 1));
  const label = (n: number) => `block-${starts.indexOf(n)}`;
  const out: string[] = [];
  prog.forEach((i, n) => {
    if (starts.includes(n)) out.push(`${label(n)}:`);
    const r = (x: number) => `r${x}`;
    let s: string;
    switch (i.code) {
      case 0x61: s = `LdXMemW dst: ${r(i.dst)} src: ${r(i.src)} off: ${i.off} imm: ${i.imm}`; break;
      case 0x54: s = `AndImm32 dst: ${r(i.dst)} imm: ${i.imm}`; break;
      case 0x74: s = `RShImm32 dst: ${r(i.dst)} imm: ${i.imm}`; break;
      case 0xb4: s = `MovImm32 dst: ${r(i.dst)} imm: ${i.imm}`; break;
      case 0xbc: s = `MovReg32 dst: ${r(i.dst)} src: ${r(i.src)}`; break;
      case 0x55: s = `JNEImm dst: ${r(i.dst)} off: -1 imm: ${i.imm} <${label(n + 1 + i.off)}>`; break;
      case 0x5d: s = `JNEReg dst: ${r(i.dst)} off: -1 src: ${r(i.src)} <${label(n + 1 + i.off)}>`; break;
      case 0x95: s = 'Exit'; break;
      default: throw new Error(`unexpected opcode ${i.code}`);
    }
    out.push(`${n}: ${s}`);
  });
  return out.join('\n');
}

/** runc's expected text, with comments and indentation dropped (its hash()). */
const clean = (s: string) => s.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('//')).join('\n');

/** Runs the program for one access: 1 allowed, 0 denied. */
function verdict(prog: Insn[], type: 'b' | 'c', access: string, major: number, minor: number): number {
  const acc = [...access].reduce((a, p) => a | ({ m: 1, r: 2, w: 4 } as Record<string, number>)[p]!, 0);
  const ctx = [((acc << 16) | (type === 'b' ? 1 : 2)) >>> 0, major, minor];
  const reg = new Array<number>(11).fill(0);
  for (let pc = 0; pc < prog.length; pc++) {
    const i = prog[pc]!;
    switch (i.code) {
      case 0x61: reg[i.dst] = ctx[i.off / 4]!; break;
      case 0x54: reg[i.dst] = (reg[i.dst]! & i.imm) >>> 0; break;
      case 0x74: reg[i.dst] = reg[i.dst]! >>> i.imm; break;
      case 0xb4: reg[i.dst] = i.imm >>> 0; break;
      case 0xbc: reg[i.dst] = reg[i.src]!; break;
      case 0x55: if (reg[i.dst] !== i.imm) pc += i.off; break;
      case 0x5d: if (reg[i.dst] !== reg[i.src]) pc += i.off; break;
      case 0x15: if (reg[i.dst] === i.imm) pc += i.off; break;
      case 0x95: return reg[0]!;
    }
  }
  throw new Error('fell off the end');
}

const HEADER = `
0: LdXMemW dst: r2 src: r1 off: 0 imm: 0
1: AndImm32 dst: r2 imm: 65535
2: LdXMemW dst: r3 src: r1 off: 0 imm: 0
3: RShImm32 dst: r3 imm: 16
4: LdXMemW dst: r4 src: r1 off: 4 imm: 0
5: LdXMemW dst: r5 src: r1 off: 8 imm: 0`;

t.test("runc's listings: no rules, privileged, privileged except one, later rules win", async (t) => {
  t.equal(listing(assemble(emulateDeviceRules([]))), clean(`${HEADER}\nblock-0:\n6: MovImm32 dst: r0 imm: 0\n7: Exit`));
  const all: LinuxDeviceCgroup = { allow: true, type: 'a', access: 'rwm' };
  t.equal(listing(assemble(emulateDeviceRules([all]))), clean(`${HEADER}\nblock-0:\n6: MovImm32 dst: r0 imm: 1\n7: Exit`));
  const except = (minor: number) => `${HEADER}
block-0:
6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
7: JNEImm dst: r4 off: -1 imm: 8 <block-1>
8: JNEImm dst: r5 off: -1 imm: ${minor} <block-1>
9: MovImm32 dst: r0 imm: 0
10: Exit
block-1:
11: MovImm32 dst: r0 imm: 1
12: Exit`;
  t.equal(listing(assemble(emulateDeviceRules([all, { allow: false, type: 'b', major: 8, minor: 0, access: 'rwm' }]))), clean(except(0)));
  // TestDeviceFilter_Weird: a deny, then allow-all resets it, then another deny.
  const weird = emulateDeviceRules([
    { allow: false, type: 'b', major: 8, minor: 1, access: 'rwm' },
    all,
    { allow: false, type: 'b', major: 8, minor: 2, access: 'rwm' },
  ]);
  t.equal(listing(assemble(weird)), clean(except(2)));
});

t.test("runc's listing for its built-in allow list (capsa's defaults)", async (t) => {
  const prog = assemble(emulateDeviceRules(DEFAULT_DEVICE_RULES.map((d) => d.rule)));
  const dev = (b: number, major: number, minor: number) => `block-${b}:
${6 + (b - 2) * 5 + 12}: JNEImm dst: r2 off: -1 imm: 2 <block-${b + 1}>
${6 + (b - 2) * 5 + 13}: JNEImm dst: r4 off: -1 imm: ${major} <block-${b + 1}>
${6 + (b - 2) * 5 + 14}: JNEImm dst: r5 off: -1 imm: ${minor} <block-${b + 1}>
${6 + (b - 2) * 5 + 15}: MovImm32 dst: r0 imm: 1
${6 + (b - 2) * 5 + 16}: Exit`;
  const expected = `${HEADER}
block-0:
6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
7: MovReg32 dst: r1 src: r3
8: AndImm32 dst: r1 imm: 1
9: JNEReg dst: r1 off: -1 src: r3 <block-1>
10: MovImm32 dst: r0 imm: 1
11: Exit
block-1:
12: JNEImm dst: r2 off: -1 imm: 2 <block-2>
13: MovReg32 dst: r1 src: r3
14: AndImm32 dst: r1 imm: 1
15: JNEReg dst: r1 off: -1 src: r3 <block-2>
16: MovImm32 dst: r0 imm: 1
17: Exit
${dev(2, 1, 3)}
${dev(3, 1, 5)}
${dev(4, 1, 7)}
${dev(5, 1, 8)}
${dev(6, 1, 9)}
${dev(7, 5, 0)}
${dev(8, 5, 2)}
${dev(9, 10, 200)}
block-10:
58: JNEImm dst: r2 off: -1 imm: 2 <block-11>
59: JNEImm dst: r4 off: -1 imm: 136 <block-11>
60: MovImm32 dst: r0 imm: 1
61: Exit
block-11:
62: MovImm32 dst: r0 imm: 0
63: Exit`;
  t.equal(listing(prog), clean(expected));
});

t.test('verdicts: the default container rules after "deny all"', async (t) => {
  const prog = assemble(emulateDeviceRules(containerDeviceRules([{ allow: false, access: 'rwm' }])));
  const cases: ['b' | 'c', string, number, number, number][] = [
    ['c', 'rw', 1, 3, 1], // /dev/null
    ['c', 'r', 1, 5, 1], // /dev/zero
    ['c', 'rw', 136, 7, 1], // a pty
    ['c', 'm', 4, 1, 1], // mknod of anything
    ['b', 'm', 8, 0, 1],
    ['c', 'rw', 1, 1, 0], // /dev/mem
    ['b', 'r', 8, 0, 0], // /dev/sda
    ['c', 'rm', 4, 1, 0], // read needs the read bit too
    ['c', 'rw', 10, 200, 1], // /dev/net/tun
    ['c', 'rw', 10, 229, 0], // /dev/fuse
  ];
  for (const [type, acc, maj, min, want] of cases) t.equal(verdict(prog, type, acc, maj, min), want, `${type} ${maj}:${min} ${acc}`);
});

t.test('verdicts: partial access, wildcards, allow-all with exceptions, rules merged', async (t) => {
  const p1 = assemble(
    emulateDeviceRules([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'r' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'w' },
      { allow: true, type: 'c', major: 4, access: 'rw' },
    ]),
  );
  t.equal(verdict(p1, 'c', 'r', 1, 5), 1);
  t.equal(verdict(p1, 'c', 'rw', 1, 5), 1, 'r and w rules on one device merge');
  t.equal(verdict(p1, 'c', 'm', 1, 5), 0);
  t.equal(verdict(p1, 'c', 'w', 4, 63), 1, 'minor wildcard');
  t.equal(verdict(p1, 'b', 'r', 4, 63), 0, 'type matters');
  const p2 = assemble(emulateDeviceRules([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 5, access: 'w' }]));
  t.equal(verdict(p2, 'c', 'r', 1, 5), 1);
  t.equal(verdict(p2, 'c', 'w', 1, 5), 0);
  t.equal(verdict(p2, 'c', 'rw', 1, 5), 0, 'a denied bit refuses an access asking for more (v1; runc would allow)');
  t.equal(verdict(p2, 'b', 'rwm', 9, 9), 1);
  // A later allow removes an earlier deny (allow-all mode), a later deny an earlier allow.
  const p3 = assemble(
    emulateDeviceRules([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
    ]),
  );
  t.equal(verdict(p3, 'c', 'r', 1, 3), 1);
  t.equal(verdict(p3, 'c', 'w', 1, 3), 0);
});

t.test('refused: holes in wildcard rules, bad types and access, huge numbers', async (t) => {
  t.throws(
    () => emulateDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'r' }]),
    /cannot punch a hole in the earlier wildcard rule "c 1:\* rwm"/,
  );
  t.throws(() => emulateDeviceRules([{ allow: true, type: 'x' as 'c', access: 'r' }]), /device type must be a, b or c/);
  t.throws(() => emulateDeviceRules([{ allow: true, type: 'c', access: 'rx' }]), /combination of r, w and m/);
  t.throws(() => emulateDeviceRules([{ allow: true, type: 'c', access: 'rr' }]), /combination of r, w and m/);
  t.throws(() => emulateDeviceRules([{ allow: true, type: 'c', major: 2 ** 31, access: 'r' }]), /out of range/);
});

t.test('encoding: 8 bytes per instruction, little-endian struct bpf_insn', async (t) => {
  const buf = deviceFilter([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'r' }]);
  t.equal(buf.length % 8, 0);
  t.same([...buf.subarray(0, 8)], [0x61, 0x12, 0, 0, 0, 0, 0, 0], 'ldxw r2, [r1+0]');
  t.same([...buf.subarray(8, 16)], [0x54, 0x02, 0, 0, 0xff, 0xff, 0, 0], 'and32 r2, 0xffff');
  // jne r2, 2, +N: off is a signed 16-bit count of instructions to skip.
  t.equal(buf.readUInt8(48), 0x55);
  t.equal(buf.readInt16LE(50), 7, 'past the 7 other instructions of the block');
  t.equal(buf.readInt32LE(52), 2);
});
