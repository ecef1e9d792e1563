// LaunchPlan → the PLAN message of lib/protocol/spec.ts.
import { Writer } from '../protocol/codec';
import { HookKind, Mode, Msg } from '../protocol/spec';
import type { LaunchPlan } from './types';

export function encodePlan(p: LaunchPlan): Buffer {
  const w = new Writer();
  w.u32('MODE', p.mode === 'create' ? Mode.CREATE : Mode.EXEC);
  w.u32('PARENT_PID', p.parentPid);
  w.u64('CLONE_FLAGS', p.cloneFlags);
  for (const j of p.joins) w.nest('NS_JOIN', (n) => n.u32('NS_TYPE', j.type).str('NS_PATH', j.path));
  if (p.timeOffsets) w.str('TIME_OFFSETS', p.timeOffsets);
  if (p.rootfs) w.str('ROOTFS', p.rootfs);
  if (p.rootfsPropagation) w.u64('ROOTFS_PROPAGATION', p.rootfsPropagation);
  if (p.readonlyRoot) w.u32('ROOTFS_READONLY', 1);
  if (p.noPivot) w.u32('NO_PIVOT', 1);
  for (const m of p.mounts)
    w.nest('MOUNT', (n) => {
      n.str('M_SOURCE', m.source).str('M_DEST', m.destination).u64('M_FLAGS', m.flags);
      if (m.fstype) n.str('M_FSTYPE', m.fstype);
      if (m.data) n.str('M_DATA', m.data);
      if (m.propagation) n.u64('M_PROPAGATION', m.propagation);
      if (m.attrSet) n.u64('M_ATTR_SET', m.attrSet);
      if (m.attrClr) n.u64('M_ATTR_CLR', m.attrClr);
      if (m.copyUp) n.u32('M_COPYUP', 1);
    });
  for (const d of p.devices)
    w.nest('DEVICE', (n) => {
      n.str('D_PATH', d.path).u32('D_MODE', d.mode).u64('D_MAJOR', d.major).u64('D_MINOR', d.minor);
      n.u32('D_UID', d.uid).u32('D_GID', d.gid);
      if (d.bind) n.u32('D_BIND', 1);
    });
  for (const l of p.symlinks) w.nest('SYMLINK', (n) => n.str('L_TARGET', l.target).str('L_PATH', l.path));
  w.strs('MASKED_PATH', p.maskedPaths).strs('READONLY_PATH', p.readonlyPaths);
  if (p.hostname !== undefined) w.str('HOSTNAME', p.hostname);
  if (p.domainname !== undefined) w.str('DOMAINNAME', p.domainname);
  for (const s of p.sysctls) w.nest('SYSCTL', (n) => n.str('S_PATH', s.path).str('S_VALUE', s.value));
  for (const r of p.rlimits) w.nest('RLIMIT', (n) => n.u32('R_TYPE', r.type).u64('R_SOFT', r.soft).u64('R_HARD', r.hard));
  if (p.oomScoreAdj !== undefined) w.i64('OOM_SCORE_ADJ', p.oomScoreAdj);
  w.u32('UID', p.uid).u32('GID', p.gid);
  for (const g of p.additionalGids) w.u32('ADDITIONAL_GID', g);
  if (p.umask !== undefined) w.u32('UMASK', p.umask);
  w.str('CWD', p.cwd).strs('ENV', p.env).strs('ARG', p.args);
  w.u64('CAP_BOUNDING', p.caps.bounding).u64('CAP_EFFECTIVE', p.caps.effective).u64('CAP_PERMITTED', p.caps.permitted);
  w.u64('CAP_INHERITABLE', p.caps.inheritable).u64('CAP_AMBIENT', p.caps.ambient);
  if (p.noNewPrivileges) w.u32('NO_NEW_PRIVS', 1);
  if (p.seccomp) {
    w.bytes('SECCOMP_PROG', p.seccomp.program).u32('SECCOMP_FLAGS', p.seccomp.flags);
    if (p.seccomp.listenerPath) w.str('SECCOMP_LISTENER', p.seccomp.listenerPath);
  }
  if (p.terminal) w.u32('TERMINAL', 1);
  if (p.consoleSocket) w.str('CONSOLE_SOCKET', p.consoleSocket);
  if (p.consoleSize) w.u32('CONSOLE_WIDTH', p.consoleSize.width).u32('CONSOLE_HEIGHT', p.consoleSize.height);
  if (p.stateDir) w.str('STATE_DIR', p.stateDir);
  for (const h of p.hooks)
    w.nest('HOOK', (n) => {
      n.u32('H_KIND', h.kind === 'createContainer' ? HookKind.CREATE_CONTAINER : HookKind.START_CONTAINER);
      n.str('H_PATH', h.path).strs('H_ARG', h.args).strs('H_ENV', h.env);
      if (h.timeout) n.u32('H_TIMEOUT', h.timeout);
    });
  if (p.sessionKeyring) w.str('SESSION_KEYRING', p.sessionKeyring);
  if (p.personality !== undefined) w.u32('PERSONALITY', p.personality);
  if (p.ioprio !== undefined) w.u32('IOPRIO', p.ioprio);
  if (p.apparmorProfile) w.str('APPARMOR_PROFILE', p.apparmorProfile);
  if (p.selinuxLabel) w.str('SELINUX_LABEL', p.selinuxLabel);
  if (p.mountLabel) w.str('MOUNT_LABEL', p.mountLabel);
  return w.message(Msg.PLAN);
}
