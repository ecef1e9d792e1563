import type { GlobalOptions } from '../cli';
import { Container } from '../container';
import { out } from '../output';

export function state(g: GlobalOptions, id: string): void {
  out(JSON.stringify(Container.load(g.root, id).doc(), null, 2) + '\n');
}
