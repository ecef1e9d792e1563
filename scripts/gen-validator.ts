// Build step: compiles lib/spec/schema.ts with ajv to standalone validation code and bundles it
// with esbuild into dist/validators.js, one CommonJS file exporting `config`, `process` and
// `state` (plus `cstrings`, below), with ajv's few runtime helpers inlined. Loading it compiles
// no schema and resolves no module: that is what keeps `create` fast.
//
// The file is loaded on every `create`, so the build shapes the code for V8's lazy compiler
// (measured: load + first validation of a containerd config went from ~17 ms to ~3 ms):
// - every object, enum and constrained leaf schema becomes one shared function ($ref), so
//   only the parts a document uses are ever compiled, and each distinct rule exists once;
// - NO_NUL patterns are not compiled into regex tests on every string: they become the
//   `cstrings` table, which lib/spec/validate.ts walks only when a document contains a NUL;
// - the generated code is trimmed: no schemaPath strings, instancePath passed as a plain
//   argument instead of an options object, a shorter error push. Each rewrite is checked
//   below, so an ajv upgrade that changes its output fails the build instead of the checks.
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { join } from 'node:path';
import { root, validatorsPath } from '../lib/paths';
import { NO_NUL } from '../lib/spec/names';
import { SCHEMAS } from '../lib/spec/schema';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const esbuild = require('esbuild') as typeof import('esbuild');

type Json = Record<string, unknown>;
/** Where C strings are: 1 = this string; p = properties, i = items, a = map values, k = map keys, r = $ref. */
type Shape = 1 | { p?: Record<string, Shape>; i?: Shape; a?: Shape; k?: 1; r?: string };

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Removes NO_NUL patterns from a schema tree, returning where they were. */
function extractCStrings(node: Json): Shape | undefined {
  if (typeof node.$ref === 'string') return { r: node.$ref };
  if (node.pattern === NO_NUL) {
    delete node.pattern;
    return 1;
  }
  const out: Exclude<Shape, 1> = {};
  if (isObj(node.properties)) {
    const p: Record<string, Shape> = {};
    for (const [k, v] of Object.entries(node.properties)) {
      const s = extractCStrings(v as Json);
      if (s) p[k] = s;
    }
    if (Object.keys(p).length) out.p = p;
  }
  if (isObj(node.items)) out.i = extractCStrings(node.items);
  if (isObj(node.additionalProperties)) out.a = extractCStrings(node.additionalProperties);
  if (isObj(node.propertyNames) && node.propertyNames.pattern === NO_NUL) {
    delete node.propertyNames;
    out.k = 1;
  }
  for (const k of ['i', 'a'] as const) if (out[k] === undefined) delete out[k];
  return Object.keys(out).length ? out : undefined;
}

/** Replaces every non-root object, enum, array or constrained number or pattern by a $ref to one shared definition. */
function hoist(node: Json, path: string, defs: Map<string, Json>, isRoot = false): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' && isObj(v))
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, hoist(s as Json, `${path}.${p}`, defs)]));
    else if ((k === 'items' || k === 'additionalProperties') && isObj(v)) out[k] = hoist(v, `${path}_`, defs);
    else out[k] = v;
  }
  if (isRoot || out.$ref !== undefined) return out;
  const small = Object.keys(out).length < 2 || (out.type === 'string' && out.pattern === undefined);
  if (out.type !== 'object' && out.enum === undefined && small) return out;
  const key = JSON.stringify(out);
  let def = defs.get(key);
  if (!def) defs.set(key, (def = { ...out, $id: path }));
  return { $ref: def.$id };
}

/** A regex rewrite of the generated code that must apply at least once. */
function rewrite(src: string, re: RegExp, to: string, what: string): string {
  let n = 0;
  const res = src.replace(re, (...m) => {
    n++;
    return to.replace(/\$(\d)/g, (_, d: string) => String(m[Number(d)]));
  });
  if (n === 0) throw new Error(`gen-validator: rewrite "${what}" matched nothing: has ajv's output changed?`);
  return res;
}

const roots = JSON.parse(JSON.stringify(SCHEMAS)) as Json[];
const cstrings: Record<string, Shape | undefined> = {};
for (const s of roots) cstrings[s.$id as string] = extractCStrings(s);
const defs = new Map<string, Json>();
const schemas = roots.map((s) => hoist(s, s.$id as string, defs, true));
schemas.push(...defs.values());

const ajv = new Ajv({
  allErrors: true,
  strict: true,
  // LinuxDevice's if/then names major/minor in `required` only, which is what we mean.
  strictRequired: false,
  // Problems are worded by lib/spec/validate.ts from keyword + params: no message strings.
  messages: false,
  // Shared definitions stay one function each (see above).
  inlineRefs: false,
  code: { source: true, esm: false, lines: false, optimize: 1 },
  schemas,
});

let source = standaloneCode(ajv, { config: 'Spec', process: 'Process', state: 'State' });
source = rewrite(source, /schemaPath:"[^"]*",/g, '', 'drop schemaPath');
// An error object literal (`{}` inside `if`): strings may hold braces, params nests one level.
const str = '"(?:[^"\\\\]|\\\\.)*"';
const errLiteral = `\\{\\}|\\{instancePath(?:${str}|[^{};"]|\\{(?:${str}|[^{}"])*\\})*\\}`;
source = rewrite(
  source,
  new RegExp(`const (err\\d+) = (${errLiteral});if\\(vErrors === null\\)\\{vErrors = \\[\\1\\];\\}else \\{vErrors\\.push\\(\\1\\);\\}`, 'g'),
  'vErrors = $E(vErrors, $2);',
  'short error push',
);
source = source.replace('"use strict";', '"use strict";function $E(v, e) { if (v === null) return [e]; v.push(e); return v; }');

source = rewrite(
  source,
  /\{instancePath="", parentData, parentDataProperty, rootData=data\}=\{\}/g,
  'instancePath=""',
  'instancePath parameter',
);
source = rewrite(
  source,
  /\{instancePath:((?:[^{}]|\{[^{}]*\})*?),parentData:[\w$]+,parentDataProperty:[^,{}]+,rootData\}/g,
  '$1',
  'instancePath argument',
);
for (const left of [/schemaPath/, /parentData|rootData/, /if\(vErrors === null\)/, /const err\d/])
  if (left.test(source)) throw new Error(`gen-validator: ${left} is left in the generated code: has ajv's output changed?`);
// A JSON string, parsed only when needed: an object literal here costs every load ~0.2 ms.
source += `\nexports.cstrings = ${JSON.stringify(JSON.stringify(cstrings))};\n`;

const result = esbuild.buildSync({
  stdin: { contents: source, resolveDir: root, sourcefile: 'validators-standalone.js', loader: 'js' },
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  outfile: validatorsPath,
  banner: { js: '// Generated by scripts/gen-validator.ts from lib/spec/schema.ts: do not edit.' },
  metafile: true,
  logLevel: 'warning',
});

const inputs = Object.keys(result.metafile.inputs).filter((p) => p !== 'validators-standalone.js');
const notRuntime = inputs.filter((p) => !p.includes(join('ajv', 'dist', 'runtime')) && !p.includes('fast-deep-equal'));
if (notRuntime.length) throw new Error(`validators.js must only inline ajv runtime helpers, not: ${notRuntime.join(', ')}`);
const size = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
process.stdout.write(
  `gen-validator: wrote ${validatorsPath} (${size} bytes, ${schemas.length} schemas; inlined: ${inputs.join(', ') || 'nothing'})\n`,
);
