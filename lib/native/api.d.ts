// The addon's whole surface (native/addon/). Policy code takes these functions as
// parameters or import them through ./index.ts, so tests can substitute a fake.

export interface ExitStatus {
  pid: number;
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  /** Signal number, or null when it exited. */
  signal: number | null;
}

export interface Native {
  /** A sealed memfd copy of the executable at `path`; returns the fd. */
  sealedCopy(path: string): number;
  /** Runs the executable behind `execFd` with fds[i] as fd i and the given environment. */
  spawn(execFd: number, fds: number[], env: string[]): number;
  /** Blocks until that child exits. */
  waitpid(pid: number): ExitStatus;
  /** Resolves when `pid` exits; reaps any other child meanwhile (subreaper orphans). */
  waitExit(pid: number): Promise<ExitStatus>;
  setSubreaper(): void;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  /** Returns false, without waiting, when `wait` is false and the lock is held elsewhere. */
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  mkfifo(path: string, mode: number): void;
  /** A SOCK_STREAM unix socketpair, both ends close-on-exec. */
  socketpair(): [number, number];
  /** Releases the process waiting on exec.fifo and returns what it wrote up to its execve;
   *  null if it exited without opening the fifo. */
  awaitFifo(path: string, pidfd: number): string | null;
  /** Lazily unmounts `path` (MNT_DETACH, not following a symlink); false if not mounted. */
  umount(path: string): boolean;
  /** Compiles a profile with libseccomp; `unknown` lists syscall names it does not know. */
  seccompCompile(spec: { defaultAction: number; architectures: string[]; rules: SeccompRule[] }): { program: Buffer; unknown: string[] };
  seccompVersion(): string;
  /** Loads `insns` (struct bpf_insn[]) as a BPF_PROG_TYPE_CGROUP_DEVICE program and makes it
   *  the device filter of the cgroup2 directory `dir`, replacing what was attached. A load
   *  error carries the kernel verifier's text in `verifierLog`. */
  attachDeviceFilter(dir: string, insns: Buffer, license: string): void;
  /** The ids of the device programs attached to the cgroup2 directory `dir`. */
  deviceFilterIds(dir: string): number[];
  /** One fd received with SCM_RIGHTS on a connected socket (a listening one is accepted on
   *  first), and the name sent with it. */
  recvFd(sock: number): { fd: number; name: string };
  /** A listening unix stream socket bound at `path`. */
  listenUnix(path: string): number;
  /** A new pty pair from the host's /dev/ptmx. */
  openpty(): { master: number; slave: number; name: string };
  /** The window size of a terminal, or null if `fd` is not one. */
  getWinsize(fd: number): { rows: number; cols: number } | null;
  setWinsize(fd: number, rows: number, cols: number): void;
  /** Raw mode (cfmakeraw); returns the previous settings, or null if `fd` is not a terminal. */
  makeRaw(fd: number): Buffer | null;
  restoreTermios(fd: number, saved: Buffer): void;
  /** Copies input → master and master → output until the pty has no peer left, or, once
   *  `stopFd` is readable, until the master has been quiet for 100 ms. */
  proxyConsole(master: number, input: number, output: number, stopFd: number): Promise<void>;
  /** Whether the kernel knows these SECCOMP_FILTER_FLAG_* bits (nothing is installed). */
  seccompFlagSupported(flags: number): boolean;
}

export interface SeccompRule {
  names: string[];
  /** SCMP_ACT_* value, errno included. */
  action: number;
  args: { index: number; op: number; value: bigint; valueTwo: bigint }[];
}
