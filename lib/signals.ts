// Signals by name (TERM, SIGTERM, sigterm) or number (15), as runc accepts them.
import { constants } from 'node:os';
import { CapsaError } from './errors';

const byName = constants.signals as Record<string, number>;

export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
    throw new CapsaError('signal', 'is not a valid signal number (1-64)', s);
  }
  const name = s.toUpperCase();
  const n = byName[name.startsWith('SIG') ? name : `SIG${name}`];
  if (n === undefined) throw new CapsaError('signal', 'is not a known signal', s);
  return n;
}
