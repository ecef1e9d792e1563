// commander loads child_process at start-up for subcommand executables, which capsa does not
// use, and loading it costs ~6 ms; the bundle maps it to this stand-in that loads it on use.
let real: typeof import('node:child_process') | undefined;

module.exports = new Proxy(
  {},
  {
    get: (_, key: string) => (real ??= process.getBuiltinModule('node:child_process'))[key as keyof typeof real],
  },
);
