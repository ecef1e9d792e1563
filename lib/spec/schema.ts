// capsa's JSON Schema for runtime-spec 1.3.0 (the common and Linux parts of config.json, the
// `exec --process` file, and the state document). Written with TypeBox so that lib/spec/types.ts
// derives the TypeScript types from the same source. Only scripts/gen-validator.ts imports
// this module: it compiles it to standalone code at build time; nothing compiles it at run time.
//
// Rules of this file:
// - Known properties are checked strictly (types, enums, integer ranges, patterns); unknown
//   properties are allowed everywhere, as config.md "Extensibility" requires.
// - The schema says what the spec says. Cross-field rules and kernel limits live in
//   semantic.ts, which reports them against the same JSON pointers.
// - Integers are JSON numbers: int64/uint64 values beyond 2^53 arrive rounded to the nearest
//   double (18446744073709551615 becomes 2^64), so the 64-bit bounds here are those doubles.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  CPU_LIST_CHARS,
  DEVICE_ACCESS,
  MB_SCHEMA,
  NAMESPACE_TYPES,
  NO_NUL,
  ONE_LINE,
  PAGE_SIZE,
  RLIMIT_NAME,
  SEMVER,
} from './names';

// ---------------------------------------------------------------------------------- helpers

const int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });
const Int32 = int(-(2 ** 31), 2 ** 31 - 1);
const Int64 = int(-(2 ** 63), 2 ** 63);
const Uint16 = int(0, 0xffff);
const Uint32 = int(0, 0xffffffff);
const Uint64 = int(0, 2 ** 64);
const Bool = Type.Boolean();
const Opt = Type.Optional;

const Str = (pattern = NO_NUL) => Type.String({ pattern });
const CStr = Str();

function StringEnum<const T extends readonly string[]>(values: T) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });
}

/** A JSON object used as a map (Go map[string]T): any key, each value a T. */
function Dict<T extends TSchema>(value: T, keys: 'any' | 'c' = 'c') {
  const schema: Record<string, unknown> = { type: 'object', additionalProperties: value };
  // Keys that become file names, sysctl paths or interface names go through C too.
  if (keys === 'c') schema.propertyNames = { pattern: NO_NUL };
  return Type.Unsafe<Record<string, Static<T>>>(schema);
}

/** A reference to a schema with an $id: compiled once and shared (see gen-validator). */
function Ref<T extends TSchema>(schema: T) {
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id!));
}

// ------------------------------------------------------------------------------ enumerations

export const SCHEDULER_POLICIES = [
  'SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE',
] as const;
export const SCHEDULER_FLAGS = [
  'SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM', 'SCHED_FLAG_DL_OVERRUN', 'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS', 'SCHED_FLAG_UTIL_CLAMP_MIN', 'SCHED_FLAG_UTIL_CLAMP_MAX',
] as const;
export const IOPRIO_CLASSES = ['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'] as const;
export const DEVICE_TYPES = ['c', 'b', 'u', 'p'] as const;
export const DEVICE_CGROUP_TYPES = ['a', 'c', 'b'] as const;
// The spec lists the first four; Docker sends rslave/rshared, and runc accepts the r* forms.
export const ROOTFS_PROPAGATIONS = [
  'private', 'shared', 'slave', 'unbindable', 'rprivate', 'rshared', 'rslave', 'runbindable',
] as const;
export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
] as const;
export const SECCOMP_ARCHES = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
] as const;
export const SECCOMP_FLAGS = [
  'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
] as const;
export const SECCOMP_OPERATORS = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
] as const;
export const PERSONALITY_DOMAINS = ['LINUX', 'LINUX32'] as const;
export const MEMORY_POLICY_MODES = [
  'MPOL_DEFAULT', 'MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED',
  'MPOL_PREFERRED_MANY', 'MPOL_LOCAL',
] as const;
export const MEMORY_POLICY_FLAGS = ['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES'] as const;
// runtime.md lists four; runc's `state` also says "paused", which the spec allows ("additional values").
export const CONTAINER_STATUSES = ['creating', 'created', 'running', 'stopped', 'paused'] as const;

// ---------------------------------------------------------------------------------- process

export const Box = Type.Object({ height: Uint64, width: Uint64 });

export const User = Type.Object({
  uid: Uint32,
  gid: Uint32,
  umask: Opt(Uint32),
  additionalGids: Opt(Type.Array(Uint32)),
  username: Opt(CStr),
});

const CapList = Opt(Type.Array(CStr));
export const LinuxCapabilities = Type.Object({
  bounding: CapList,
  effective: CapList,
  inheritable: CapList,
  permitted: CapList,
  ambient: CapList,
});

export const POSIXRlimit = Type.Object({ type: Str(RLIMIT_NAME), hard: Uint64, soft: Uint64 });

export const Scheduler = Type.Object({
  policy: StringEnum(SCHEDULER_POLICIES),
  nice: Opt(Int32),
  priority: Opt(Int32),
  flags: Opt(Type.Array(StringEnum(SCHEDULER_FLAGS))),
  runtime: Opt(Uint64),
  deadline: Opt(Uint64),
  period: Opt(Uint64),
});

export const LinuxIOPriority = Type.Object({ class: StringEnum(IOPRIO_CLASSES), priority: Int32 });

export const CPUAffinity = Type.Object({ initial: Opt(Str(CPU_LIST_CHARS)), final: Opt(Str(CPU_LIST_CHARS)) });

// Linux needs args (at least one) and user; the Windows-only commandLine is accepted and unused.
export const Process = Type.Object(
  {
    terminal: Opt(Bool),
    consoleSize: Opt(Box),
    user: User,
    args: Type.Array(CStr, { minItems: 1 }),
    commandLine: Opt(Type.String()),
    env: Opt(Type.Array(CStr)),
    cwd: CStr,
    capabilities: Opt(LinuxCapabilities),
    rlimits: Opt(Type.Array(POSIXRlimit)),
    noNewPrivileges: Opt(Bool),
    apparmorProfile: Opt(CStr),
    oomScoreAdj: Opt(Type.Integer()),
    scheduler: Opt(Scheduler),
    selinuxLabel: Opt(CStr),
    ioPriority: Opt(LinuxIOPriority),
    execCPUAffinity: Opt(CPUAffinity),
  },
  { $id: 'Process' },
);

// ------------------------------------------------------------------- root, mounts and hooks

export const Root = Type.Object({ path: CStr, readonly: Opt(Bool) });

export const LinuxIDMapping = Type.Object(
  { containerID: Uint32, hostID: Uint32, size: Uint32 },
  { $id: 'LinuxIDMapping' },
);
const IDMappings = Opt(Type.Array(Ref(LinuxIDMapping)));

export const Mount = Type.Object({
  destination: CStr,
  source: Opt(CStr),
  options: Opt(Type.Array(CStr)),
  type: Opt(CStr),
  uidMappings: IDMappings,
  gidMappings: IDMappings,
});

export const Hook = Type.Object(
  {
    path: CStr,
    args: Opt(Type.Array(CStr)),
    env: Opt(Type.Array(CStr)),
    timeout: Opt(int(1, 2 ** 31 - 1)),
  },
  { $id: 'Hook' },
);
const HookList = Opt(Type.Array(Ref(Hook)));

export const Hooks = Type.Object({
  prestart: HookList,
  createRuntime: HookList,
  createContainer: HookList,
  startContainer: HookList,
  poststart: HookList,
  poststop: HookList,
});

// -------------------------------------------------------------------------------- resources

export const LinuxDeviceCgroup = Type.Object({
  allow: Bool,
  type: Opt(StringEnum(DEVICE_CGROUP_TYPES)),
  major: Opt(Int64),
  minor: Opt(Int64),
  access: Opt(Str(DEVICE_ACCESS)),
});

export const LinuxMemory = Type.Object({
  limit: Opt(Int64),
  reservation: Opt(Int64),
  swap: Opt(Int64),
  kernel: Opt(Int64),
  kernelTCP: Opt(Int64),
  swappiness: Opt(Uint64),
  disableOOMKiller: Opt(Bool),
  useHierarchy: Opt(Bool),
  checkBeforeUpdate: Opt(Bool),
});

export const LinuxCPU = Type.Object({
  shares: Opt(Uint64),
  quota: Opt(Int64),
  burst: Opt(Uint64),
  period: Opt(Uint64),
  realtimeRuntime: Opt(Int64),
  realtimePeriod: Opt(Uint64),
  cpus: Opt(CStr),
  mems: Opt(CStr),
  idle: Opt(Int64),
});

// config-linux.md makes limit OPTIONAL (the 1.3.0 JSON schema still lists it as required).
export const LinuxPids = Type.Object({ limit: Opt(Int64) });

export const LinuxWeightDevice = Type.Object({
  major: Int64,
  minor: Int64,
  weight: Opt(Uint16),
  leafWeight: Opt(Uint16),
});

export const LinuxThrottleDevice = Type.Object({ major: Int64, minor: Int64, rate: Uint64 });

const Throttles = Opt(Type.Array(LinuxThrottleDevice));
export const LinuxBlockIO = Type.Object({
  weight: Opt(Uint16),
  leafWeight: Opt(Uint16),
  weightDevice: Opt(Type.Array(LinuxWeightDevice)),
  throttleReadBpsDevice: Throttles,
  throttleWriteBpsDevice: Throttles,
  throttleReadIOPSDevice: Throttles,
  throttleWriteIOPSDevice: Throttles,
});

export const LinuxHugepageLimit = Type.Object({ pageSize: Str(PAGE_SIZE), limit: Uint64 });

export const LinuxInterfacePriority = Type.Object({ name: CStr, priority: Uint32 });

export const LinuxNetwork = Type.Object({
  classID: Opt(Uint32),
  priorities: Opt(Type.Array(LinuxInterfacePriority)),
});

export const LinuxRdma = Type.Object({ hcaHandles: Opt(Uint32), hcaObjects: Opt(Uint32) });

export const LinuxResources = Type.Object({
  devices: Opt(Type.Array(LinuxDeviceCgroup)),
  memory: Opt(LinuxMemory),
  cpu: Opt(LinuxCPU),
  pids: Opt(LinuxPids),
  blockIO: Opt(LinuxBlockIO),
  hugepageLimits: Opt(Type.Array(LinuxHugepageLimit)),
  network: Opt(LinuxNetwork),
  rdma: Opt(Dict(LinuxRdma)),
  unified: Opt(Dict(CStr)),
});

// ------------------------------------------------------------------------------------ linux

export const LinuxNamespace = Type.Object({ type: StringEnum(NAMESPACE_TYPES), path: Opt(CStr) });

// major and minor are REQUIRED unless type is p.
export const LinuxDevice = Type.Object(
  {
    type: StringEnum(DEVICE_TYPES),
    path: CStr,
    major: Opt(Int64),
    minor: Opt(Int64),
    // The spec's schema says <= 0777; podman writes the file type bits too (semantic.ts).
    fileMode: Opt(Uint32),
    uid: Opt(Uint32),
    gid: Opt(Uint32),
  },
  {
    if: { type: 'object', properties: { type: { enum: ['c', 'b', 'u'] } }, required: ['type'] },
    then: { type: 'object', required: ['major', 'minor'] },
  },
);

export const LinuxNetDevice = Type.Object({ name: Opt(CStr) });

export const LinuxSeccompArg = Type.Object({
  index: Uint32,
  value: Uint64,
  valueTwo: Opt(Uint64),
  op: StringEnum(SECCOMP_OPERATORS),
});

export const LinuxSyscall = Type.Object({
  names: Type.Array(CStr, { minItems: 1 }),
  action: StringEnum(SECCOMP_ACTIONS),
  errnoRet: Opt(Uint32),
  args: Opt(Type.Array(LinuxSeccompArg)),
});

export const LinuxSeccomp = Type.Object({
  defaultAction: StringEnum(SECCOMP_ACTIONS),
  defaultErrnoRet: Opt(Uint32),
  architectures: Opt(Type.Array(StringEnum(SECCOMP_ARCHES))),
  flags: Opt(Type.Array(StringEnum(SECCOMP_FLAGS))),
  listenerPath: Opt(CStr),
  listenerMetadata: Opt(CStr),
  syscalls: Opt(Type.Array(LinuxSyscall)),
});

export const LinuxPersonality = Type.Object({
  domain: StringEnum(PERSONALITY_DOMAINS),
  flags: Opt(Type.Array(CStr)),
});

export const LinuxTimeOffset = Type.Object({ secs: Opt(Int64), nanosecs: Opt(Uint32) });

export const LinuxIntelRdt = Type.Object({
  closID: Opt(CStr),
  l3CacheSchema: Opt(CStr),
  memBwSchema: Opt(Str(MB_SCHEMA)),
  schemata: Opt(Type.Array(Str(ONE_LINE))),
  enableMonitoring: Opt(Bool),
});

export const LinuxMemoryPolicy = Type.Object({
  mode: StringEnum(MEMORY_POLICY_MODES),
  nodes: Opt(CStr),
  flags: Opt(Type.Array(StringEnum(MEMORY_POLICY_FLAGS))),
});

export const Linux = Type.Object({
  uidMappings: IDMappings,
  gidMappings: IDMappings,
  sysctl: Opt(Dict(CStr)),
  resources: Opt(LinuxResources),
  cgroupsPath: Opt(CStr),
  namespaces: Opt(Type.Array(LinuxNamespace)),
  devices: Opt(Type.Array(LinuxDevice)),
  netDevices: Opt(Dict(LinuxNetDevice)),
  seccomp: Opt(LinuxSeccomp),
  rootfsPropagation: Opt(StringEnum(ROOTFS_PROPAGATIONS)),
  maskedPaths: Opt(Type.Array(CStr)),
  readonlyPaths: Opt(Type.Array(CStr)),
  mountLabel: Opt(CStr),
  intelRdt: Opt(LinuxIntelRdt),
  memoryPolicy: Opt(LinuxMemoryPolicy),
  personality: Opt(LinuxPersonality),
  timeOffsets: Opt(Dict(LinuxTimeOffset)),
});

// ------------------------------------------------------------------------ the three documents

// root is REQUIRED on Linux (config.md, "Root").
export const Spec = Type.Object(
  {
    ociVersion: Str(SEMVER),
    process: Opt(Ref(Process)),
    root: Root,
    hostname: Opt(CStr),
    domainname: Opt(CStr),
    mounts: Opt(Type.Array(Mount)),
    hooks: Opt(Hooks),
    annotations: Opt(Dict(Type.String(), 'any')),
    linux: Opt(Linux),
  },
  { $id: 'Spec' },
);

export const State = Type.Object(
  {
    ociVersion: Type.String(),
    id: Type.String({ minLength: 1 }),
    status: StringEnum(CONTAINER_STATUSES),
    pid: Opt(int(0, 2 ** 31 - 1)),
    bundle: Type.String(),
    annotations: Opt(Dict(Type.String(), 'any')),
  },
  { $id: 'State' },
);

/** Every schema with an $id, for the compiler; the exported validators are Spec, Process, State. */
export const SCHEMAS = [Spec, Process, State, LinuxIDMapping, Hook] as const;
