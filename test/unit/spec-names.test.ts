// The kernel numbers behind config.json's names, and the generated validators file.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { root, validatorsPath } from '../../lib/paths';
import {
  CAP_LAST_CAP,
  CAPABILITIES,
  capabilityBit,
  NAMESPACE_FLAGS,
  NAMESPACE_PROC_NAMES,
  NAMESPACE_TYPES,
  rlimitResource,
  RLIMITS,
} from '../../lib/spec/names';

t.test('capabilities: every name up to CAP_LAST_CAP, bits in order', async (t) => {
  const names = Object.keys(CAPABILITIES);
  t.equal(names.length, CAP_LAST_CAP + 1);
  t.same(Object.values(CAPABILITIES), [...Array(CAP_LAST_CAP + 1).keys()]);
  t.equal(CAPABILITIES.CAP_CHOWN, 0);
  t.equal(CAPABILITIES.CAP_SYS_ADMIN, 21);
  t.equal(CAPABILITIES.CAP_AUDIT_READ, 37);
  t.equal(CAPABILITIES.CAP_CHECKPOINT_RESTORE, 40);
  t.equal(capabilityBit('CAP_BPF'), 39);
  for (const inherited of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
    t.equal(capabilityBit(inherited), undefined, inherited);
});

t.test('rlimits: x86_64 resource numbers', async (t) => {
  t.equal(Object.keys(RLIMITS).length, 16);
  t.same(
    [RLIMITS.RLIMIT_CPU, RLIMITS.RLIMIT_CORE, RLIMITS.RLIMIT_NPROC, RLIMITS.RLIMIT_NOFILE, RLIMITS.RLIMIT_AS, RLIMITS.RLIMIT_RTTIME],
    [0, 4, 6, 7, 9, 15],
  );
  t.equal(rlimitResource('RLIMIT_MSGQUEUE'), 12);
  t.equal(rlimitResource('valueOf'), undefined);
});

t.test('namespaces: clone flags and /proc/PID/ns names', async (t) => {
  t.same([...NAMESPACE_TYPES], ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time']);
  t.same(NAMESPACE_FLAGS, {
    pid: 0x20000000,
    network: 0x40000000,
    mount: 0x20000,
    ipc: 0x08000000,
    uts: 0x04000000,
    user: 0x10000000,
    cgroup: 0x02000000,
    time: 0x80,
  });
  t.equal(NAMESPACE_PROC_NAMES.network, 'net');
  t.equal(NAMESPACE_PROC_NAMES.mount, 'mnt');
  t.same(Object.keys(NAMESPACE_PROC_NAMES), [...NAMESPACE_TYPES]);
  const flags = Object.values(NAMESPACE_FLAGS);
  t.equal(new Set(flags).size, flags.length, 'distinct flags');
});

t.test('the bundle carries dist/validators.js: #validators names it, and nothing requires it at run time', async (t) => {
  t.equal(require.resolve('#validators'), validatorsPath, 'package.json "imports" and lib/paths.ts agree');
  const bundle = readFileSync(join(root, 'dist', 'capsa.js'), 'latin1');
  t.notMatch(bundle, /require\(\s*["']#validators["']\s*\)/, 'no run-time require of #validators: the bundle has them');
});

t.test('dist/validators.js is standalone: no ajv, no module resolution, no schema compile', async (t) => {
  const src = readFileSync(validatorsPath, 'utf8');
  t.notMatch(src, /(^|[^'"\w$.])require\s*\(/, 'calls require() nowhere (runtime helpers are inlined)');
  t.notMatch(src, /ajv\/dist\/(core|compile|vocabularies)|new Ajv|\.compile\(/, 'no ajv core');
  t.notMatch(src, /new Function|eval\(/, 'no code generated at run time');
  // Loaded from a directory with no node_modules anywhere above it.
  const dir = mkdtempSync(join(tmpdir(), 'capsa-validators-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(validatorsPath, join(dir, 'validators.js'));
  const script = `
    const h = () => Number(process.hrtime.bigint()) / 1e6;
    const t0 = h();
    const v = require(${JSON.stringify(join(dir, 'validators.js'))});
    const t1 = h();
    const ok = v.config({ ociVersion: '1.0.0', root: { path: 'rootfs' } }) && !v.config({}) && v.state({ ociVersion: '1', id: 'x', status: 'running', bundle: '/' });
    process.stdout.write(JSON.stringify({ ok, keys: Object.keys(v).sort(), loadMs: t1 - t0, cstrings: typeof v.cstrings }));`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, env: { PATH: process.env.PATH ?? '' } });
  t.equal(r.status, 0, r.stderr.toString());
  const out = JSON.parse(r.stdout.toString());
  t.ok(out.ok, 'validates');
  t.same(out.keys, ['config', 'cstrings', 'process', 'state']);
  t.equal(out.cstrings, 'string', 'the NUL table stays a string until needed');
  t.ok(out.loadMs < 100, `loads in ${out.loadMs.toFixed(2)} ms`);
});
