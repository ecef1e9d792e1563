// The cgroup v2 suite, on this v1/hybrid machine: boots the throw-away pure-cgroup-v2 VM of
// ../shared/tools/v2vm (QEMU, ~25 s to boot under emulation, code 5-20x slower), runs the
// v2 test files there with plain node (not the tap runner: far too slow under emulation),
// and reports each of their top-level tests here. The files: the v2 driver on every
// resource (test/cgroups/v2.test.ts), the eBPF device filter on a real cgroup2 tree
// (devfilter-root.test.ts), and real containers (integration/cgroups-v2.test.ts). The VM's
// Debian kernel also runs AppArmor, which this machine does not, so the AppArmor file
// (integration/security-apparmor.test.ts, ~25 s there) rides along on the same boot. A second
// boot runs SELinux instead (the two exclude each other): security=selinux, capsa's test
// policy loaded enforcing (spec-fixtures/selinux), and integration/security-selinux.test.ts.
// On a cgroup v2 host those files run directly and this one skips.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ROOT_DIR, isRoot } from '../helpers/capsa';

interface Boot {
  name: string;
  /** Extra guest kernel command line. */
  append: string;
  /** vCPUs, where fewer than the host's do: the other files of the suite run meanwhile. */
  cpus?: number;
  /** Run first, in the VM; the files run only if it succeeds. */
  setup?: string;
  files: string[];
  /** Why this boot cannot run here, if it cannot. */
  skip?: () => string | undefined;
}

const BOOTS: Boot[] = [
  {
    name: 'the cgroup v2 suite',
    append: '',
    files: [
      'dist/test/cgroups/devfilter-root.test.js',
      'dist/test/cgroups/v2.test.js',
      'dist/test/integration/cgroups-v2.test.js',
      'dist/test/integration/security-apparmor.test.js',
    ],
  },
  {
    name: 'SELinux',
    append: 'security=selinux',
    // One vCPU: as fast under TCG for this file (~26 s, against ~30-55 s with two), and the
    // timing-sensitive crash tests running beside it keep a core.
    cpus: 1,
    setup: 'sh spec-fixtures/selinux/load-policy.sh enforcing',
    files: ['dist/test/integration/security-selinux.test.js'],
    // The VM runs the host's userland: the policy is compiled there with its checkpolicy.
    skip: () => (existsSync('/usr/bin/checkpolicy') ? undefined : 'needs checkpolicy to build the test policy (apt-get install checkpolicy; scripts/setup.sh)'),
  },
];
const CGROUP2_SUPER_MAGIC = 0x63677270;
/** The VM command's exit code when a boot's setup failed. */
const SETUP_FAILED = 3;

function vmScript(): string | undefined {
  const candidates = [
    process.env.CAPSA_V2VM,
    join(ROOT_DIR, '..', 'shared', 'tools', 'v2vm', 'run-in-v2vm.sh'),
    '/work/shared/tools/v2vm/run-in-v2vm.sh',
  ];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

const script = vmScript();
if (statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC) t.plan(0, 'this host is cgroup v2: the v2 test files run directly');
else if (!isRoot()) t.plan(0, 'needs root: the VM runs with 9p passthrough');
else if (!script) t.plan(0, 'no v2 VM tool: set CAPSA_V2VM to run-in-v2vm.sh (../shared/tools/v2vm)');
else if (!existsSync(join(ROOT_DIR, 'bin', 'capsa'))) t.plan(0, 'bin/capsa is not built (npm run build)');
else run(script);

interface Section {
  file: string;
  output: string;
  exit: number | undefined;
}

/** Splits the VM's output into one section per test file. */
function sections(out: string): Section[] {
  const res: Section[] = [];
  let cur: Section | undefined;
  for (const line of out.split('\n')) {
    const start = /^@@@ file (.+)$/.exec(line);
    const end = /^@@@ exit (\d+)$/.exec(line);
    if (start) res.push((cur = { file: start[1] as string, output: '', exit: undefined }));
    else if (end && cur) cur.exit = Number(end[1]);
    else if (cur) cur.output += line + '\n';
  }
  return res;
}

function run(vm: string): void {
  // The boots run one after the other: measured at ~1.5-2.5 minutes and ~30-45 s; leave room
  // for a loaded machine.
  t.setTimeout(18 * 60 * 1000);
  for (const boot of BOOTS) {
    const skip = boot.skip?.();
    t.test(`${boot.name} in the v2 VM`, { skip }, (t) => runBoot(t, vm, boot));
  }
}

async function runBoot(t: Test, vm: string, boot: Boot): Promise<void> {
  // tap's spawn hook puts its processinfo loader back into our children's NODE_OPTIONS, and
  // the VM script passes NODE_OPTIONS in: node in the VM would then write coverage into the
  // shared worktree's .tap/, and tap here would report it and exit 1. Hence the unset.
  const files = boot.files.map((f) => `echo "@@@ file ${f}"; node ${f} 2>&1; echo "@@@ exit $?"`).join('; ');
  const cmd = `unset NODE_OPTIONS; ${boot.setup ? `${boot.setup} || exit ${SETUP_FAILED}; ` : ''}${files}`;
  const t0 = Date.now();
  // Files, not pipes: node's pipes are sockets, and qemu opens its stderr by /proc/self/fd/2,
  // which a socket refuses (ENXIO).
  const dir = mkdtempSync(join(tmpdir(), 'capsa-v2vm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [o, e] = [openSync(join(dir, 'out'), 'w'), openSync(join(dir, 'err'), 'w')];
  const child = spawn('bash', [vm, cmd], {
    cwd: ROOT_DIR,
    env: { ...process.env, NODE_OPTIONS: '', V2VM_QUIET: '1', V2VM_TIMEOUT: '840', V2VM_MEM: '2048', V2VM_APPEND: boot.append, ...(boot.cpus ? { V2VM_CPUS: String(boot.cpus) } : {}) },
    stdio: ['ignore', o, e],
  });
  closeSync(o);
  closeSync(e);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const out = readFileSync(join(dir, 'out'), 'utf8');
  const err = readFileSync(join(dir, 'err'), 'utf8');
  t.comment(`v2 VM: ${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${code}`);
  const found = sections(out);
  t.same(
    found.map((s) => s.file),
    boot.files,
    code === 125 || code === 124 || code === SETUP_FAILED ? `the VM did not run the files (exit ${code}): ${err.slice(-3000)}` : 'every file ran in the VM',
  );
  for (const s of found) {
    const plan0 = /^1\.\.0 # (.*)$/m.exec(s.output);
    // Every file must run there: a skip inside the VM means the suite did not happen.
    if (plan0) {
      t.fail(`${s.file} skipped in the VM: ${plan0[1]}`);
      continue;
    }
    let n = 0;
    for (const line of s.output.split('\n')) {
      const m = /^(not )?ok \d+ - (.*?)(?: # (SKIP|TODO)(?: (.*))?| # time=[\d.]+m?s)?$/.exec(line);
      if (!m) continue;
      n++;
      const name = `${s.file.replace(/^dist\/test\//, '')}: ${m[2]}`;
      if (m[3] === 'SKIP') t.pass(name, { skip: m[4] || 'skipped in the VM' });
      else if (m[1]) t.fail(name, { diagnostic: true, output: s.output.slice(-8000) });
      else t.pass(name);
    }
    t.ok(n > 0, `${s.file}: top-level tests reported (${n})`);
    t.equal(s.exit, 0, `${s.file} exited 0 in the VM`);
  }
  t.equal(code, 0, 'the VM command exited 0');
}
