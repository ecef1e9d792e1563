// `update`: new resource limits for a running container, from a LinuxResources document
// (--resources FILE, or - for stdin as containerd sends it) or runc's flags.
import type { GlobalOptions } from '../cli';
import { resourcesFromFlags, type UpdateFlags } from '../cgroups/update';
import { Container } from '../container';
import * as log from '../log';
import { parseJsonFile } from '../spec/parse';
import type { LinuxResources } from '../cgroups';

export function update(g: GlobalOptions, id: string, o: UpdateFlags & { resources?: string }): void {
  const c = Container.locked(g.root, id);
  // As runc: with --resources, every other flag is ignored.
  const r = o.resources ? (parseJsonFile(o.resources, 'resources') as LinuxResources) : resourcesFromFlags(o);
  for (const w of c.update(r)) log.warn(w);
}
