// `ps`: the container's pids as JSON (what containerd reads), or the host's `ps` output
// (default `ps -ef`) filtered to the container's processes, as runc prints it.
import type { GlobalOptions } from '../cli';
import { Container } from '../container';
import { CapsaError } from '../errors';
import { out } from '../output';

export function ps(g: GlobalOptions, id: string, psArgs: string[], o: { format: string }): void {
  if (o.format !== 'table' && o.format !== 'json') throw new CapsaError('ps', 'invalid format option', o.format);
  const pids = Container.load(g.root, id).processes();
  if (o.format === 'json') return out(JSON.stringify(pids) + '\n');
  const args = psArgs[0] === '--' ? psArgs.slice(1) : psArgs;
  out(filterPs(runPs(args.length ? args : ['-ef']), pids));
}

function runPs(args: string[]): string {
  // Required here, not imported: the bundle's child_process stand-in loads on property access.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('ps', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new CapsaError('ps', `cannot run ps: ${r.error.message}`);
  if (r.status !== 0) throw new CapsaError('ps', `ps ${args.join(' ')} failed (exit status ${r.status}): ${(r.stdout + r.stderr).trim()}`);
  return r.stdout;
}

/** The header and the rows whose PID column is one of `pids`. */
export function filterPs(output: string, pids: number[]): string {
  const [header = '', ...rows] = output.split('\n');
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new CapsaError('ps', "couldn't find PID field in ps output");
  const want = new Set(pids);
  let text = header + '\n';
  for (const row of rows) {
    if (row === '') continue;
    const field = row.trim().split(/\s+/)[col] ?? '';
    if (!/^\d+$/.test(field)) throw new CapsaError('ps', 'unable to parse pid', JSON.stringify(field));
    if (want.has(Number(field))) text += row + '\n';
  }
  return text;
}
