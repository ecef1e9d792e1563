import type { GlobalOptions } from '../cli';
import { Container } from '../container';

export function start(g: GlobalOptions, id: string): void {
  Container.load(g.root, id).lock().start();
}
