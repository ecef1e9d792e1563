// A container without a mount namespace of its own (the spec lets it inherit the runtime's)
// leaves its mounts in the runtime's namespace, under its rootfs. delete finds them in
// /proc/self/mountinfo and detaches them, children first.
import { readFileSync } from 'node:fs';
import type { Spec } from '../spec/types';

export function ownMountNamespace(config: Spec): boolean {
  return (config.linux?.namespaces ?? []).some((n) => n.type === 'mount');
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Mount points at or under `root`, deepest (latest) first. */
export function mountsUnder(root: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const mp = unescape(line.split(' ')[4] ?? '');
    if (mp === root || mp.startsWith(root + '/')) out.push(mp);
  }
  return out.reverse();
}
