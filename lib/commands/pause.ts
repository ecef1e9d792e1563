import type { GlobalOptions } from '../cli';
import { Container } from '../container';

export function pause(g: GlobalOptions, id: string): void {
  Container.locked(g.root, id).pause();
}

export function resume(g: GlobalOptions, id: string): void {
  Container.locked(g.root, id).resume();
}
