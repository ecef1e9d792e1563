// The runtime-namespace hook runner without root: order, stdin, args and env, timeouts, and
// which kinds fail and which warn.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CapsaError } from '../../lib/errors';
import { isHookFailure, runHooks } from '../../lib/hooks';
import * as log from '../../lib/log';
import type { StateDoc } from '../../lib/state/status';

const dir = mkdtempSync(join(tmpdir(), 'capsa-hooks-unit-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const state: StateDoc = { ociVersion: '1.3.0', id: 'h1', pid: 42, status: 'created', bundle: '/b', rootfs: '/b/rootfs', created: 'now', owner: 'root' };
const sh = (script: string, extra: object = {}) => ({ path: '/bin/sh', args: ['sh', '-c', script], ...extra });
const out = join(dir, 'out');

t.test('in order, each with the state on stdin', async (t) => {
  runHooks('createRuntime', [sh(`echo one >> ${out}; cat >> ${out}`), sh(`echo two >> ${out}`)], state);
  t.equal(readFileSync(out, 'utf8'), `one\n${JSON.stringify(state)}two\n`);
  rmSync(out);
});

t.test('args and env as given; without env, the runtime\'s', async (t) => {
  process.env.CAPSA_UNIT_PROBE = 'inherited';
  runHooks('prestart', [sh(`echo "$0 $1 $FOO $CAPSA_UNIT_PROBE" > ${out}`, { args: ['sh', '-c', `echo "$0 $1 $FOO $CAPSA_UNIT_PROBE" > ${out}`, 'zero', 'one'], env: ['FOO=bar'] })], state);
  t.equal(readFileSync(out, 'utf8'), 'zero one bar \n');
  runHooks('prestart', [sh(`echo "$CAPSA_UNIT_PROBE" > ${out}`)], state);
  t.equal(readFileSync(out, 'utf8'), 'inherited\n');
  delete process.env.CAPSA_UNIT_PROBE;
  rmSync(out);
});

t.test('a hook that does not read its stdin is fine', async (t) => {
  t.doesNotThrow(() => runHooks('poststart', [sh('exit 0')], { ...state, annotations: { big: 'x'.repeat(1 << 20) } }));
});

t.test('failures: an error naming the hook and what it said, except poststop: a warning, and the rest run', async (t) => {
  for (const kind of ['prestart', 'createRuntime', 'poststart'] as const) {
    const e = t.throws(() => runHooks(kind, [sh('echo broken >&2; exit 4'), sh(`echo ran >> ${out}`)], state)) as unknown as CapsaError;
    t.match(e.message, new RegExp(`^${kind} hook: /bin/sh: exited with status 4: broken$`));
    t.ok(isHookFailure(e));
  }
  t.throws(() => readFileSync(out), 'no hook after the failed one ran');
  const logFile = join(dir, 'log.json');
  log.configureLog({ file: logFile, format: 'json', debug: false });
  t.doesNotThrow(() => runHooks('poststop', [sh('exit 5'), sh(`echo ran >> ${out}`)], state));
  log.configureLog({ format: 'text', debug: false });
  t.match(JSON.parse(readFileSync(logFile, 'utf8')), { level: 'warning', msg: 'poststop hook: /bin/sh: exited with status 5' });
  t.equal(readFileSync(out, 'utf8'), 'ran\n');
  t.notOk(isHookFailure(new CapsaError('poststop hook', 'x')));
  t.notOk(isHookFailure(new CapsaError('mount', 'x')));
  t.ok(isHookFailure(new CapsaError('startContainer hook', 'x')), 'capsa-init\'s steps count too');
  rmSync(out);
});

t.test('a timeout kills the hook', async (t) => {
  const started = Date.now();
  t.throws(() => runHooks('createRuntime', [sh('exec sleep 20', { timeout: 1 })], state), /createRuntime hook: \/bin\/sh: killed after its timeout of 1 s/);
  t.ok(Date.now() - started < 10000);
});
