// TypeScript types of config.json, the exec process file and the state document, derived from
// the schema (./schema.ts) so the two cannot drift. Names follow Go's specs-go; field names are
// the JSON ones. A value of these types has passed validateConfig/validateProcess.
//
// Numbers: every integer is a JS number. uint64/int64 fields above 2^53 arrive rounded to the
// nearest double, and the largest uint64 (18446744073709551615, RLIM_INFINITY) arrives as 2^64,
// one past the range of a u64: convert with u64()/i64() below, never with a bare BigInt().
import type { Static } from '@sinclair/typebox';
import type * as S from './schema';

export type Spec = Static<typeof S.Spec>;
export type Process = Static<typeof S.Process>;
export type Box = Static<typeof S.Box>;
export type User = Static<typeof S.User>;
export type LinuxCapabilities = Static<typeof S.LinuxCapabilities>;
export type POSIXRlimit = Static<typeof S.POSIXRlimit>;
export type Scheduler = Static<typeof S.Scheduler>;
export type LinuxIOPriority = Static<typeof S.LinuxIOPriority>;
export type CPUAffinity = Static<typeof S.CPUAffinity>;
export type Root = Static<typeof S.Root>;
export type Mount = Static<typeof S.Mount>;
export type Hook = Static<typeof S.Hook>;
export type Hooks = Static<typeof S.Hooks>;
export type Linux = Static<typeof S.Linux>;
export type LinuxIDMapping = Static<typeof S.LinuxIDMapping>;
export type LinuxNamespace = Static<typeof S.LinuxNamespace>;
export type LinuxNamespaceType = LinuxNamespace['type'];
export type LinuxDevice = Static<typeof S.LinuxDevice>;
export type LinuxDeviceCgroup = Static<typeof S.LinuxDeviceCgroup>;
export type LinuxResources = Static<typeof S.LinuxResources>;
export type LinuxMemory = Static<typeof S.LinuxMemory>;
export type LinuxCPU = Static<typeof S.LinuxCPU>;
export type LinuxPids = Static<typeof S.LinuxPids>;
export type LinuxBlockIO = Static<typeof S.LinuxBlockIO>;
export type LinuxWeightDevice = Static<typeof S.LinuxWeightDevice>;
export type LinuxThrottleDevice = Static<typeof S.LinuxThrottleDevice>;
export type LinuxHugepageLimit = Static<typeof S.LinuxHugepageLimit>;
export type LinuxNetwork = Static<typeof S.LinuxNetwork>;
export type LinuxInterfacePriority = Static<typeof S.LinuxInterfacePriority>;
export type LinuxRdma = Static<typeof S.LinuxRdma>;
export type LinuxSeccomp = Static<typeof S.LinuxSeccomp>;
export type LinuxSeccompAction = LinuxSeccomp['defaultAction'];
export type LinuxSyscall = Static<typeof S.LinuxSyscall>;
export type LinuxSeccompArg = Static<typeof S.LinuxSeccompArg>;
export type LinuxPersonality = Static<typeof S.LinuxPersonality>;
export type LinuxTimeOffset = Static<typeof S.LinuxTimeOffset>;
export type LinuxIntelRdt = Static<typeof S.LinuxIntelRdt>;
export type LinuxMemoryPolicy = Static<typeof S.LinuxMemoryPolicy>;
export type LinuxNetDevice = Static<typeof S.LinuxNetDevice>;
export type State = Static<typeof S.State>;

const U64_MAX = 0xffffffffffffffffn;
const I64_MAX = 0x7fffffffffffffffn;

/** A validated uint64 field as a bigint; 2^64 (how JSON's 18446744073709551615 parses) → 2^64-1. */
export function u64(n: number): bigint {
  return n >= 2 ** 64 ? U64_MAX : BigInt(n);
}

/** A validated int64 field as a bigint; 2^63 (how 9223372036854775807 parses) → 2^63-1. */
export function i64(n: number): bigint {
  return n >= 2 ** 63 ? I64_MAX : BigInt(n);
}
