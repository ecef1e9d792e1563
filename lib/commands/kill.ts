import type { GlobalOptions } from '../cli';
import { Container } from '../container';
import { parseSignal } from '../signals';

export function kill(g: GlobalOptions, id: string, signal: string, o: { all: boolean }): void {
  const sig = parseSignal(signal);
  Container.locked(g.root, id).kill(sig, o.all);
}
