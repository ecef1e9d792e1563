// linux.seccomp → program and seccomp(2) flags, through the real libseccomp of the addon
// (no root needed: nothing is loaded here).
import { existsSync } from 'node:fs';
import t from 'tap';
import type { Native } from '../../lib/native/api';
import { addonPath } from '../../lib/paths';
import { compileSeccomp, FLAGS, supportedFlags } from '../../lib/seccomp';
import type { LinuxSeccomp } from '../../lib/spec/types';

if (!existsSync(addonPath)) t.plan(0, 'the addon is not built (npm run build)');
else {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const real = require(addonPath) as Native;
  const without = (missing: number): Native => ({ ...real, seccompFlagSupported: (f) => (f & missing ? false : real.seccompFlagSupported(f)) });
  const NEW_LISTENER = 8;
  const TSYNC_ESRCH = 16;
  const base: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };

  t.test('a program of whole BPF instructions; flags as asked', async (t) => {
    const c = compileSeccomp({ ...base, flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }, real);
    t.ok(c.program.length > 0 && c.program.length % 8 === 0);
    t.equal(c.flags, FLAGS.SECCOMP_FILTER_FLAG_LOG | FLAGS.SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    t.equal(c.listenerPath, undefined);
  });

  t.test('a flag the kernel lacks is a clear error', async (t) => {
    t.throws(() => compileSeccomp({ ...base, flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }, without(FLAGS.SECCOMP_FILTER_FLAG_SPEC_ALLOW)), {
      message: 'config.json: /linux/seccomp/flags/0: seccomp flag "SECCOMP_FILTER_FLAG_SPEC_ALLOW" is not supported by this kernel',
    });
    t.same(supportedFlags(without(FLAGS.SECCOMP_FILTER_FLAG_LOG)), ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']);
  });

  t.test('NOTIFY rules ask for a listener, and only then', async (t) => {
    const notify: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/run/agent.sock',
      flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
    };
    const c = compileSeccomp(notify, real);
    t.equal(c.listenerPath, '/run/agent.sock');
    t.equal(c.flags, FLAGS.SECCOMP_FILTER_FLAG_TSYNC | TSYNC_ESRCH | FLAGS.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | NEW_LISTENER);
    // Without a NOTIFY rule the path is ignored (the spec says so) and WAIT_KILLABLE_RECV,
    // which the kernel takes only with a listener, has nothing to act on.
    const plain = compileSeccomp({ ...notify, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }, real);
    t.equal(plain.listenerPath, undefined);
    t.equal(plain.flags, FLAGS.SECCOMP_FILTER_FLAG_TSYNC);
  });

  t.test('sendmsg cannot be notified: capsa-init hands over the listener with it', async (t) => {
    t.throws(
      () => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/a', syscalls: [{ names: ['mkdir', 'sendmsg'], action: 'SCMP_ACT_NOTIFY' }] }, real),
      { message: /\/linux\/seccomp\/syscalls\/0\/names\/1: SCMP_ACT_NOTIFY cannot be used for sendmsg/ },
    );
  });

  t.test('rules that repeat the default action are dropped (libseccomp refuses them)', async (t) => {
    const a = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ALLOW' }] }, real);
    const b = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, real);
    t.same(a.program, b.program);
  });

  t.test('every action and operator the schema names compiles', async (t) => {
    for (const action of ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY'] as const)
      t.ok(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/a', syscalls: [{ names: ['mkdir'], action }] }, real).program.length, action);
    for (const op of ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const)
      t.ok(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 7, valueTwo: 3, op }] }] }, real).program.length, op);
  });
}
