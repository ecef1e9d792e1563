// v1 ↔ v2 value conversions and file formats: pure, no root.
import t from 'tap';
import {
  blkioWeightToIoWeight,
  checkPageSize,
  cpuMaxString,
  intString,
  limitString,
  pageSizeFromKb,
  parseCpuList,
  pidsLimitString,
  rdmaLine,
  sharesToWeight,
  sharesToWeightLinear,
  swapMaxString,
  swapToV2,
  v1DeviceRule,
} from '../../lib/cgroups/convert';

t.test('integers are written without exponents, u64 max included', async (t) => {
  t.equal(intString(67108864), '67108864');
  t.equal(intString(-1), '-1');
  t.equal(intString(2 ** 63), '9223372036854775808');
  t.equal(intString(2 ** 64), '18446744073709551615', 'JSON 18446744073709551615 arrives as 2^64');
  t.throws(() => intString(1.5), /^cgroup: /);
  t.throws(() => intString(NaN), /^cgroup: /);
});

t.test('-1 means max', async (t) => {
  t.equal(limitString(-1), 'max');
  t.equal(limitString(1024), '1024');
  t.equal(pidsLimitString(-1), 'max');
  t.equal(pidsLimitString(-5), 'max');
  t.equal(pidsLimitString(0), '0', 'the spec: 0 is a valid pids limit');
  t.equal(pidsLimitString(32771), '32771');
});

t.test('shares → weight: the fit runc ≥ 1.3.1 uses (values from runc\'s own tests and helpers)', async (t) => {
  const cases: [number, number][] = [
    [0, 0],
    [1, 1],
    [2, 1],
    [3, 2],
    [512, 59],
    [1024, 100],
    [2048, 174],
    [262143, 10000],
    [262144, 10000],
    [500000, 10000],
  ];
  for (const [shares, weight] of cases) t.equal(sharesToWeight(shares), weight, `${shares} shares`);
});

t.test('shares → weight, the older linear formula', async (t) => {
  t.equal(sharesToWeightLinear(0), 0);
  t.equal(sharesToWeightLinear(2), 1);
  t.equal(sharesToWeightLinear(1024), 39);
  t.equal(sharesToWeightLinear(262144), 10000);
  t.equal(sharesToWeightLinear(100), 1 + Math.floor((98 * 9999) / 262142));
});

t.test('blkio weight → io.weight', async (t) => {
  t.equal(blkioWeightToIoWeight(0), 0);
  t.equal(blkioWeightToIoWeight(10), 1);
  t.equal(blkioWeightToIoWeight(500), 1 + Math.floor((490 * 9999) / 990));
  t.equal(blkioWeightToIoWeight(1000), 10000);
});

t.test('swap: OCI memory+swap → v2 swap.max', async (t) => {
  t.equal(swapToV2(0, -1), -1, 'unlimited memory, swap unset → unlimited swap');
  t.equal(swapToV2(-1, 100), -1);
  t.equal(swapToV2(0, 100), 0);
  t.equal(swapToV2(300, -1), 300);
  t.equal(swapToV2(300, 100), 200);
  t.equal(swapToV2(100, 100), 0);
  t.throws(() => swapToV2(100, 0), /needs a memory limit/);
  t.throws(() => swapToV2(50, 100), /must be >= memory limit/);
  t.throws(() => swapToV2(50, -5), /invalid memory limit/);
  t.equal(swapMaxString(undefined, undefined), undefined);
  t.equal(swapMaxString(undefined, 100), undefined, 'limit only: swap.max untouched');
  t.equal(swapMaxString(100, 100), '0', 'swap == limit: no swap at all');
  t.equal(swapMaxString(134217728, 67108864), '67108864', 'podman: 64M memory, 128M memory+swap');
  t.equal(swapMaxString(undefined, -1), 'max');
  t.equal(swapMaxString(-1, 100), 'max');
});

t.test('cpu.max', async (t) => {
  t.equal(cpuMaxString(50000, 100000), '50000 100000');
  t.equal(cpuMaxString(50000, undefined), '50000 100000');
  t.equal(cpuMaxString(-1, 20000), 'max 20000');
  t.equal(cpuMaxString(undefined, 20000), 'max 20000');
});

t.test('v1 device rules', async (t) => {
  t.equal(v1DeviceRule({ allow: false, access: 'rwm' }), 'a *:* rwm');
  t.equal(v1DeviceRule({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }), 'c 1:3 rwm');
  t.equal(v1DeviceRule({ allow: true, type: 'c', major: 136, access: 'rw' }), 'c 136:* rw');
  t.equal(v1DeviceRule({ allow: true, type: 'b', major: -1, minor: -1, access: 'm' }), 'b *:* m');
  t.equal(v1DeviceRule({ allow: true, type: 'c', major: 1, minor: 3 }), 'c 1:3 rwm', 'access unset → rwm');
  t.throws(() => v1DeviceRule({ allow: true, type: 'x' as 'a', access: 'r' }), /device type/);
  t.throws(() => v1DeviceRule({ allow: true, type: 'c', access: 'rx' }), /device access/);
  t.throws(() => v1DeviceRule({ allow: true, type: 'c', access: 'rr' }), /device access/);
  t.throws(() => v1DeviceRule({ allow: true, type: 'c', access: '' }), /device access/);
});

t.test('cpu lists, page sizes, rdma lines', async (t) => {
  t.same(parseCpuList('0-3,7\n'), [0, 1, 2, 3, 7]);
  t.same(parseCpuList(''), []);
  t.throws(() => parseCpuList('3-1'), /^cgroup: /);
  t.throws(() => parseCpuList('a'), /^cgroup: /);
  t.equal(checkPageSize('2MB'), '2MB');
  for (const bad of ['2mb', '0MB', '2MB/../x', '1TB', '']) t.throws(() => checkPageSize(bad), /^cgroup: /, bad);
  t.equal(pageSizeFromKb(2048), '2MB');
  t.equal(pageSizeFromKb(1048576), '1GB');
  t.equal(pageSizeFromKb(64), '64KB');
  t.equal(rdmaLine('mlx5_1', 3, 10000), 'mlx5_1 hca_handle=3 hca_object=10000');
  t.equal(rdmaLine('mlx4_0', undefined, 1000), 'mlx4_0 hca_object=1000');
  t.throws(() => rdmaLine('a b', 1), /^cgroup: /);
  t.throws(() => rdmaLine('x'), /needs hcaHandles or hcaObjects/);
});
