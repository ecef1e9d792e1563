// The host's cgroup layout, found once per process: a statfs of /sys/fs/cgroup and, unless
// that is cgroup2, one read of /proc/self/mountinfo for the v1 hierarchies.
import { readFileSync, statfsSync } from 'node:fs';
import { sysError } from '../errors';

export type CgroupMode = 'unified' | 'hybrid' | 'legacy';

export const CGROUP_ROOT = '/sys/fs/cgroup';
const CGROUP2_SUPER_MAGIC = 0x63677270;

export interface Hierarchies {
  mode: CgroupMode;
  /** v1 controller (or "name=systemd") → mount point; co-mounted controllers share one. */
  v1: Map<string, string>;
  /** The cgroup2 mount: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid). */
  unified?: string;
}

/** v1 mount options that are flags of the mount, not controller names. */
const NOT_CONTROLLERS = new Set([
  'rw',
  'ro',
  'noprefix',
  'clone_children',
  'xattr',
  'cpuset_v2_mode',
  'favordynmods',
  'nofavordynmods',
]);

let cached: Hierarchies | undefined;

export function detectMode(): CgroupMode {
  return hierarchies().mode;
}

export function hierarchies(): Hierarchies {
  if (cached) return cached;
  let type: number;
  try {
    type = statfsSync(CGROUP_ROOT).type;
  } catch (err) {
    throw sysError('cgroup', err, CGROUP_ROOT);
  }
  if (type === CGROUP2_SUPER_MAGIC) return (cached = { mode: 'unified', v1: new Map(), unified: CGROUP_ROOT });
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch (err) {
    throw sysError('cgroup', err, '/proc/self/mountinfo');
  }
  const found = parseMountinfo(text);
  return (cached = { mode: found.unified ? 'hybrid' : 'legacy', ...found });
}

/** Pure: the cgroup mounts in a mountinfo text (first mount of each hierarchy wins). */
export function parseMountinfo(text: string): { v1: Map<string, string>; unified?: string } {
  const v1 = new Map<string, string>();
  let unified: string | undefined;
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const mountPoint = pre[4];
    if (mountPoint === undefined) continue;
    const at = unescapeMount(mountPoint);
    if (fstype === 'cgroup2') {
      if (unified === undefined) unified = at;
    } else if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if (NOT_CONTROLLERS.has(opt) || (opt.includes('=') && !opt.startsWith('name='))) continue;
        if (!v1.has(opt)) v1.set(opt, at);
      }
    }
  }
  return { v1, unified };
}

/** mountinfo writes space, tab, newline and backslash as \ooo octal escapes. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
