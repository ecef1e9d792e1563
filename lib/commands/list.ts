import { readdirSync } from 'node:fs';
import type { GlobalOptions } from '../cli';
import { Container } from '../container';
import { NotFoundError } from '../errors';
import * as log from '../log';
import { MissingStateError } from '../state/store';
import { out } from '../output';
import type { StateDoc } from '../state/status';
import { stateRoot } from '../state/store';

function containers(root: string): StateDoc[] {
  const dir = stateRoot(root);
  let ids: string[];
  try {
    ids = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const docs: StateDoc[] = [];
  for (const id of ids) {
    try {
      docs.push(Container.load(root, id).doc());
    } catch (e) {
      // Gone meanwhile, or being created or deleted right now: not listed. Anything else
      // (an interrupted create or delete, an unreadable state.json) is said on stderr, so
      // the listing itself stays what clients parse.
      if (e instanceof NotFoundError || (e instanceof MissingStateError && e.lockHeld)) continue;
      log.warn(`${id}: ${(e as Error).message}`);
    }
  }
  return docs;
}

export function list(g: GlobalOptions, o: { format: 'table' | 'json'; quiet: boolean }): void {
  const docs = containers(g.root);
  if (o.quiet) return out(docs.map((d) => d.id + '\n').join(''));
  if (o.format === 'json') return out(JSON.stringify(docs) + '\n');
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
  for (const d of docs) rows.push([d.id, String(d.pid), d.status, d.bundle, d.created, d.owner]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  out(rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] + 3) : c)).join('') + '\n').join(''));
}
