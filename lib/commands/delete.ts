import type { GlobalOptions } from '../cli';
import { deleteContainer } from '../container';

export function del(g: GlobalOptions, id: string, o: { force: boolean }): void {
  deleteContainer(g.root, id, o.force);
}
