import type { GlobalOptions } from '../cli';
import { Container } from '../container';

export function del(g: GlobalOptions, id: string, o: { force: boolean }): void {
  Container.load(g.root, id).lock().delete(o.force);
}
