import t from 'tap';
import { mountsUnder, ownMountNamespace } from '../../lib/state/hostmounts';

const mountinfo = [
  '22 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '100 22 254:0 /b/rootfs /b/rootfs rw - ext4 /dev/vda rw',
  '101 100 0:5 / /b/rootfs/proc rw - proc proc rw',
  '102 100 0:6 / /b/rootfs/dev rw - tmpfs tmpfs rw',
  '103 102 0:7 / /b/rootfs/dev/pts rw - devpts devpts rw',
  '104 22 0:8 / /b/rootfs2 rw - tmpfs tmpfs rw',
  '105 22 0:9 / /b/with\\040space rw - tmpfs tmpfs rw',
].join('\n');

t.test('mounts under a rootfs, children before parents', async (t) => {
  t.same(mountsUnder('/b/rootfs', mountinfo), ['/b/rootfs/dev/pts', '/b/rootfs/dev', '/b/rootfs/proc', '/b/rootfs']);
  t.same(mountsUnder('/b/with space', mountinfo), ['/b/with space'], 'octal escapes are decoded');
  t.same(mountsUnder('/nothing', mountinfo), []);
});

t.test('a mount namespace, new or joined, is the container\'s own', async (t) => {
  t.equal(ownMountNamespace({ ociVersion: '1.3.0', root: { path: 'r' }, linux: { namespaces: [{ type: 'mount' }] } }), true);
  t.equal(ownMountNamespace({ ociVersion: '1.3.0', root: { path: 'r' }, linux: { namespaces: [{ type: 'mount', path: '/proc/1/ns/mnt' }] } }), true);
  t.equal(ownMountNamespace({ ociVersion: '1.3.0', root: { path: 'r' }, linux: { namespaces: [{ type: 'pid' }] } }), false);
});
