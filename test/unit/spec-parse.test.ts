// Reading untrusted JSON: syntax errors with line and column, size and depth limits, files
// that are not files.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CapsaError } from '../../lib/errors';
import { MAX_JSON_BYTES, MAX_JSON_DEPTH, parseJson, parseJsonFile } from '../../lib/spec/parse';

function failure(fn: () => unknown): CapsaError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CapsaError) return e;
    throw e;
  }
  throw new Error('did not fail');
}

const dir = mkdtempSync(join(tmpdir(), 'capsa-parse-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('valid JSON parses', async (t) => {
  t.same(parseJson('{"a":[1,"x",null,true]}', 'x.json'), { a: [1, 'x', null, true] });
  t.equal(parseJson(' 18446744073709551615 ', 'x'), 2 ** 64);
  const f = join(dir, 'bom.json');
  writeFileSync(f, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"ok":1}')]));
  t.same(parseJsonFile(f, 'bom.json'), { ok: 1 }, 'a UTF-8 byte order mark is skipped');
});

t.test('syntax errors name line and column', async (t) => {
  const cases: [string, string][] = [
    ['{]', "line 1, column 2: expected a property name in double quotes, found ']'"],
    ['[1,]', "line 1, column 4: expected a value, found ']'"],
    ['{\n  "a": 1,\n  "b": 2,\n}', "line 4, column 1: expected a property name in double quotes, found '}'"],
    ['{\n  "ociVersion": "1.0.0"\n  "root": {}\n}', "line 3, column 3: expected ',' or '}' after a property value, found '\"'"],
    ['{"a" 1}', "line 1, column 6: expected ':' after a property name, found '1'"],
    ['{"a": "x', 'line 1, column 9: unterminated string'],
    ['{"a": "x\ty"}', 'line 1, column 9: the control character U+0009 must be escaped inside a string'],
    ['{"a": tru}', "line 1, column 7: expected a value, found 't'"],
    ['[1 2]', "line 1, column 4: expected ',' or ']' after an array element, found '2'"],
    ['01', "line 1, column 2: unexpected '1' after the end of the JSON value"],
    ['{"a":1}\n\nx', "line 3, column 1: unexpected 'x' after the end of the JSON value"],
    ['', 'line 1, column 1: expected a value, found the end of the file'],
    ['{"a": "\\x"}', 'line 1, column 9: invalid escape sequence in a string'],
    ['{"a": -}', 'line 1, column 7: invalid number'],
    ['{"a":\r\n [1,\r\n 2,,]}', "line 3, column 4: expected a value, found ','"],
  ];
  for (const [text, want] of cases) {
    const e = failure(() => parseJson(text, 'config.json'));
    t.equal(e.step, 'config.json');
    t.equal(e.reason, `invalid JSON at ${want}`, JSON.stringify(text));
    t.match(e.message, /^config\.json: invalid JSON at line \d+, column \d+: /);
  }
});

t.test('nesting is bounded', async (t) => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  t.ok(parseJson(deep(MAX_JSON_DEPTH), 'x'), `${MAX_JSON_DEPTH} levels parse`);
  t.match(failure(() => parseJson(deep(MAX_JSON_DEPTH + 1), 'x')).reason, /deeper than 64 levels/);
  t.match(failure(() => parseJson(deep(200000), 'x')).reason, /deeper than 64 levels/, 'no stack overflow');
  t.match(failure(() => parseJson('{"a":' + deep(100) + ',}', 'x')).reason, /line 1, column 69: arrays and objects nest deeper/,
    'a broken, too deep document names the first problem');
});

t.test('size is bounded before the file is read', async (t) => {
  const f = join(dir, 'huge.json');
  const fd = openSync(f, 'w');
  ftruncateSync(fd, 1024 * 1024 * 1024); // sparse: reading it would take a while
  closeSync(fd);
  const start = process.hrtime.bigint();
  const e = failure(() => parseJsonFile(f, 'config.json'));
  t.ok(process.hrtime.bigint() - start < 100_000_000n, 'refused without reading 1 GiB');
  t.match(e.reason, /is 1024\.0 MiB, more than the limit of 4\.0 MiB/);
  t.equal(e.subject, f);
  t.match(failure(() => parseJson(' '.repeat(MAX_JSON_BYTES + 1), 'x')).reason, /larger than 4\.0 MiB/);
  const justFits = join(dir, 'fits.json');
  writeFileSync(justFits, '[' + ' '.repeat(MAX_JSON_BYTES - 2) + ']');
  t.same(parseJsonFile(justFits, 'x'), []);
});

t.test('files that are not JSON files', async (t) => {
  const missing = failure(() => parseJsonFile(join(dir, 'nope.json'), 'config.json'));
  t.equal(missing.errnoCode, 'ENOENT');
  t.match(missing.message, /^config\.json: .*nope\.json: open: no such file or directory$/);
  const sub = join(dir, 'a-dir');
  mkdirSync(sub);
  t.match(failure(() => parseJsonFile(sub, 'config.json')).reason, 'is a directory');
  const latin1 = join(dir, 'latin1.json');
  writeFileSync(latin1, Buffer.from([0x22, 0xe9, 0x22]));
  t.match(failure(() => parseJsonFile(latin1, 'config.json')).reason, 'is not valid UTF-8');
});

const fifo = join(dir, 'fifo');
const mkfifo = spawnSync('mkfifo', [fifo]).status === 0;
t.test('a FIFO planted as config.json does not hang capsa', { skip: mkfifo ? false : 'mkfifo(1) is not available' }, async (t) => {
  t.match(failure(() => parseJsonFile(fifo, 'config.json')).reason, 'is not a regular file');
});

t.test('"-" reads standard input', async (t) => {
  const script = `const { parseJsonFile } = require(${JSON.stringify(require.resolve('../../lib/spec/parse'))});
    process.stdout.write(JSON.stringify(parseJsonFile('-', 'resources')));`;
  const r = spawnSync(process.execPath, ['-e', script], { input: '{"memory":{"limit":1}}' });
  t.equal(r.status, 0, r.stderr.toString());
  t.same(JSON.parse(r.stdout.toString()), { memory: { limit: 1 } });
});
