// The fixtures: the spec's own vectors, capsa's good and bad configs (one bad property each,
// with the pointer that must be reported), and what containerd and podman really write.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CapsaError } from '../../lib/errors';
import { root } from '../../lib/paths';
import { parseJsonFile } from '../../lib/spec/parse';
import { validateConfig, validateProcess, type Problem } from '../../lib/spec/validate';

const fixtures = join(root, 'spec-fixtures');
const jsonFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'expected.json').sort();
const show = (ps: Problem[]) => ps.map((p) => `${p.pointer}: ${p.reason}`).join('\n');

// Which schema problem each upstream bad vector has (invalid-json.json fails in the parser).
const upstreamBad: Record<string, string> = {
  'linux-hugepage.json': '/linux/resources/hugepageLimits/0/pageSize',
  'linux-netdevice.json': '/linux/netDevices/eth0/name',
  'linux-rdma.json': '/linux/resources/rdma/mlx5_1/hcaHandles',
};

t.test('upstream good vectors validate clean', async (t) => {
  const dir = join(fixtures, 'upstream', 'good');
  const files = jsonFiles(dir);
  t.ok(files.length >= 5, 'all Linux and common vectors are there');
  for (const f of files) t.same(validateConfig(parseJsonFile(join(dir, f), f)), [], f);
});

t.test('upstream bad vectors fail', async (t) => {
  const dir = join(fixtures, 'upstream', 'bad');
  for (const f of jsonFiles(dir)) {
    if (f === 'invalid-json.json') {
      let err: unknown;
      try {
        parseJsonFile(join(dir, f), f);
      } catch (e) {
        err = e;
      }
      t.ok(err instanceof CapsaError, `${f}: a CapsaError`);
      t.match((err as CapsaError).reason, /^invalid JSON at line 1, column 2: /);
      continue;
    }
    t.ok(upstreamBad[f], `${f} has an expected problem`);
    const problems = validateConfig(parseJsonFile(join(dir, f), f));
    t.same(problems.map((p) => p.pointer), [upstreamBad[f]], `${f}\n${show(problems)}`);
  }
});

t.test('good fixtures validate clean, also as `create` sees them', async (t) => {
  const dir = join(fixtures, 'good');
  const files = jsonFiles(dir);
  t.ok(files.length >= 6);
  for (const f of files) {
    const problems = validateConfig(parseJsonFile(join(dir, f), f), { requireProcess: true });
    t.same(problems, [], `${f}\n${show(problems)}`);
  }
});

t.test('each bad fixture reports exactly its one problem', async (t) => {
  const dir = join(fixtures, 'bad');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<
    string,
    { pointer: string; reason: string }
  >;
  const files = jsonFiles(dir);
  t.same(files, Object.keys(expected).sort(), 'expected.json lists every bad fixture');
  t.ok(files.length >= 40, `${files.length} bad fixtures`);
  for (const f of files) {
    const problems = validateConfig(parseJsonFile(join(dir, f), f));
    const want = expected[f];
    t.equal(problems.length, 1, `${f}: one problem\n${show(problems)}`);
    t.equal(problems[0]?.pointer, want.pointer, `${f}: pointer`);
    t.match(problems[0]?.reason ?? '', want.reason, `${f}: reason`);
  }
});

t.test('real configs and exec process files from containerd and podman validate clean', async (t) => {
  const dir = join(fixtures, 'real');
  let configs = 0;
  let processes = 0;
  for (const client of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const f of jsonFiles(join(dir, client.name))) {
      const doc = parseJsonFile(join(dir, client.name, f), f);
      const exec = f.startsWith('exec-process-');
      const problems = exec ? validateProcess(doc) : validateConfig(doc, { requireProcess: true });
      t.same(problems, [], `${client.name}/${f}\n${show(problems)}`);
      if (exec) processes++;
      else configs++;
    }
  }
  t.ok(configs >= 20 && processes >= 10, `${configs} configs, ${processes} process files`);
});

t.test('a config process is also a valid exec process', async (t) => {
  const full = parseJsonFile(join(fixtures, 'good', 'full.json'), 'full.json') as { process: unknown };
  t.same(validateProcess(full.process), []);
});
