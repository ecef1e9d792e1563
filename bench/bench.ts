// npm run bench: capsa and runc side by side on the same bundle, interleaved run by run so
// both see the same machine. Prints medians, ratios, and the budget check (each command within
// a bare `node -e 0` + 10 ms), and the memory a container waiting in `created` costs.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseConfig, CAPSA } from '../test/helpers/capsa';
import { sharedRootfs } from '../test/helpers/rootfs';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS; // the launcher drops it too; measure node the same way

interface Runtime {
  name: string;
  argv: (args: string[]) => string[];
}

const work = mkdtempSync(join(tmpdir(), 'capsa-bench-'));
const runtimes: Runtime[] = [
  { name: 'capsa', argv: (a) => [CAPSA, '--root', join(work, 'capsa-root'), ...a] },
  { name: 'runc', argv: (a) => ['runc', '--root', join(work, 'runc-root'), ...a] },
];

function bundle(): string {
  const c = baseConfig(sharedRootfs());
  c.process.args = ['true'];
  c.linux.cgroupsPath = '';
  const dir = join(work, 'bundle');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

// stderr goes to a file: a container inherits create's stdio, and a pipe would make us wait
// for the container to exit.
const errFile = join(work, 'stderr');

function time(argv: string[]): number {
  const fd = openSync(errFile, 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', fd] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  closeSync(fd);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${readFileSync(errFile, 'utf8')}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function rssKiB(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) : NaN;
}

function main(): void {
  if (spawnSync('runc', ['--version']).status !== 0) throw new Error('runc is not installed (apt-get install runc)');
  const b = bundle();
  const results: Record<string, Record<string, number[]>> = {};
  const record = (rt: string, what: string, ms: number) => ((results[rt] ??= {})[what] ??= []).push(ms);
  const rssCreated: Record<string, number[]> = {};

  for (let i = 0; i < RUNS; i++) {
    record('node', 'node -e 0', time([process.execPath, '-e', '0']));
    for (const rt of runtimes) {
      const id = `bench-${i}`;
      record(rt.name, 'run true', time(rt.argv(['run', '--bundle', b, id])));
      const t0 = process.hrtime.bigint();
      time(rt.argv(['create', '--bundle', b, id]));
      const created = Number(process.hrtime.bigint() - t0) / 1e6;
      const state = spawnSync(rt.argv([])[0], rt.argv(['state', id]).slice(1), { env, encoding: 'utf8' });
      (rssCreated[rt.name] ??= []).push(rssKiB(JSON.parse(state.stdout).pid));
      record(rt.name, 'state', time(rt.argv(['state', id])));
      const started = time(rt.argv(['start', id]));
      const deleted = time(rt.argv(['delete', '--force', id]));
      record(rt.name, 'create', created);
      record(rt.name, 'start', started);
      record(rt.name, 'delete', deleted);
      record(rt.name, 'create+start+delete', created + started + deleted);
    }
  }

  const node = median(results.node['node -e 0']);
  const rows = ['run true', 'create+start+delete', 'create', 'start', 'delete', 'state'];
  const out: string[] = [];
  out.push(`${RUNS} runs each, interleaved; medians in ms. Bare node -e 0: ${node.toFixed(1)} ms (budget per command: ${(node + 10).toFixed(1)} ms)`);
  out.push('');
  out.push('| command | capsa | runc | capsa/runc | capsa − node |');
  out.push('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    const c = median(results.capsa[r]);
    const u = median(results.runc[r]);
    const single = r !== 'run true' && r !== 'create+start+delete';
    out.push(`| ${r} | ${c.toFixed(1)} | ${u.toFixed(1)} | ${(c / u).toFixed(2)} | ${single ? (c - node).toFixed(1) : '-'} |`);
  }
  out.push('');
  for (const rt of runtimes)
    out.push(`RSS of the container's process waiting in "created" (${rt.name}): median ${(median(rssCreated[rt.name]) / 1024).toFixed(2)} MiB`);
  process.stdout.write(out.join('\n') + '\n');
}

try {
  main();
} finally {
  for (const rt of runtimes) {
    const list = spawnSync(rt.argv([])[0], rt.argv(['list', '-q']).slice(1), { env, encoding: 'utf8' });
    for (const id of (list.stdout ?? '').split('\n').filter(Boolean)) spawnSync(rt.argv([])[0], rt.argv(['delete', '--force', id]).slice(1), { env });
  }
  rmSync(work, { recursive: true, force: true });
}
