// The parent↔capsa-init protocol fed random and truncated messages: capsa-init's reader
// (native/init/proto.c) through the sanitized harness native/test/fuzz_proto.c, and the
// TypeScript codec directly. Neither may crash, read out of bounds or accept a malformed list.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { encodePlan } from '../../lib/plan/encode';
import type { LaunchPlan } from '../../lib/plan/types';
import { parseAttrs, parseHeader, ProtocolError, Writer } from '../../lib/protocol/codec';
import { HEADER_SIZE, Msg } from '../../lib/protocol/spec';
import { ROOT_DIR } from '../helpers/capsa';

const HARNESS = join(ROOT_DIR, 'build', 'Release', 'capsa-test-fuzz-proto');
/** CI runs this many; a longer session: CAPSA_FUZZ_ITERATIONS=1000000 npx tap ... */
const ITERATIONS = Number(process.env.CAPSA_FUZZ_ITERATIONS ?? 30000);
const SEED = Number(process.env.CAPSA_FUZZ_SEED ?? Date.now() % 1e9);

function fullPlan(): LaunchPlan {
  return {
    mode: 'create',
    parentPid: 4242,
    cloneFlags: 0x7e020000,
    joins: [{ type: 0x40000000, path: '/proc/1/ns/net' }],
    uidMappings: [],
    gidMappings: [],
    timeOffsets: 'monotonic 1 0\n',
    rootfs: '/var/lib/c1/rootfs',
    rootfsPropagation: 0x44000n,
    readonlyRoot: true,
    noPivot: false,
    mounts: [
      { source: 'proc', destination: '/proc', fstype: 'proc', flags: 0xen, propagation: 0n, data: '', attrSet: 0n, attrClr: 0n },
      { source: 'tmpfs', destination: '/run', fstype: 'tmpfs', flags: 0n, propagation: 0n, data: '', attrSet: 0n, attrClr: 0n, copyUp: true },
      { source: '/host', destination: '/mnt', fstype: '', flags: 0x5000n, propagation: 0x80000n, data: 'mode=755', attrSet: 1n, attrClr: 2n },
    ],
    devices: [{ path: '/dev/null', mode: 0o20666, major: 1, minor: 3, uid: 0, gid: 0, bind: false }],
    symlinks: [{ target: '/proc/self/fd', path: '/dev/fd' }],
    maskedPaths: ['/proc/kcore', '/sys/firmware'],
    readonlyPaths: ['/proc/sys'],
    hostname: 'h',
    domainname: 'd',
    sysctls: [{ path: 'net/ipv4/ip_forward', value: '1' }],
    rlimits: [{ type: 7, soft: 1024n, hard: 2048n }],
    oomScoreAdj: -100,
    uid: 1000,
    gid: 1000,
    additionalGids: [5, 6],
    umask: 0o22,
    cwd: '/',
    env: ['PATH=/bin', 'A=b'],
    args: ['sh', '-c', 'true'],
    caps: { bounding: 0xffn, effective: 1n, permitted: 1n, inheritable: 0n, ambient: 0n },
    noNewPrivileges: true,
    seccomp: { program: Buffer.alloc(32, 6), flags: 8, listenerPath: '/run/agent.sock' },
    terminal: true,
    consoleSocket: '/run/console.sock',
    consoleSize: { width: 80, height: 24 },
    stateDir: '/run/capsa/c1',
    hooks: [{ kind: 'startContainer', path: '/bin/hook', args: ['hook', 'x'], env: ['K=v'], timeout: 5 }],
    sessionKeyring: 'c1',
    personality: 8,
    ioprio: 0x4004,
    apparmorProfile: 'p',
    selinuxLabel: 'l',
    mountLabel: 'm',
  };
}

function seeds(): Buffer[] {
  const full = fullPlan();
  const minimal: LaunchPlan = { ...full, mode: 'exec', joins: [], mounts: [], devices: [], symlinks: [], maskedPaths: [], readonlyPaths: [], sysctls: [], rlimits: [], hooks: [], additionalGids: [], seccomp: undefined, rootfs: undefined, stateDir: undefined, timeOffsets: undefined, consoleSocket: undefined, consoleSize: undefined };
  return [
    encodePlan(full),
    encodePlan(minimal),
    new Writer().str('STATE_JSON', '{"ociVersion":"1.3.0","id":"c1"}').message(Msg.HOOKS_DONE),
    new Writer().str('SECCOMP_STATE', '{"fds":["seccompFd"]}').message(Msg.CONTINUE),
    new Writer().message(Msg.MAPS_DONE),
  ];
}

/** The harness's mutations, in TypeScript, for the codec. */
function mutate(rand: () => number, b: Buffer, all: Buffer[]): Buffer {
  let out = Buffer.from(b);
  const below = (n: number) => Math.floor(rand() * n);
  const edges = [0, 1, 3, 4, 7, 8, 9, 16, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 16 << 20];
  for (let r = 1 + below(6); r > 0; r--) {
    const at = below(Math.max(out.length, 1));
    switch (below(7)) {
      case 0:
        if (out.length) out[at] ^= 1 << below(8);
        break;
      case 1:
        if (out.length >= 4) out.writeUInt32LE(edges[below(edges.length)] >>> 0, (at & ~3) % (out.length - 3));
        break;
      case 2:
        if (out.length >= 2) out.writeUInt16LE(below(140), (at & ~3) % (out.length - 1));
        break;
      case 3:
        out = out.subarray(0, at);
        break;
      case 4:
        out = Buffer.concat([out.subarray(0, at), out.subarray(below(out.length), below(out.length) + below(64)), out.subarray(at)]);
        break;
      case 5:
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + below(64))]);
        break;
      case 6: {
        const o = all[below(all.length)];
        out = Buffer.concat([out.subarray(0, at), o.subarray(below(o.length))]);
        break;
      }
    }
  }
  return out;
}

t.test('the TypeScript codec: only ProtocolError, whatever the bytes', async (t) => {
  let s = SEED | 1;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const all = seeds();
  let accepted = 0;
  let unexpected: unknown;
  for (let i = 0; i < ITERATIONS && !unexpected; i++) {
    const m = mutate(rand, all[Math.floor(rand() * all.length)], all);
    try {
      if (m.length >= HEADER_SIZE) parseHeader(m.subarray(0, HEADER_SIZE));
      const a = parseAttrs(m.subarray(Math.min(HEADER_SIZE, m.length)));
      for (const n of ['MOUNT', 'DEVICE', 'HOOK', 'NS_JOIN'] as const) for (const x of a.nests(n)) x.str('M_DEST');
      accepted++;
    } catch (e) {
      if (!(e instanceof ProtocolError)) unexpected = e;
    }
  }
  t.equal(unexpected, undefined, `seed ${SEED}: nothing but ProtocolError is thrown`);
  t.comment(`codec: ${ITERATIONS} mutated messages, ${accepted} accepted`);
});

t.test("capsa-init's reader under ASan and UBSan", { skip: existsSync(HARNESS) ? false : 'build/Release/capsa-test-fuzz-proto is not built (npm run build)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'capsa-fuzz-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  seeds().forEach((b, i) => writeFileSync(join(dir, `seed-${i}`), b));
  const r = spawnSync(HARNESS, [dir, String(ITERATIONS), String(SEED)], {
    encoding: 'utf8',
    env: { ...process.env, ASAN_OPTIONS: 'abort_on_error=1:detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' },
    timeout: 600_000,
  });
  t.equal(r.status, 0, `seed ${SEED}: the harness finished cleanly\n${r.stderr.slice(0, 4000)}`);
  const m = /iterations (\d+) accepted (\d+) rejected (\d+)/.exec(r.stdout);
  t.ok(m && Number(m[1]) === ITERATIONS, 'every iteration ran');
  t.ok(m && Number(m[2]) > 0 && Number(m[3]) > 0, 'the mutations reach both verdicts');
  t.comment(r.stdout.trim());
});
