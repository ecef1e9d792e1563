// The command line: runc's commands, flags and defaults. This layer only parses and calls;
// each command's module is loaded when that command runs.
import { Command, InvalidArgumentError, Option } from 'commander';
import { commandWord } from './argv';
import { formatError } from './errors';
import * as log from './log';
import { out } from './output';

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
}

const VERSION = '0.1.0';
const SPEC_VERSION = '1.3.0';

function nonNegativeInt(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a non-negative integer.');
  return Number(v);
}

function collect<T>(parse: (v: string) => T) {
  return (v: string, prev: T[]) => [...prev, parse(v)];
}

/** Runs a command with the error handling every command shares: one formatted line, logged
 *  where containerd reads it, and exit status `failure` (1; exec uses runc's 255, so a
 *  failure to exec is told apart from the program's own status). */
function action<A extends unknown[]>(
  program: Command,
  name: string,
  fn: (g: GlobalOptions, ...args: A) => number | void | Promise<number | void>,
  failure = 1,
) {
  return async (...args: A) => {
    const g = program.opts<GlobalOptions>();
    try {
      const code = await fn(g, ...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (e) {
      const id = typeof args[0] === 'string' ? args[0] : undefined;
      log.error(formatError(e, { command: name, id }));
      if (g.debug && e instanceof Error && e.stack) log.debug(e.stack);
      process.exitCode = failure;
    }
    // Every command awaits all it starts, so it is over: exit now. Letting the event loop
    // drain would run V8's pending tasks first (after create, a ~3 ms scavenge), then have Node
    // free the environment and the heap, which the kernel does faster on exit.
    process.exit();
  };
}

export function main(argv: string[]): void {
  const program = new Command('capsa')
    .description('an OCI container runtime, a drop-in replacement for runc')
    .version(`capsa version ${VERSION}\nspec: ${SPEC_VERSION}\nnode: ${process.version}`, '-v, --version')
    .option('--root <dir>', 'root directory for storage of container state', '/run/capsa')
    .option('--log <file>', 'write the log to this file (default: stderr)')
    .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
    .option('--debug', 'enable debug logging', false)
    .option('--systemd-cgroup', 'use systemd to manage cgroups (needs systemd)', false)
    .enablePositionalOptions()
    .showHelpAfterError(false)
    // Parse errors (an unknown command or flag) come before any action: the global options
    // are parsed by then, so they too reach --log, where containerd's shim looks for them.
    .configureOutput({
      writeOut: out,
      writeErr: (s) => {
        configureLog();
        log.error(s.trim().replace(/^error: /, ''));
      },
    })
    .hook('preAction', () => configureLog());
  const configureLog = () => {
    const g = program.opts<GlobalOptions>();
    log.configureLog({ file: g.log, format: g.logFormat, debug: g.debug });
  };

  const createFlags = (c: Command) =>
    c
      .option('-b, --bundle <dir>', 'path to the bundle directory', '.')
      .option('--pid-file <file>', 'write the container process id to this file')
      .option('--console-socket <path>', 'unix socket that receives the pty master when process.terminal is set')
      .option('--no-pivot', 'use chroot instead of pivot_root (for a ramdisk rootfs)')
      .option('--no-new-keyring', 'do not create a new session keyring')
      .option('--preserve-fds <n>', 'pass this many extra fds (from 3) to the container', nonNegativeInt, 0);

  // Registering a command and its options costs start-up time: only the one argv names is
  // registered (every one for help, or when argv names none or an unknown one).
  const commands: Record<string, () => unknown> = {
    create: () =>
      createFlags(program.command('create <id>').description('create a container'))
        .action(action(program, 'create', async (g, id: string, o) => (await import('./commands/create')).create(g, id, o))),
    run: () =>
      createFlags(program.command('run <id>').description('create and start a container, and wait for it'))
        .option('-d, --detach', 'detach from the container', false)
        .action(action(program, 'run', async (g, id: string, o) => (await import('./commands/run')).run(g, id, o))),
    start: () =>
      program
        .command('start <id>')
        .description('start a created container')
        .action(action(program, 'start', async (g, id: string) => (await import('./commands/start')).start(g, id))),
    exec: () =>
      program
        .command('exec <id> [command...]')
        .description('run a new process in a running container')
        .passThroughOptions()
        .option('-p, --process <file>', 'path to a process.json (instead of COMMAND and the flags below)')
        .option('-d, --detach', 'detach from the process', false)
        .option('--pid-file <file>', 'write the process id to this file')
        .option('--console-socket <path>', 'unix socket that receives the pty master (with --tty --detach)')
        .option('-t, --tty', 'allocate a pseudo-TTY', false)
        .option('--cwd <dir>', 'working directory in the container')
        .option('-e, --env <KEY=value>', 'set an environment variable (repeatable)', collect(String), [])
        .option('-u, --user <uid[:gid]>', 'user (and group) ids to run as')
        .option('-g, --additional-gids <gid>', 'an additional group id (repeatable)', collect(nonNegativeInt), [])
        .option('-c, --cap <capability>', 'add a capability to the bounding, effective and permitted sets (repeatable)', collect(String), [])
        .option('--no-new-privs', 'set no_new_privs for the process')
        .option('--apparmor <profile>', 'AppArmor profile for the process')
        .option('--process-label <label>', 'SELinux label for the process')
        .option('--preserve-fds <n>', 'pass this many extra fds (from 3) to the process', nonNegativeInt, 0)
        .option('--ignore-paused', 'exec even if the container is paused', false)
        .action(action(program, 'exec', async (g, id: string, command: string[], o) => (await import('./commands/exec')).exec(g, id, command, o), 255)),
    state: () =>
      program
        .command('state <id>')
        .description('print the state of a container as JSON')
        .action(action(program, 'state', async (g, id: string) => (await import('./commands/state')).state(g, id))),
    kill: () =>
      program
        .command('kill <id> [signal]')
        .description('send a signal (default SIGTERM) to the container init')
        .option('-a, --all', 'send the signal to every process in the container', false)
        .action(action(program, 'kill', async (g, id: string, sig: string | undefined, o) => (await import('./commands/kill')).kill(g, id, sig ?? 'SIGTERM', o))),
    delete: () =>
      program
        .command('delete <id>')
        .description('delete a container and everything it holds')
        .option('-f, --force', 'kill the container first if it is running', false)
        .action(action(program, 'delete', async (g, id: string, o) => (await import('./commands/delete')).del(g, id, o))),
    pause: () =>
      program
        .command('pause <id>')
        .description('suspend every process of the container')
        .action(action(program, 'pause', async (g, id: string) => (await import('./commands/pause')).pause(g, id))),
    resume: () =>
      program
        .command('resume <id>')
        .description('resume the processes of a paused container')
        .action(action(program, 'resume', async (g, id: string) => (await import('./commands/pause')).resume(g, id))),
    ps: () =>
      program
        .command('ps <id> [psArgs...]')
        .description("list the container's processes (options after the id go to ps(1); default -ef)")
        .option('-f, --format <format>', 'table or json (an array of pids)', 'table')
        .passThroughOptions()
        .action(action(program, 'ps', async (g, id: string, psArgs: string[], o) => (await import('./commands/ps')).ps(g, id, psArgs, o))),
    events: () =>
      program
        .command('events <id>')
        .description('print resource usage statistics and OOM events as JSON lines')
        .option('--interval <duration>', 'the stats collection interval', '5s')
        .option('--stats', "print the container's stats once, then exit", false)
        .action(action(program, 'events', async (g, id: string, o) => (await import('./commands/events')).events(g, id, o))),
    update: () => {
      const update = program
        .command('update <id>')
        .description('update the resource limits of a running container')
        .option('-r, --resources <file>', "a LinuxResources JSON file, or - for stdin (then every other flag is ignored)")
        .option('--blkio-weight <n>', 'block I/O weight, 10 to 1000')
        .option('--cpu-period <us>', 'CPU CFS period (microseconds)')
        .option('--cpu-quota <us>', 'CPU CFS quota per period (microseconds, -1 for none)')
        .option('--cpu-burst <us>', 'CPU CFS burst (microseconds)')
        .option('--cpu-share <n>', 'CPU shares (relative weight)')
        .option('--cpu-rt-period <us>', 'CPU realtime period (microseconds)')
        .option('--cpu-rt-runtime <us>', 'CPU realtime runtime per period (microseconds)')
        .option('--cpu-idle <0|1>', 'SCHED_IDLE for the cgroup (1) or not (0)')
        .option('--cpuset-cpus <list>', 'CPUs to use, e.g. 0-2,4')
        .option('--cpuset-mems <list>', 'memory nodes to use')
        .option('--memory <size>', 'memory limit, e.g. 100M (-1: unlimited)')
        .option('--memory-reservation <size>', 'memory soft limit')
        .option('--memory-swap <size>', 'memory plus swap limit (-1: unlimited swap)')
        .option('--pids-limit <n>', 'maximum number of processes (-1: unlimited)');
      for (const flag of ['--kernel-memory <size>', '--kernel-memory-tcp <size>'])
        update.addOption(new Option(flag, 'ignored: current kernels do not limit kernel memory').hideHelp());
      update.action(action(program, 'update', async (g, id: string, o) => (await import('./commands/update')).update(g, id, o)));
    },
    list: () =>
      program
        .command('list')
        .description('list containers')
        .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
        .option('-q, --quiet', 'print only the ids', false)
        .action(action(program, 'list', async (g, o) => (await import('./commands/list')).list(g, o))),
    spec: () =>
      program
        .command('spec')
        .description('write a default config.json')
        .option('-b, --bundle <dir>', 'where to write config.json', '.')
        .option('--rootless', 'a config for a container run by an unprivileged user', false)
        .action(action(program, 'spec', async (_g, o) => (await import('./commands/spec')).spec(o))),
    features: () =>
      program
        .command('features')
        .description('print what this runtime supports (runtime-spec features.md)')
        .action(action(program, 'features', async () => (await import('./commands/features')).features())),
    validate: () =>
      program
        .command('validate')
        .description('check a bundle\'s config.json and print every problem')
        .option('-b, --bundle <dir>', 'path to the bundle directory', '.')
        .action(action(program, 'validate', async (_g, o) => (await import('./commands/validate')).validate(o))),
  };
  const word = commandWord(argv);
  for (const [name, register] of Object.entries(commands)) if (!(word && Object.hasOwn(commands, word)) || name === word) register();

  program.parseAsync(argv, { from: 'user' });
}
