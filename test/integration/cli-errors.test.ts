// Errors found while parsing the command line reach --log too: containerd's shim shows the
// last error line of <bundle>/log.json, and without it users see only "exit status 1".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CAPSA } from '../helpers/capsa';

if (!existsSync(CAPSA)) t.plan(0, 'bin/capsa is not built (npm run build)');
else {
  const dir = mkdtempSync(join(tmpdir(), 'capsa-cli-errors-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const lastError = (file: string) => JSON.parse(readFileSync(file, 'utf8').trim().split('\n').pop()!);

  for (const [name, args, msg] of [
    ['an unknown command', ['nosuchcommand', 'x'], "unknown command 'nosuchcommand'"],
    ['an unknown flag', ['create', '--bogus', 'x'], "unknown option '--bogus'"],
  ] as const) {
    t.test(`${name} is logged as JSON, both --log-format spellings`, async (t) => {
      for (const format of [['--log-format', 'json'], ['--log-format=json']]) {
        const file = join(dir, `${name.replace(/ /g, '-')}-${format.length}.json`);
        const r = spawnSync(CAPSA, ['--root', join(dir, 'root'), '--log', file, ...format, ...args], { encoding: 'utf8' });
        t.equal(r.status, 1);
        t.match(r.stderr, msg);
        t.match(lastError(file), { level: 'error', msg });
      }
    });
  }

  // Only the command argv names is registered; help and a near miss still see them all.
  t.test('help lists every command; a near miss gets suggestions', async (t) => {
    const help = spawnSync(CAPSA, ['--help'], { encoding: 'utf8' });
    t.equal(help.status, 0);
    for (const c of ['create', 'run', 'start', 'exec', 'state', 'kill', 'delete', 'pause', 'resume', 'ps', 'events', 'update', 'list', 'spec', 'features', 'validate'])
      t.match(help.stdout, new RegExp(`^  ${c} `, 'm'), c);
    const near = spawnSync(CAPSA, ['--root', join(dir, 'root'), 'stat', 'x'], { encoding: 'utf8' });
    t.equal(near.status, 1);
    t.match(near.stderr, /unknown command 'stat'[\s\S]*Did you mean one of start, state\?/);
  });
}
