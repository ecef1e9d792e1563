// The pure parts of update, events and ps: runc's size and duration syntax, flags →
// resources, the merge with what a container recorded, and ps row filtering.
import t from 'tap';
import { planUpdate, ramInBytes, resourcesFromFlags } from '../../lib/cgroups/update';
import { parseDuration } from '../../lib/commands/events';
import { filterPs } from '../../lib/commands/ps';

t.test('ramInBytes: docker/go-units RAMInBytes (binary units, any case)', async (t) => {
  const MiB = 2 ** 20;
  const cases: [string, number][] = [
    ['100', 100],
    ['100b', 100],
    ['100B', 100],
    ['1k', 1024],
    ['1K', 1024],
    ['1kb', 1024],
    ['1KiB', 1024],
    ['100M', 100 * MiB],
    ['100m', 100 * MiB],
    ['100mb', 100 * MiB],
    ['100MiB', 100 * MiB],
    ['100 MiB', 100 * MiB],
    ['1.5g', 1.5 * 2 ** 30],
    ['2t', 2 * 2 ** 40],
    ['1p', 2 ** 50],
    ['0.5k', 512],
    ['1.0001k', 1024],
    ['10 ', 10],
  ];
  for (const [s, n] of cases) t.equal(ramInBytes(s), n, s);
  for (const s of ['', 'M', 'abc', '10x', '10mm', '10kbb', '10kib2', '-1', '1e']) t.throws(() => ramInBytes(s), /invalid (size|suffix)/, JSON.stringify(s));
});

t.test('resourcesFromFlags: only what was given; -1 means unlimited', async (t) => {
  t.same(resourcesFromFlags({}), {});
  t.same(
    resourcesFromFlags({
      memory: '100M',
      memorySwap: '-1',
      memoryReservation: '1k',
      cpuPeriod: '100000',
      cpuQuota: '-1',
      cpuShare: '512',
      cpuRtPeriod: '1000000',
      cpuRtRuntime: '950000',
      cpuBurst: '0',
      cpuIdle: '1',
      cpusetCpus: '0-1',
      cpusetMems: '0',
      pidsLimit: '-1',
      blkioWeight: '500',
    }),
    {
      blockIO: { weight: 500 },
      cpu: {
        cpus: '0-1',
        mems: '0',
        idle: 1,
        burst: 0,
        period: 100000,
        realtimePeriod: 1000000,
        shares: 512,
        quota: -1,
        realtimeRuntime: 950000,
      },
      memory: { limit: 100 * 2 ** 20, swap: -1, reservation: 1024 },
      pids: { limit: -1 },
    },
  );
  t.same(resourcesFromFlags({ blkioWeight: '0' }), {}, 'blkio weight 0 is "not given" (runc)');
  t.same(resourcesFromFlags({ kernelMemory: '1M' }), { memory: { kernel: 2 ** 20 } });
  t.throws(() => resourcesFromFlags({ cpuShare: '-5' }), /invalid value for cpu-share/);
  t.throws(() => resourcesFromFlags({ pidsLimit: '1.5' }), /invalid value for pids-limit/);
  t.throws(() => resourcesFromFlags({ memory: '5 parsecs' }), /invalid suffix/);
});

t.test('planUpdate: merged into the record, applied with what each value depends on', async (t) => {
  const recorded = {
    devices: [{ allow: false, access: 'rwm' }],
    memory: { limit: 100, swap: 200, swappiness: 10 },
    cpu: { shares: 1024, quota: 30000, period: 100000, cpus: '0-1' },
    pids: { limit: 10 },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    blockIO: { weight: 100, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 10 }] },
  };
  // A lone period keeps the recorded quota, in the record and in what is written.
  let p = planUpdate(recorded, { cpu: { period: 200000 } });
  t.same(p.apply, { cpu: { period: 200000, quota: 30000 } });
  t.same(p.record.cpu, { shares: 1024, quota: 30000, period: 200000, cpus: '0-1' });
  t.same(p.record.devices, recorded.devices);
  t.same(p.record.hugepageLimits, recorded.hugepageLimits);
  t.same(p.warnings, []);
  // A lone quota keeps the period.
  p = planUpdate(recorded, { cpu: { quota: 5000 } });
  t.same(p.apply, { cpu: { quota: 5000, period: 100000 } });
  // Memory limit brings the recorded swap; swappiness is not re-applied.
  p = planUpdate(recorded, { memory: { limit: 150 } });
  t.same(p.apply, { memory: { limit: 150, swap: 200 } });
  t.same(p.record.memory, { limit: 150, swap: 200, swappiness: 10 });
  // Unlimited memory without swap: swap 0 (unset), so both are unlimited.
  p = planUpdate(recorded, { memory: { limit: -1 } });
  t.same(p.apply, { memory: { limit: -1, swap: 0 } });
  // Reservation alone touches nothing else.
  p = planUpdate(recorded, { memory: { reservation: 50 } });
  t.same(p.apply, { memory: { reservation: 50 } });
  // checkBeforeUpdate goes to the write, not the record; kernel memory is dropped with a warning.
  p = planUpdate(recorded, { memory: { limit: 120, checkBeforeUpdate: true, kernel: 5 } });
  t.same(p.apply, { memory: { limit: 120, swap: 200, checkBeforeUpdate: true } });
  t.same(p.record.memory, { limit: 120, swap: 200, swappiness: 10 });
  t.match(p.warnings, [/Kernel memory settings are ignored/]);
  // idle without shares drops shares (cpu.weight cannot follow cpu.idle).
  p = planUpdate(recorded, { cpu: { idle: 1 } });
  t.same(p.apply, { cpu: { idle: 1, shares: 0 } });
  // Device, hugepage, network, rdma entries of an update are not applied nor recorded.
  p = planUpdate(recorded, {
    devices: [{ allow: true, access: 'rwm' }],
    hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
    network: { classID: 1 },
    pids: { limit: 20 },
  });
  t.same(p.apply, { pids: { limit: 20 } });
  t.same(p.record.devices, recorded.devices);
  t.same(p.record.hugepageLimits, recorded.hugepageLimits);
  t.equal(p.record.network, undefined);
  // Block I/O devices are upserted by major:minor.
  p = planUpdate(recorded, {
    blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 99 }, { major: 8, minor: 16, rate: 5 }], weight: 300 },
  });
  t.same(p.record.blockIO, {
    weight: 300,
    throttleReadBpsDevice: [
      { major: 8, minor: 0, rate: 99 },
      { major: 8, minor: 16, rate: 5 },
    ],
  });
  // Unified: written as given, recorded merged.
  p = planUpdate({ unified: { 'memory.high': '100' } }, { unified: { 'pids.max': '5' } });
  t.same(p.apply, { unified: { 'pids.max': '5' } });
  t.same(p.record.unified, { 'memory.high': '100', 'pids.max': '5' });
  // Nothing recorded: the update is the record.
  t.same(planUpdate(undefined, { pids: { limit: 3 } }).record, { pids: { limit: 3 } });
});

t.test('parseDuration: Go durations', async (t) => {
  const cases: [string, number][] = [
    ['5s', 5000],
    ['1m30s', 90000],
    ['250ms', 250],
    ['1.5h', 5400000],
    ['100us', 0.1],
    ['200\u00b5s', 0.2],
    ['300\u03bcs', 0.3],
    ['0', 0],
    ['-1s', -1000],
  ];
  for (const [s, ms] of cases) t.equal(parseDuration(s), ms, s);
  for (const s of ['', '5', 's', '5 s', '5d', '1m x']) t.throws(() => parseDuration(s), /invalid duration/, JSON.stringify(s));
});

t.test('filterPs: the header and the rows of the given pids', async (t) => {
  const out = 'UID   PID  PPID CMD\nroot    1     0 init\nroot   42     1 sh\nroot  420    42 sleep\n';
  t.equal(filterPs(out, [42]), 'UID   PID  PPID CMD\nroot   42     1 sh\n');
  t.equal(filterPs('  PID TTY\n   42 ?\n', [42, 7]), '  PID TTY\n   42 ?\n');
  t.throws(() => filterPs('USER COMMAND\nroot x\n', [1]), /couldn't find PID field/);
  t.throws(() => filterPs('PID CMD\nx y\n', [1]), /unable to parse pid/);
});
