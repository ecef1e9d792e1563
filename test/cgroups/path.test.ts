// cgroupsPath resolution and systemd "slice:prefix:name" parsing: pure, no root.
import t from 'tap';
import { expandSlice, parseSystemdCgroupsPath, pathLevels, resolveCgroupPath, underDefaultParent } from '../../lib/cgroups/path';

t.test('empty or unset cgroupsPath → /capsa/<id>', async (t) => {
  t.equal(resolveCgroupPath(undefined, 'web1'), '/capsa/web1');
  t.equal(resolveCgroupPath('', 'web1'), '/capsa/web1');
});

t.test('absolute paths are taken as they are, normalised', async (t) => {
  t.equal(resolveCgroupPath('/clients_cri/pod1/abc', 'x'), '/clients_cri/pod1/abc');
  t.equal(resolveCgroupPath('/a//b/./c/', 'x'), '/a/b/c');
  t.equal(resolveCgroupPath('/cgrouptest', 'x'), '/cgrouptest');
});

t.test('relative paths go under capsa\'s parent', async (t) => {
  t.equal(resolveCgroupPath('testdir/cgrouptest', 'x'), '/capsa/testdir/cgrouptest');
  t.equal(resolveCgroupPath('./a', 'x'), '/capsa/a');
});

t.test('refused: .., the root, NUL, bad names', async (t) => {
  for (const bad of ['../x', '/a/../../etc', 'a/..', '/..', '/', '//', '/a\0b', '/a\nb', '/' + 'x'.repeat(256)])
    t.throws(() => resolveCgroupPath(bad, 'x'), /^cgroup: /, JSON.stringify(bad));
  try {
    resolveCgroupPath('/a/../b', 'x');
    t.fail('should throw');
  } catch (e) {
    t.match((e as Error).message, /cgroup: linux.cgroupsPath: must not contain "\.\." components/);
  }
  t.throws(() => resolveCgroupPath(undefined, 'a/b'), /^cgroup: /, 'an id with / cannot make a path');
});

t.test('path levels and the default parent', async (t) => {
  t.same(pathLevels('/a/b/c'), ['/a', '/a/b', '/a/b/c']);
  t.same(pathLevels('/capsa/x'), ['/capsa', '/capsa/x']);
  t.ok(underDefaultParent('/capsa/x'));
  t.notOk(underDefaultParent('/capsa'));
  t.notOk(underDefaultParent('/capsa-test-1/x'));
});

t.test('systemd slice:prefix:name', async (t) => {
  t.same(parseSystemdCgroupsPath('system.slice:docker:1234', 'x'), {
    slice: 'system.slice',
    prefix: 'docker',
    name: '1234',
    unit: 'docker-1234.scope',
    path: '/system.slice/docker-1234.scope',
  });
  t.same(parseSystemdCgroupsPath('kubepods-besteffort-pod1.slice:cri-containerd:abc', 'x').path,
    '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc.scope');
  t.same(parseSystemdCgroupsPath(undefined, 'web1').unit, 'capsa-web1.scope');
  t.same(parseSystemdCgroupsPath('', 'web1').path, '/system.slice/capsa-web1.scope');
  t.same(parseSystemdCgroupsPath(':p:n', 'x').slice, 'system.slice');
  t.same(parseSystemdCgroupsPath('-.slice:p:n', 'x').path, '/p-n.scope');
  t.same(parseSystemdCgroupsPath('a.slice:p:my.slice', 'x').unit, 'my.slice', 'a name ending .slice is the unit itself');
  const bads = ['a:b', 'a:b:c:d', '/abs/path', 'nota:p:n', 'a-.slice:p:n', 'a--b.slice:p:n', '.slice:p:n', 'a/b.slice:p:n', 'a.slice:p:'];
  for (const bad of bads)
    t.throws(() => parseSystemdCgroupsPath(bad, 'x'), /^cgroup: /, bad);
});

t.test('expandSlice matches runc\'s ExpandSlice', async (t) => {
  t.equal(expandSlice('-.slice'), '/');
  t.equal(expandSlice('test.slice'), '/test.slice');
  t.equal(expandSlice('test-a.slice'), '/test.slice/test-a.slice');
  t.equal(expandSlice('test-a-b.slice'), '/test.slice/test-a.slice/test-a-b.slice');
  for (const bad of ['test', '.slice', 'test-.slice', '-test.slice', 'test--a.slice', 'a/b.slice'])
    t.throws(() => expandSlice(bad), /^cgroup: /, bad);
});
