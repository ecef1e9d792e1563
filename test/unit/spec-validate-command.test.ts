// `capsa validate`: run in a child process, since it writes to fds 1 and 2 directly.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { root } from '../../lib/paths';

const command = require.resolve('../../lib/commands/validate');
const tmp = mkdtempSync(join(tmpdir(), 'capsa-validate-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

function bundle(name: string, config: string | object | undefined, rootfs = true): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  if (rootfs) mkdirSync(join(dir, 'rootfs'));
  if (config !== undefined) writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

function run(dir: string, cwd = tmp) {
  const script = `process.exitCode = require(${JSON.stringify(command)}).validate({ bundle: ${JSON.stringify(dir)} });`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('a valid bundle', async (t) => {
  const dir = bundle('good', undefined);
  copyFileSync(join(root, 'spec-fixtures', 'good', 'podman.json'), join(dir, 'config.json'));
  t.same(run(dir), { status: 0, stdout: 'config.json is valid\n', stderr: '' });
  t.same(run('', dir), { status: 0, stdout: 'config.json is valid\n', stderr: '' }, 'the bundle defaults to the current directory');
});

t.test('every problem, one per line, and a summary', async (t) => {
  const dir = bundle('bad', {
    ociVersion: '1.0',
    process: { user: { uid: -1, gid: 0 }, args: ['sh'], cwd: 'home', env: ['A=1', 'B'] },
    root: { path: 'rootfs' },
    linux: { namespaces: [{ type: 'pid' }, { type: 'netwrok' }, { type: 'pid' }], sysctl: { 'net.x\ny': '1' } },
  });
  const r = run(dir);
  t.equal(r.status, 1);
  t.equal(r.stderr, '');
  t.equal(
    r.stdout,
    [
      '/linux/namespaces/1/type: "netwrok" is not one of pid, network, mount, ipc, uts, user, cgroup, time',
      '/ociVersion: "1.0" is not a SemVer 2.0.0 version such as "1.0.2"',
      '/process/user/uid: must be >= 0, not -1',
      '/linux/namespaces/2/type: "pid" is listed twice (also /linux/namespaces/0)',
      '/linux/sysctl/net.x\\ny: "net.x\\ny" is not a valid sysctl name',
      '/process/cwd: must be an absolute path, not "home"',
      '/process/env/1: "B" must have the form NAME=value',
      `7 problems in ${join(dir, 'config.json')}`,
      '',
    ].join('\n'),
  );
});

t.test('a process is required and the rootfs must exist', async (t) => {
  const dir = bundle('noproc', { ociVersion: '1.0.0', root: { path: 'rootfs' } }, false);
  const r = run(dir);
  t.equal(r.status, 1);
  t.match(r.stdout, /^\/process: is required to create a container\n/m);
  t.match(r.stdout, new RegExp(`^/root/path: "rootfs" does not exist \\(${join(dir, 'rootfs')}\\)$`, 'm'));
  t.match(r.stdout, /2 problems in /);
  const file = bundle('rootfile', { ociVersion: '1.0.0', process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' }, root: { path: '/etc/hostname' } });
  t.match(run(file).stdout, /^\/root\/path: "\/etc\/hostname" is not a directory$/m, 'absolute root paths are not joined to the bundle');
});

t.test('unreadable configs', async (t) => {
  const missing = run(bundle('missing', undefined));
  t.equal(missing.status, 1);
  t.match(missing.stderr, /^config\.json: .*missing\/config\.json: open: no such file or directory\n$/);
  const broken = bundle('broken', '{\n  "ociVersion": "1.0.0",\n  "root": {"path": "rootfs"}\n  "process": {}\n}\n');
  const r = run(broken);
  t.equal(r.status, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, `${join(broken, 'config.json')}: invalid JSON at line 4, column 3: expected ',' or '}' after a property value, found '"'\n`);
});
