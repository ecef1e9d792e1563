import type { GlobalOptions } from '../cli';
import { createContainer, CreateOptions } from '../create';

export interface CreateFlags {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  pivot: boolean;
  newKeyring: boolean;
  preserveFds: number;
}

export function createOptions(o: CreateFlags, detach = true): CreateOptions {
  return {
    detach,
    bundle: o.bundle,
    pidFile: o.pidFile,
    consoleSocket: o.consoleSocket,
    noPivot: !o.pivot,
    noNewKeyring: !o.newKeyring,
    preserveFds: o.preserveFds,
  };
}

export function create(g: GlobalOptions, id: string, o: CreateFlags): void {
  createContainer(g.root, id, createOptions(o));
}
