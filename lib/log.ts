// Logging as runc does it: with --log FILE, lines go to the file (--log-format text|json);
// errors also go to stderr. containerd reads the JSON lines back and shows the last error.
import { appendFileSync } from 'node:fs';
import { err } from './output';
import { isoTime } from './time';

export type Level = 'debug' | 'info' | 'warning' | 'error';

export interface LogOptions {
  file?: string;
  format: 'text' | 'json';
  debug: boolean;
}

let options: LogOptions = { format: 'text', debug: false };

export function configureLog(o: LogOptions): void {
  options = o;
}

function line(level: Level, msg: string): string {
  const time = isoTime();
  if (options.format === 'json') return JSON.stringify({ level, msg, time }) + '\n';
  return `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

function write(level: Level, msg: string): void {
  if (!options.file) return;
  try {
    appendFileSync(options.file, line(level, msg));
  } catch {
    // A log that cannot be written must not turn success into failure.
  }
}

export function debug(msg: string): void {
  if (!options.debug) return;
  write('debug', msg);
  if (!options.file) err(`capsa: debug: ${msg}\n`);
}

export function warn(msg: string): void {
  write('warning', msg);
  err(`capsa: warning: ${msg}\n`);
}

export function error(msg: string): void {
  write('error', msg);
  err(`capsa: ${msg}\n`);
}
