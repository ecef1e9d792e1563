import type { GlobalOptions } from '../cli';
import { Container } from '../container';

export function pause(g: GlobalOptions, id: string): void {
  Container.load(g.root, id).lock().pause();
}

export function resume(g: GlobalOptions, id: string): void {
  Container.load(g.root, id).lock().resume();
}
