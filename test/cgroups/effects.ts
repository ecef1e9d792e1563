// Effects that look the same on cgroup v1 and v2: a limit stops a real process, a frozen
// container stops writing, every process gets the signal, OOM kills are counted, stats have
// runc's shape, destroy leaves nothing. v1.test.ts and v2.test.ts both run these.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type {} from 'tap';
import { openManager, statsJson, type CgroupManager } from '../../lib/cgroups';
import type { Hierarchies } from '../../lib/cgroups/detect';
import type { Stats } from '../../lib/cgroups/stats';
import { TEST_PARENT, gated, mounts, read, sleep, testCgroup, waitFor } from './helpers';

type T = tap.Test;

/** Where the pids controller's files are: its v1 hierarchy, or the one v2 directory. */
const pidsDir = (m: CgroupManager) => m.dirs.get('pids') ?? m.dirs.get('');

export async function oomKilled(t: T, L: Hierarchies): Promise<void> {
  const { m } = testCgroup(t, 'oom', L);
  m.apply({ memory: { limit: 33554432 } });
  t.equal(m.oomKillCount(), 0);
  // tail keeps the whole (newline-free) input in memory.
  const c = gated('exec tail /dev/zero');
  t.teardown(() => c.child.kill('SIGKILL'));
  m.addProcess(c.pid);
  c.go();
  const end = await c.exited;
  t.equal(end.signal, 'SIGKILL', 'killed by the OOM killer');
  t.equal(m.oomKillCount(), 1, 'the kill is counted');
  const s = m.stats();
  t.equal(s.memory.usage?.limit, 33554432, 'the limit in stats');
  if (L.mode !== 'unified') t.ok(Number(s.memory.usage?.failcnt) > 0, 'failcnt in stats');
}

export async function forkLoop(t: T, L: Hierarchies): Promise<void> {
  const { m } = testCgroup(t, 'forkloop', L);
  m.apply({ pids: { limit: 5 } });
  const c = gated('i=0; while [ $i -lt 30 ]; do sleep 60 & i=$((i+1)); done; echo all forked');
  t.teardown(() => c.child.kill('SIGKILL'));
  m.addProcess(c.pid);
  c.go();
  // dash gives up on the first failed fork.
  await c.exited;
  t.notMatch(c.stdout(), /all forked/);
  t.match(c.stderr(), /fork/i, 'the shell saw its fork fail');
  t.equal(m.pids().length, 4, 'the four sleeps that fit beside the shell, no more');
  t.match(read(pidsDir(m), 'pids.events'), /^max [1-9]/m, 'pids.events counts the refusal');
  m.killAll(9);
  await waitFor(() => m.pids().length === 0, 5000, 'the sleeps to die');
}

export async function freezeThaw(t: T, L: Hierarchies): Promise<void> {
  const { m } = testCgroup(t, 'freezer', L);
  const tmp = mkdtempSync(`${tmpdir()}/capsa-cgtest-`);
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const file = `${tmp}/progress`;
  writeFileSync(file, '');
  const c = gated(`while :; do echo x >> ${file}; done`);
  t.teardown(() => c.child.kill('SIGKILL'));
  m.addProcess(c.pid);
  c.go();
  await waitFor(() => statSync(file).size > 0, 10000, 'the loop to write');
  t.equal(m.state(), 'thawed');
  m.freeze();
  t.equal(m.state(), 'frozen');
  t.ok(m.frozen());
  const size = statSync(file).size;
  await sleep(300);
  t.equal(statSync(file).size, size, 'no progress while frozen');
  // Paused is paused: a SIGTERM waits for the thaw.
  m.killAll(15);
  t.equal(m.state(), 'frozen', 'killAll(SIGTERM) keeps a paused container paused');
  m.thaw();
  t.equal(m.state(), 'thawed');
  t.equal((await c.exited).signal, 'SIGTERM', 'the pending SIGTERM arrives on thaw');
}

export async function killAll(t: T, L: Hierarchies): Promise<void> {
  const { m } = testCgroup(t, 'killall', L);
  const c = gated('sleep 100 & sleep 100 & wait');
  t.teardown(() => c.child.kill('SIGKILL'));
  m.addProcess(c.pid);
  c.go();
  await waitFor(() => m.pids().length === 3, 10000, 'three processes');
  m.killAll(15);
  await waitFor(() => m.pids().length === 0, 10000, 'all gone after SIGTERM');
  const c2 = gated('sleep 100 & sleep 100 & wait');
  t.teardown(() => c2.child.kill('SIGKILL'));
  m.addProcess(c2.pid);
  c2.go();
  await waitFor(() => m.pids().length === 3, 10000, 'three processes again');
  m.freeze();
  m.killAll(9);
  await waitFor(() => m.pids().length === 0, 10000, 'all gone after SIGKILL, though paused');
  t.equal((await c2.exited).signal, 'SIGKILL');
  t.equal(m.state(), 'thawed', 'SIGKILL leaves it thawed');
  if (L.unified) t.ok(existsSync(`${m.dirs.get('')}/cgroup.kill`), 'cgroup.kill was there to use');
}

export async function statsShape(t: T, L: Hierarchies): Promise<Stats> {
  const { m } = testCgroup(t, 'stats', L);
  m.apply({ memory: { limit: 67108864 }, pids: { limit: 10 } });
  const c = gated('exec sleep 100');
  t.teardown(() => c.child.kill('SIGKILL'));
  m.addProcess(c.pid);
  c.go();
  const s: Stats = JSON.parse(statsJson(m.stats()));
  t.same(Object.keys(s).sort(), ['blkio', 'cpu', 'cpuset', 'hugetlb', 'intel_rdt', 'memory', 'network_interfaces', 'pids']);
  t.equal(s.pids.current, 1, 'the one process');
  t.equal(s.pids.limit, 10);
  t.equal(s.memory.usage?.limit, 67108864);
  t.type(s.memory.swap?.limit, 'number');
  t.type(s.cpu.usage?.kernel, 'number');
  t.type(s.cpu.usage?.user, 'number');
  t.type(s.blkio, 'object');
  return s;
}

export async function nestedDestroy(t: T, L: Hierarchies): Promise<void> {
  const { m, made } = testCgroup(t, 'nested', L);
  const sub = `${pidsDir(m)}/inner`;
  mkdirSync(sub);
  const c = gated('sleep 100');
  t.teardown(() => c.child.kill('SIGKILL'));
  m.addProcess(c.pid);
  writeFileSync(`${sub}/cgroup.procs`, String(c.pid));
  t.same(m.pids(), [c.pid], 'found in the sub-cgroup');
  c.child.kill('SIGKILL');
  m.destroy(made);
  t.notOk(existsSync(sub), 'the container\'s own sub-cgroup is gone');
  t.notOk(m.exists());
}

export async function destroyAfterKill(t: T, L: Hierarchies): Promise<void> {
  const m = openManager(`${TEST_PARENT}/busy`, L);
  const made = m.create();
  const c = gated('sleep 100');
  t.teardown(() => c.child.kill('SIGKILL'));
  m.addProcess(c.pid);
  process.kill(c.pid, 'SIGKILL');
  m.destroy(made);
  t.notOk(m.exists());
  for (const mp of mounts(L)) t.notOk(existsSync(`${mp}${TEST_PARENT}/busy`), `${mp}: removed`);
  t.same(m.pids(), [], 'a vanished cgroup has no processes');
  m.killAll(9);
  t.pass('killAll on a vanished cgroup is a no-op');
}

export async function timings(t: T, L: Hierarchies, runs: number): Promise<void> {
  const create: number[] = [];
  const destroy: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c = gated('sleep 100');
    const t0 = performance.now();
    const m = openManager(`${TEST_PARENT}/timing${i}`, L);
    const made = m.create();
    m.apply({ memory: { limit: 67108864 }, pids: { limit: 100 } });
    m.addProcess(c.pid);
    create.push(performance.now() - t0);
    c.child.kill('SIGKILL');
    await c.exited;
    const t1 = performance.now();
    m.destroy(made);
    destroy.push(performance.now() - t1);
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1] as number;
  t.comment(
    `create+apply(memory,pids)+addProcess median ${med(create).toFixed(2)} ms, ` +
      `destroy median ${med(destroy).toFixed(2)} ms (${runs} runs, ${L.mode})`,
  );
  t.pass('timed');
}
