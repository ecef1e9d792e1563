// What the engine tests need from capsa that may not be there yet: commands land on main
// from other branches, and a scenario that needs one skips, naming it, until it does.
import { spawnSync } from 'node:child_process';
import { CAPSA } from './capsa';

let commands: Set<string> | undefined;

/** Why a scenario needing `capsa <command>` cannot run, or undefined when it can. */
export function capsaLacks(command: string): string | undefined {
  if (!commands) {
    const help = spawnSync(CAPSA, ['--help'], { encoding: 'utf8' }).stdout.split(/^Commands:$/m)[1] ?? '';
    commands = new Set([...help.matchAll(/^ {2}(\w+)/gm)].map((m) => m[1]));
  }
  return commands.has(command) ? undefined : `capsa ${command} has not landed yet`;
}
