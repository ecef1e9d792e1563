// The command word decides which command the CLI registers and which code cache boot.js
// loads: a wrong answer costs start-up time (or an "unknown command"), so it is pinned here.
import t from 'tap';
import { commandWord } from '../../lib/argv';

t.test('commandWord', async (t) => {
  const cases: [string[], string | undefined][] = [
    [['state', 'c1'], 'state'],
    [['--root', '/run/containerd/runc/k8s.io', '--log', '/b/log.json', '--log-format', 'json', 'create', '--bundle', '/b', 'c1'], 'create'],
    [['--root', 'state', 'kill', 'c1', '9'], 'kill'],
    [['--log', 'log', '--log-format', 'json', 'delete', 'c1'], 'delete'],
    [['--log-format=json', '--debug', '--systemd-cgroup', 'list'], 'list'],
    [['--version'], undefined],
    [[], undefined],
    [['/not/a/word', 'UPPER', 'x'.repeat(17), 'ps'], 'ps'],
  ];
  for (const [argv, word] of cases) t.equal(commandWord(argv), word, argv.join(' '));
});
