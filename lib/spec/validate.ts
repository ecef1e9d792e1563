// Validation of config.json, `exec --process` files and state documents: the schema (ajv,
// compiled to dist/validators.js at build time) first, then what a schema cannot say
// (./semantic.ts), run only on the parts that passed the schema. Every problem is reported at
// once, as a JSON pointer (RFC 6901) and a reason that names the offending value.
import { NO_NUL, PATTERN_TEXT } from './names';
import { checkConfig, checkProcess, describe, escapePointer, type Guard } from './semantic';
import type { Process, Spec } from './types';

export interface Problem {
  /** JSON pointer into the document: "" is the root, e.g. "/linux/namespaces/1/type". */
  pointer: string;
  /** What is wrong, naming the value: `"netwrok" is not one of pid, network, ...`. */
  reason: string;
}

export interface ConfigOptions {
  /** `create` and `capsa validate` need a process; the spec makes it optional otherwise. */
  requireProcess?: boolean;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
}
type ValidateFn = ((doc: unknown) => boolean) & { errors?: AjvError[] | null };
interface Validators {
  config: ValidateFn;
  process: ValidateFn;
  state: ValidateFn;
  /** JSON: where the schema's C strings are (see scripts/gen-validator.ts). */
  cstrings: string;
}
type Shape = 1 | { p?: Record<string, Shape>; i?: Shape; a?: Shape; k?: 1; r?: string };

let loaded: Validators | undefined;
function validators(): Validators {
  // Standalone code generated at build time (dist/validators.js, package.json "imports"):
  // loading it compiles no schema, and the bundle carries it, so its code is in the caches.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require('#validators') as Validators);
}

export function validateConfig(doc: unknown, opts: ConfigOptions = {}): Problem[] {
  const schema = schemaProblems('config', 'Spec', doc);
  const semantic = checkConfig(doc as Spec, cleanOf(schema), opts.requireProcess ?? false);
  return [...sortProblems(schema), ...sortProblems(semantic)];
}

/** The process of `exec --process FILE`: the config's `process` object on its own. */
export function validateProcess(doc: unknown): Problem[] {
  const schema = schemaProblems('process', 'Process', doc);
  const semantic = checkProcess(doc as Process, '', cleanOf(schema));
  return [...sortProblems(schema), ...sortProblems(semantic)];
}

/** A state document (runtime.md "State"), as `state` prints and hooks receive it. */
export function validateState(doc: unknown): Problem[] {
  return sortProblems(schemaProblems('state', 'State', doc));
}

// ------------------------------------------------------------------------- schema problems

function schemaProblems(which: 'config' | 'process' | 'state', shapeId: string, doc: unknown): Problem[] {
  const v = validators();
  const fn = v[which];
  const out: Problem[] = [];
  if (!fn(doc)) out.push(...fromAjv(fn.errors ?? [], doc));
  if (mayHaveNul(doc)) {
    const shapes = JSON.parse(v.cstrings) as Record<string, Shape>;
    findNul(doc, shapes[shapeId], '', shapes, out);
  }
  return out.length ? dedupe(out) : out;
}

function fromAjv(errors: AjvError[], doc: unknown): Problem[] {
  const out: Problem[] = [];
  const alternatives: AjvError[] = [];
  for (const e of errors) {
    const p = e.params;
    const value = resolve(doc, e.instancePath);
    switch (e.keyword) {
      case 'if': // the `then` keyword's own errors say what is missing
        break;
      case 'anyOf':
      case 'oneOf':
        alternatives.push(e);
        break;
      case 'required':
        out.push({ pointer: `${e.instancePath}/${escapePointer(String(p.missingProperty))}`, reason: 'is required' });
        break;
      case 'type':
        out.push({ pointer: e.instancePath, reason: `must be ${typeName(String(p.type))}, not ${describe(value)}` });
        break;
      case 'enum':
        out.push({
          pointer: e.instancePath,
          reason: `${describe(value)} is not one of ${(p.allowedValues as unknown[]).join(', ')}`,
        });
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        out.push({ pointer: e.instancePath, reason: `must be ${p.comparison} ${limit(p.limit as number)}, not ${describe(value)}` });
        break;
      case 'pattern': {
        const text = PATTERN_TEXT[String(p.pattern)] ?? `does not match ${String(p.pattern)}`;
        out.push({ pointer: e.instancePath, reason: `${describe(value)} ${text}` });
        break;
      }
      case 'minItems':
        out.push({ pointer: e.instancePath, reason: `must have at least ${count(p.limit as number)}` });
        break;
      case 'maxItems':
        out.push({ pointer: e.instancePath, reason: `must have at most ${count(p.limit as number)}` });
        break;
      case 'minLength':
        out.push({ pointer: e.instancePath, reason: p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters long` });
        break;
      default:
        out.push({ pointer: e.instancePath, reason: `fails the schema's "${e.keyword}" rule` });
    }
  }
  // Alternatives report each branch's complaints and then their own: keep the branch
  // complaints (merging "must be a string" + "must be an integer" into one), or, if none
  // landed at or below the alternative, one line for it.
  for (const a of alternatives) {
    const inside = out.filter((p) => within(p.pointer, a.instancePath));
    if (!inside.length) out.push({ pointer: a.instancePath, reason: 'does not match any of the allowed forms' });
  }
  return mergeTypeAlternatives(out);
}

function mergeTypeAlternatives(problems: Problem[]): Problem[] {
  const types = new Map<string, Problem[]>();
  for (const p of problems) if (p.reason.startsWith('must be ') && p.reason.includes(', not ')) {
    const list = types.get(p.pointer) ?? [];
    list.push(p);
    types.set(p.pointer, list);
  }
  const out: Problem[] = [];
  for (const p of problems) {
    const list = types.get(p.pointer);
    if (!list || list.length < 2) out.push(p);
    else if (list[0] === p) {
      const not = p.reason.slice(p.reason.lastIndexOf(', not '));
      out.push({ pointer: p.pointer, reason: `must be ${list.map((q) => q.reason.slice(8, q.reason.lastIndexOf(', not '))).join(' or ')}${not}` });
    }
  }
  return out;
}

function typeName(t: string): string {
  if (t === 'boolean') return 'true or false';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** The 64-bit bounds are doubles (see schema.ts); show them as the integers they stand for. */
function limit(n: number): string {
  if (n === 2 ** 64) return '18446744073709551615';
  if (n === 2 ** 63) return '9223372036854775807';
  if (n === -(2 ** 63)) return '-9223372036854775808';
  return String(n);
}

const count = (n: number) => `${n} ${n === 1 ? 'entry' : 'entries'}`;

// ----------------------------------------------------------------------------- NUL bytes

/**
 * Any NUL in any string or key: the cheap test that guards the precise walk. JSON.stringify
 * (native, and escaping NUL as \u0000) beats a JS walk; the walk is for what it cannot print.
 */
function mayHaveNul(doc: unknown): boolean {
  try {
    return JSON.stringify(doc)?.includes('\\u0000') ?? false;
  } catch {
    return hasNul(doc, 0);
  }
}

function hasNul(v: unknown, depth: number): boolean {
  if (typeof v === 'string') return v.includes('\0');
  if (typeof v !== 'object' || v === null || depth > 100) return false;
  if (Array.isArray(v)) {
    for (const x of v) if (hasNul(x, depth + 1)) return true;
    return false;
  }
  for (const k in v) if (k.includes('\0') || hasNul((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

/** Reports NULs only where the schema has C strings: unknown properties are not looked at. */
function findNul(v: unknown, shape: Shape | undefined, ptr: string, shapes: Record<string, Shape>, out: Problem[]): void {
  if (shape === undefined) return;
  if (shape === 1) {
    if (typeof v === 'string' && v.includes('\0')) out.push({ pointer: ptr, reason: `${describe(v)} ${PATTERN_TEXT[NO_NUL]}` });
    return;
  }
  if (shape.r !== undefined) return findNul(v, shapes[shape.r], ptr, shapes, out);
  if (typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    if (shape.i !== undefined) v.forEach((x, i) => findNul(x, shape.i, `${ptr}/${i}`, shapes, out));
    return;
  }
  const obj = v as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const at = `${ptr}/${escapePointer(k)}`;
    if (shape.p && Object.hasOwn(shape.p, k)) findNul(obj[k], shape.p[k], at, shapes, out);
    else {
      if (shape.k && k.includes('\0')) out.push({ pointer: at, reason: `the name ${describe(k)} must not contain a NUL byte` });
      findNul(obj[k], shape.a, at, shapes, out);
    }
  }
}

// ------------------------------------------------------------------------------ plumbing

function resolve(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let v = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

const within = (p: string, base: string) => p === base || p.startsWith(base + '/');

function cleanOf(problems: Problem[]): Guard {
  const bad = problems.map((p) => p.pointer);
  return {
    clean: (ptr) => !bad.some((b) => within(b, ptr) || within(ptr, b)),
    usable: (ptr) => !bad.some((b) => within(ptr, b)),
  };
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.pointer}\0${p.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** By pointer, array indices numerically, so /x/2 comes before /x/10. */
export function sortProblems(problems: Problem[]): Problem[] {
  if (problems.length < 2) return problems;
  const cmp = (a: string, b: string): number => {
    const as = a.split('/');
    const bs = b.split('/');
    for (let i = 0; i < Math.min(as.length, bs.length); i++) {
      if (as[i] === bs[i]) continue;
      const an = /^\d+$/.test(as[i]);
      const bn = /^\d+$/.test(bs[i]);
      if (an && bn) return Number(as[i]) - Number(bs[i]);
      return as[i] < bs[i] ? -1 : 1;
    }
    return as.length - bs.length;
  };
  return problems.map((p, i) => ({ p, i })).sort((x, y) => cmp(x.p.pointer, y.p.pointer) || x.i - y.i).map((x) => x.p);
}
