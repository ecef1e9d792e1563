import type { GlobalOptions } from '../cli';
import { Container } from '../container';

export function start(g: GlobalOptions, id: string): void {
  Container.locked(g.root, id).start();
}
