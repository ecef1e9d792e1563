// Hostile input: config.json files that are huge, deeply nested, out of range, full of NUL
// bytes, not UTF-8, not files at all; signal numbers that are not signals. Each gets one
// clear line of error, exit status 1, no crash, and leaves nothing behind.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { Test } from 'tap';
import { Env, Result, skipReason } from '../helpers/capsa';
import { leftovers } from '../helpers/machine';

const skip = skipReason();
if (skip) t.plan(0, skip);
else {
  const env = new Env('input');
  t.teardown(() => env.cleanup());
  let n = 0;

  const refused = (t: Test, r: Result, id: string, why: RegExp) => {
    t.equal(r.status, 1, `${id}: exit status 1`);
    t.match(r.stderr, new RegExp(`^capsa: create ${id}: ${why.source}`), `${id}: ${r.stderr.trim().slice(0, 200)}`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${id}: one line, no stack trace`);
    t.notMatch(r.stderr, /TypeError|RangeError|SyntaxError|    at /, `${id}: no crash`);
    t.same(leftovers(env, id), [], `${id}: nothing left`);
  };
  /** create with config.json replaced by `raw` (text or bytes). */
  const createRaw = (raw: string | Buffer) => {
    const id = `in-${n++}`;
    const b = env.bundle(id);
    writeFileSync(join(b, 'config.json'), raw);
    return { id, r: env.run(['create', '--bundle', b, id]) };
  };
  /** create with the base config changed by `edit`. */
  const createWith = (edit: (c: any) => void) => {
    const id = `in-${n++}`;
    const b = env.bundle(id, edit);
    return { id, r: env.run(['create', '--bundle', b, id]) };
  };

  t.test('too big, too deep, not JSON, not UTF-8, not an object', async (t) => {
    let c = createWith((c) => (c.annotations = { big: 'x'.repeat(5 << 20) }));
    refused(t, c.r, c.id, /config\.json: .*is 5\.0 MiB, more than the limit of 4\.0 MiB/);
    c = createRaw(`{"ociVersion":"1.3.0","x":${'['.repeat(100000)}${']'.repeat(100000)}}`);
    refused(t, c.r, c.id, /config\.json: .*deeper than 64 levels/);
    c = createRaw('{"ociVersion": "1.3.0",');
    refused(t, c.r, c.id, /config\.json: invalid JSON at line 1, column \d+/);
    c = createRaw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]));
    refused(t, c.r, c.id, /config\.json: .*is not valid UTF-8 text/);
    for (const doc of ['[]', 'null', '"x"', '42'])
      ((c) => refused(t, c.r, c.id, /config\.json: \/: /))(createRaw(doc));
  });

  t.test('config.json that is not a regular file: no hang', async (t) => {
    for (const make of [
      (p: string) => execFileSync('mkfifo', [p]),
      (p: string) => symlinkSync('/dev/zero', p),
      (p: string) => mkdirSync(p),
    ]) {
      const id = `in-${n++}`;
      const b = env.bundle(id);
      rmSync(join(b, 'config.json'));
      make(join(b, 'config.json'));
      refused(t, env.run(['create', '--bundle', b, id]), id, /config\.json: .*(is not a regular file|is a directory)/);
    }
  });

  t.test('numbers out of range', async (t) => {
    const cases: [(c: any) => void, RegExp][] = [
      [(c) => (c.process.user.uid = -1), /\/process\/user\/uid/],
      [(c) => (c.process.user.uid = 2 ** 32), /\/process\/user\/uid/],
      [(c) => (c.process.user.gid = 1.5), /\/process\/user\/gid/],
      [(c) => (c.process.user.additionalGids = [2 ** 32 + 1]), /\/process\/user\/additionalGids\/0/],
      [(c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: -1, hard: 1 }]), /\/process\/rlimits\/0\/soft/],
      [(c) => (c.process.oomScoreAdj = 1001), /\/process\/oomScoreAdj/],
      [(c) => (c.process.consoleSize = { height: 2 ** 32, width: 1 }), /\/process\/consoleSize\/height/],
      [(c) => (c.linux.resources = { pids: { limit: 2 ** 70 } }), /\/linux\/resources\/pids\/limit/],
      [(c) => (c.linux.devices = [{ path: '/dev/x', type: 'c', major: 2 ** 31, minor: 1 }]), /\/linux\/devices\/0\/major/],
      [(c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 9, value: 1, op: 'SCMP_CMP_EQ' }] }] }), /\/linux\/seccomp\/syscalls\/0\/args\/0\/index/],
    ];
    for (const [edit, where] of cases) ((c) => refused(t, c.r, c.id, new RegExp(`config\\.json: .*${where.source}`)))(createWith(edit));
    // 2^64 and -2^63-1 parse to numbers that fit (2^64-1 and -2^63): refused from the text.
    for (const literal of ['18446744073709551616', '-9223372036854775809', '99999999999999999999999']) {
      const id = `in-${n++}`;
      const b = env.bundle(id, (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }]));
      const text = readFileSync(join(b, 'config.json'), 'utf8').replace('"hard": 1024', `"hard": ${literal}`);
      writeFileSync(join(b, 'config.json'), text);
      refused(t, env.run(['create', '--bundle', b, id]), id, new RegExp(`config\\.json: the integer ${literal} at line \\d+, column \\d+ does not fit in 64 bits`));
    }
    // Literals JSON.parse turns into Infinity, or that are not integers, or too big for the field.
    for (const literal of ['1e400', '-0.5', '4294967296']) {
      const id = `in-${n++}`;
      const b = env.bundle(id);
      const text = readFileSync(join(b, 'config.json'), 'utf8').replace('"uid": 0', `"uid": ${literal}`);
      writeFileSync(join(b, 'config.json'), text);
      refused(t, env.run(['create', '--bundle', b, id]), id, /config\.json: .*\/process\/user\/uid/);
    }
  });

  t.test('NUL bytes in strings', async (t) => {
    const cases: [(c: any) => void, string][] = [
      [(c) => (c.process.args = ['sh\0', '-c', 'true']), '/process/args/0'],
      [(c) => c.process.env.push('A=b\0c'), '/process/env/1'],
      [(c) => (c.process.cwd = '/\0tmp'), '/process/cwd'],
      [(c) => (c.hostname = 'a\0b'), '/hostname'],
      [(c) => (c.mounts[0].destination = '/proc\0x'), '/mounts/0/destination'],
      [(c) => (c.linux.maskedPaths = ['/proc/kcore\0']), '/linux/maskedPaths/0'],
    ];
    for (const [edit, where] of cases) ((c) => refused(t, c.r, c.id, new RegExp(`config\\.json: .*${where.replace(/\//g, '\\/')}`)))(createWith(edit));
  });

  t.test('signals that are not signals are refused; the container is not touched', async (t) => {
    const b = env.bundle('sigs', (c) => (c.process.args = ['sleep', '30']));
    t.equal(env.run(['create', '--bundle', b, 'sigs']).status, 0);
    for (const sig of ['0', '65', '-9', '99999999999999999999', 'SIGFOO', '9x', ' 9', 'SIG']) {
      const r = env.run(['kill', 'sigs', sig]);
      t.equal(r.status, 1, JSON.stringify(sig));
      t.match(r.stderr, /^capsa: kill sigs: signal: .*is not a (valid signal number|known signal)/, JSON.stringify(sig));
    }
    t.equal(JSON.parse(env.run(['state', 'sigs']).stdout).status, 'created', 'still waiting for start');
    t.equal(env.run(['delete', '--force', 'sigs']).status, 0);
  });
}
