// `capsa validate [--bundle DIR]`: every problem of DIR/config.json at once, one per line as
// "<JSON pointer>: <reason>", as `create` would see them (a process is required), plus whether
// root.path exists. Exit status 1 if there is any problem, 0 if the bundle is valid.
import { statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CapsaError } from '../errors';
import { err, out } from '../output';
import { parseJsonFile } from '../spec/parse';
import type { Spec } from '../spec/types';
import { validateConfig, type Problem } from '../spec/validate';

export function validate(opts: { bundle: string }): number {
  const bundle = resolve(opts.bundle || '.');
  const file = join(bundle, 'config.json');
  let doc: unknown;
  try {
    doc = parseJsonFile(file, 'config.json');
  } catch (e) {
    if (!(e instanceof CapsaError)) throw e;
    // parse errors name no path; read errors already do.
    err(`${e.subject === undefined ? `${file}: ${e.reason}` : e.message}\n`);
    return 1;
  }

  const problems = validateConfig(doc, { requireProcess: true });
  if (!problems.some((p) => p.pointer === '/root' || p.pointer.startsWith('/root/') || p.pointer === '')) {
    const p = rootfsProblem(bundle, (doc as Spec).root.path);
    if (p) problems.push(p);
  }

  if (!problems.length) {
    out('config.json is valid\n');
    return 0;
  }
  out(problems.map((p) => `${printable(p.pointer) || '(root)'}: ${p.reason}\n`).join(''));
  out(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${file}\n`);
  return 1;
}

/** Keys may hold newlines or NULs; one problem stays one line. */
const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));

/** root.path is absolute or relative to the bundle, and a directory MUST exist there. */
function rootfsProblem(bundle: string, path: string): Problem | undefined {
  const full = isAbsolute(path) ? path : join(bundle, path);
  const where = full === path ? '' : ` (${full})`;
  try {
    if (!statSync(full).isDirectory()) return { pointer: '/root/path', reason: `"${path}" is not a directory${where}` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be examined (${code})`;
    return { pointer: '/root/path', reason: `"${path}" ${why}${where}` };
  }
  return undefined;
}
