// Where a container's cgroup lives: pure functions over linux.cgroupsPath, no file access.
import { posix } from 'node:path';
import { CapsaError } from '../errors';

/** capsa's own parent cgroup: containers without cgroupsPath go to /capsa/<id>. */
export const DEFAULT_PARENT = '/capsa';

/** NAME_MAX: the kernel refuses longer cgroup directory names. */
const MAX_COMPONENT = 255;

/**
 * The container's cgroup path, absolute within every hierarchy ("/capsa/web1").
 * - empty or unset → `/capsa/<id>`;
 * - absolute → as given (normalised), e.g. containerd's "/k8s.io/<id>";
 * - relative → under capsa's parent, `/capsa/<path>`. runc takes relative paths relative
 *   to its own cgroup; capsa does not, because its own cgroup may belong to a service
 *   manager (here: another program's memory cgroup) that must not get children.
 * `..` components are refused outright rather than resolved, so no value can climb out
 * of the place it names; the root cgroup itself is refused too.
 */
export function resolveCgroupPath(cgroupsPath: string | undefined, id: string): string {
  const subject = 'linux.cgroupsPath';
  if (cgroupsPath === undefined || cgroupsPath === '') {
    checkComponent(id, subject);
    return `${DEFAULT_PARENT}/${id}`;
  }
  if (cgroupsPath.includes('\0')) throw new CapsaError('cgroup', 'contains a NUL byte', subject);
  const parts = cgroupsPath.split('/');
  if (parts.includes('..'))
    throw new CapsaError('cgroup', `must not contain ".." components: ${JSON.stringify(cgroupsPath)}`, subject);
  const base = cgroupsPath.startsWith('/') ? '/' : DEFAULT_PARENT + '/';
  const resolved = posix.normalize(base + cgroupsPath).replace(/\/+$/, '');
  if (resolved === '' || resolved === '/')
    throw new CapsaError('cgroup', `must not be the root cgroup: ${JSON.stringify(cgroupsPath)}`, subject);
  for (const c of resolved.split('/').slice(1)) checkComponent(c, subject);
  return resolved;
}

function checkComponent(c: string, subject: string): void {
  if (c === '' || c === '.' || c === '..' || c.includes('/'))
    throw new CapsaError('cgroup', `invalid cgroup name ${JSON.stringify(c)}`, subject);
  if (Buffer.byteLength(c) > MAX_COMPONENT)
    throw new CapsaError('cgroup', `cgroup name longer than ${MAX_COMPONENT} bytes`, subject);
  if (/[\n\r]/.test(c)) throw new CapsaError('cgroup', `invalid cgroup name ${JSON.stringify(c)}`, subject);
}

/** True when `path` is the default parent or below it (destroy may then remove the parent). */
export function underDefaultParent(path: string): boolean {
  return path.startsWith(DEFAULT_PARENT + '/');
}

/** Every ancestor of a cgroup path, outermost first, excluding "/" ("/a/b/c" → /a, /a/b, /a/b/c). */
export function pathLevels(path: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const c of path.split('/').slice(1)) {
    cur += '/' + c;
    out.push(cur);
  }
  return out;
}

export interface SystemdCgroup {
  /** The parent slice unit, e.g. "system.slice". */
  slice: string;
  prefix: string;
  name: string;
  /** The unit capsa would create: "<prefix>-<name>.scope", or name itself when a .slice. */
  unit: string;
  /** The resulting cgroup path: expanded slice + unit ("/system.slice/capsa-web1.scope"). */
  path: string;
}

/**
 * `--systemd-cgroup` form "slice:prefix:name" (e.g. "system.slice:docker:1234"); empty →
 * system.slice, prefix "capsa", the container id. Follows runc's specconv and
 * systemd/common.go (ExpandSlice, getUnitName).
 */
export function parseSystemdCgroupsPath(cgroupsPath: string | undefined, id: string): SystemdCgroup {
  let slice = 'system.slice';
  let prefix = 'capsa';
  let name = id;
  if (cgroupsPath) {
    const parts = cgroupsPath.split(':');
    if (parts.length !== 3)
      throw new CapsaError(
        'cgroup',
        `expected "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)}`,
        'linux.cgroupsPath',
      );
    [slice, prefix, name] = parts as [string, string, string];
    if (slice === '') slice = 'system.slice';
  }
  if (name === '' || name.includes('/'))
    throw new CapsaError('cgroup', `invalid systemd unit name ${JSON.stringify(name)}`, 'linux.cgroupsPath');
  if (prefix.includes('/'))
    throw new CapsaError('cgroup', `invalid systemd unit prefix ${JSON.stringify(prefix)}`, 'linux.cgroupsPath');
  const unit = name.endsWith('.slice') ? name : `${prefix}-${name}.scope`;
  const parent = expandSlice(slice);
  return { slice, prefix, name, unit, path: (parent === '/' ? '' : parent) + '/' + unit };
}

/** "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" → "/". */
export function expandSlice(slice: string): string {
  const bad = () => new CapsaError('cgroup', `invalid slice name ${JSON.stringify(slice)}`, 'linux.cgroupsPath');
  const suffix = '.slice';
  if (slice.length <= suffix.length || !slice.endsWith(suffix) || slice.includes('/')) throw bad();
  const base = slice.slice(0, -suffix.length);
  if (base === '-') return '/';
  let path = '';
  let prefix = '';
  for (const c of base.split('-')) {
    if (c === '') throw bad();
    path += `/${prefix}${c}${suffix}`;
    prefix += c + '-';
  }
  return path;
}
