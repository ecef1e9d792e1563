// The command word of a capsa command line: the first plain word, past the values of the
// global options (`capsa --root /run/x --log-format json state ID` → "state"). Shared by
// dist/boot.js (which code cache to load) and the CLI (which command to register).
const GLOBAL_WITH_VALUE = new Set(['--root', '--log', '--log-format']);

export function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (GLOBAL_WITH_VALUE.has(argv[i])) i++;
    else if (/^[a-z]{1,16}$/.test(argv[i])) return argv[i];
  }
  return undefined;
}
