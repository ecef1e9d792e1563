// Differential: the same bundle under Debian's runc and under capsa; what the process sees
// from inside must match (after removing what differs between any two runs: ids of mounts,
// pids, times).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Env, skipReason } from '../helpers/capsa';

const PROBE = [
  'echo "## id"; id',
  'echo "## status"; grep -E "^(Cap|NoNewPrivs|Seccomp:|Groups|Uid|Gid)" /proc/self/status',
  'echo "## limits"; cat /proc/self/limits',
  'echo "## umask cwd env"; umask; pwd; env | sort | grep -v "^PWD=\\|^SHLVL="',
  'echo "## hostname"; hostname; cat /proc/sys/kernel/domainname',
  'echo "## oom"; cat /proc/self/oom_score_adj',
  'echo "## mounts"; awk \'{ for (i = 7; i <= NF; i++) if ($i == "-") { print $5, $6, $(i + 1); break } }\' /proc/self/mountinfo',
  'echo "## dev"; ls -la /dev | awk \'{ print $1, $3, $4, $5, $6, $NF }\' | tail -n +2',
  'echo "## masked"; head -c 1 /proc/keys | wc -c; ls /sys/firmware | wc -l',
  'echo "## readonly"; touch /proc/sys/x 2>&1 | sed "s/.*: //"; touch /x 2>&1 | sed "s/.*: //"',
  'echo "## ns"; ls /proc/self/ns',
  'echo "## cgroup"; cat /proc/self/cgroup | cut -d: -f2 | sort',
  // The session keyring: its name and permissions (perm uid gid type name), where /proc/keys is not masked.
  'echo "## keyring"; grep " _ses" /proc/keys | awk \'{ print $5, $6, $7, $8, $9 }\'',
].join('; ');

function runtimeRun(argv: string[]): { status: number | null; out: string; err: string } {
  const dir = mkdtempSync(join(tmpdir(), 'capsa-diff-out-'));
  const o = openSync(join(dir, 'o'), 'w+');
  const e = openSync(join(dir, 'e'), 'w+');
  try {
    const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', o, e], timeout: 30000 });
    return { status: r.status, out: readFileSync(join(dir, 'o'), 'utf8'), err: readFileSync(join(dir, 'e'), 'utf8') };
  } finally {
    closeSync(o);
    closeSync(e);
    rmSync(dir, { recursive: true, force: true });
  }
}

const skip = skipReason() ?? (spawnSync('runc', ['--version']).status === 0 ? undefined : 'runc is not installed');
if (skip) t.plan(0, skip);
else {
  const env = new Env('diff');
  const runcRoot = mkdtempSync(join(tmpdir(), 'capsa-diff-runc-'));
  t.teardown(() => {
    spawnSync('runc', ['--root', runcRoot, 'delete', '--force', 'diff-runc']);
    rmSync(runcRoot, { recursive: true, force: true });
    env.cleanup();
  });

  const configs: Record<string, (c: any) => void> = {
    'a root container with the usual settings': () => {},
    'a non-root user with groups, umask, cwd, rlimits, capabilities, sysctl': (c) => {
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 100], umask: 0o027 };
      c.process.cwd = '/tmp';
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }, { type: 'RLIMIT_NPROC', soft: 50, hard: 60 }];
      c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] };
      c.process.noNewPrivileges = false;
      c.process.oomScoreAdj = 200;
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    },
    'the session keyring, /proc/keys unmasked': (c) => {
      c.linux.maskedPaths = c.linux.maskedPaths.filter((p: string) => p !== '/proc/keys');
    },
    'the session keyring in a user namespace (identity mapped)': (c) => {
      c.linux.maskedPaths = c.linux.maskedPaths.filter((p: string) => p !== '/proc/keys');
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    },
    'a seccomp profile and extra devices': (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] };
      c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600 }];
    },
  };

  for (const [name, edit] of Object.entries(configs)) {
    t.test(name, async (t) => {
      const b = env.bundle('diff-capsa', (c) => {
        c.process.args = ['sh', '-c', PROBE];
        edit(c);
      });
      const capsa = env.run(['run', '--bundle', b, 'diff-capsa']);
      t.equal(capsa.status, 0, capsa.stderr);
      // runc reads the same config, with its own cgroup path.
      const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
      config.linux.cgroupsPath = `${env.cgroupParent}/diff-runc`;
      writeFileSync(join(b, 'config.json'), JSON.stringify(config));
      const runc = runtimeRun(['runc', '--root', runcRoot, 'run', '--bundle', b, 'diff-runc']);
      t.equal(runc.status, 0, runc.err);
      const norm = (s: string) => s.replace(/diff-(runc|capsa)/g, 'diff-X');
      const sections = (s: string) => Object.fromEntries(norm(s).split('## ').filter(Boolean).map((x) => [x.split('\n')[0], x]));
      const [a, b2] = [sections(capsa.stdout), sections(runc.out)];
      for (const k of Object.keys(b2)) t.equal(a[k], b2[k], `${k} matches runc`);
    });
  }
}
