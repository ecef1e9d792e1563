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
}
