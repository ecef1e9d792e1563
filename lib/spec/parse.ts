// Reading JSON that comes from outside (config.json, `exec --process` files, resources on
// stdin): bounded in size and nesting, and a syntax error names its line and column.
import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { CapsaError, sysError } from '../errors';

/** Real configs are 5-30 KB; 4 MiB leaves room for huge seccomp profiles. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;
/** config.json nests 7 levels deep at most (linux.seccomp.syscalls[].args[]). */
export const MAX_JSON_DEPTH = 64;

const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Reads and parses a JSON file; `what` names it in errors ("config.json", "process file").
 * The path "-" reads standard input. Other paths must be regular files: a FIFO planted in a
 * bundle must not hang capsa.
 */
export function parseJsonFile(path: string, what: string): unknown {
  const buf = path === '-' ? readAll(0, what, path) : readFile(path, what);
  if (!isUtf8(buf)) throw new CapsaError(what, 'is not valid UTF-8 text', path);
  // A byte order mark is not JSON, but editors write one; it carries no meaning.
  const start = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  return parseJson(buf.toString('utf8', start), what);
}

export function parseJson(text: string, what: string): unknown {
  if (text.length > MAX_JSON_BYTES) throw new CapsaError(what, `is larger than ${MiB(MAX_JSON_BYTES)}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CapsaError(what, syntaxError(text, e));
  }
  if (tooDeep(doc, 1)) throw new CapsaError(what, `nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  // Long integers lose their last digits in a JS number: 18446744073709551616 (2^64) would
  // pass as 2^64-1. The text is checked where it has such literals (rare: one regex test).
  if (/\d{16}/.test(text)) checkIntegers(text, what);
  return doc;
}

const U64_MAX = 2n ** 64n - 1n;
const I64_MIN = -(2n ** 63n);

/** Refuses integer literals outside [-2^63, 2^64-1], which no field of the spec can hold. */
function checkIntegers(text: string, what: string): void {
  const num = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      num.lastIndex = i;
      const m = num.exec(text);
      if (!m) continue;
      if (!m[1] && !m[2] && m[0].replace('-', '').length >= 16) {
        const v = BigInt(m[0]);
        if (v > U64_MAX || v < I64_MIN) {
          const before = text.slice(0, i);
          const at = `line ${before.split('\n').length}, column ${i - before.lastIndexOf('\n')}`;
          throw new CapsaError(what, `the integer ${m[0]} at ${at} does not fit in 64 bits`);
        }
      }
      i = num.lastIndex - 1;
    }
  }
}

function readFile(path: string, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw sysError(what, e, path);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CapsaError(what, st.isDirectory() ? 'is a directory' : 'is not a regular file', path);
    if (st.size > MAX_JSON_BYTES) throw new CapsaError(what, `is ${MiB(st.size)}, more than the limit of ${MiB(MAX_JSON_BYTES)}`, path);
    return readAll(fd, what, path, st.size);
  } finally {
    closeSync(fd);
  }
}

/** Reads to the end, refusing more than MAX_JSON_BYTES (pipes and /proc files have no size). */
function readAll(fd: number, what: string, path: string, sizeHint = 0): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.min(Math.max(sizeHint + 1, 65536), MAX_JSON_BYTES + 1 - total));
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw sysError(what, e, path);
    }
    if (n === 0) break;
    chunks.push(n === buf.length ? buf : buf.subarray(0, n));
    total += n;
    if (total > MAX_JSON_BYTES) throw new CapsaError(what, `is more than the limit of ${MiB(MAX_JSON_BYTES)}`, path);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}

function tooDeep(v: unknown, depth: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (depth > MAX_JSON_DEPTH) return true;
  if (Array.isArray(v)) {
    for (const x of v) if (tooDeep(x, depth + 1)) return true;
    return false;
  }
  for (const k in v) if (tooDeep((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

// ------------------------------------------------------------------------- syntax errors

/** "invalid JSON at line 3, column 7: expected ',' or '}' after a property value, found ']'" */
function syntaxError(text: string, err: unknown): string {
  const found = locate(text);
  let pos = found?.pos;
  let msg = found?.msg;
  if (pos === undefined) {
    // Our scanner accepted what V8 refused: fall back on V8's own words and position.
    const m = err instanceof Error ? err.message : String(err);
    const at = /at position (\d+)/.exec(m);
    pos = at ? Number(at[1]) : undefined;
    msg = m.replace(/ in JSON at position \d+.*$/, '');
  }
  if (pos === undefined) return `invalid JSON: ${msg}`;
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `invalid JSON at line ${line}, column ${column}: ${msg}`;
}

class Stop {
  constructor(
    readonly pos: number,
    readonly msg: string,
  ) {}
}

/** Finds the first syntax error the way a careful reader would name it; undefined if none. */
function locate(s: string): { pos: number; msg: string } | undefined {
  let i = 0;
  const found = () => {
    if (i >= s.length) return 'the end of the file';
    const c = s.charCodeAt(i);
    return c < 0x20 ? `the control character U+${c.toString(16).padStart(4, '0')}` : `'${s[i]}'`;
  };
  const fail = (msg: string): never => {
    throw new Stop(i, msg);
  };
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= s.length) fail('unterminated string');
      const c = s.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail(`${found()} must be escaped inside a string`);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      i++;
      if (i < s.length && '"\\/bfnrt'.includes(s[i])) i++;
      else if (s[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) i += 5;
      else fail(`invalid escape sequence in a string`);
    }
  };
  const number = () => {
    const re = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) fail(`invalid number`);
    i = re.lastIndex;
  };
  const value = (depth: number): void => {
    ws();
    const c = s[i];
    if ((c === '{' || c === '[') && depth > MAX_JSON_DEPTH) fail(`arrays and objects nest deeper than ${MAX_JSON_DEPTH} levels`);
    if (c === '{') {
      i++;
      ws();
      if (s[i] === '}') return void i++;
      for (;;) {
        ws();
        if (s[i] !== '"') fail(`expected a property name in double quotes, found ${found()}`);
        string();
        ws();
        if (s[i] !== ':') fail(`expected ':' after a property name, found ${found()}`);
        i++;
        value(depth + 1);
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === '}') return void i++;
        else fail(`expected ',' or '}' after a property value, found ${found()}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (s[i] === ']') return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === ']') return void i++;
        else fail(`expected ',' or ']' after an array element, found ${found()}`);
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) if (s.startsWith(word, i)) return void (i += word.length);
    fail(`expected a value, found ${found()}`);
  };
  try {
    value(1);
    ws();
    if (i < s.length) fail(`unexpected ${found()} after the end of the JSON value`);
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return { pos: e.pos, msg: e.msg };
    throw e;
  }
}
