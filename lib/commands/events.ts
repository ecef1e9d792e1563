// `events`: with --stats one stats document, else a stream at --interval of stats events
// and an "oom" event each time the OOM killer kills in the container's cgroup, until the
// container stops. Lines are runc's: {"type":"stats","id":ID,"data":{...}} and
// {"type":"oom","id":ID}.
//
// OOM kills are found by polling the cgroup's kill counter (v2 memory.events oom_kill, v1
// memory.oom_control oom_kill) every OOM_POLL_MS, so an event is printed at most that long
// after the kill; runc is notified by the kernel (eventfd/inotify) instead.
import type { GlobalOptions } from '../cli';
import { statsJson } from '../cgroups/stats';
import { Container } from '../container';
import { CapsaError } from '../errors';
import * as log from '../log';
import { out } from '../output';

const OOM_POLL_MS = 100;

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

/** A Go duration ("5s", "1m30s", "250ms", "1.5h") in milliseconds. */
export function parseDuration(text: string): number {
  const bad = () => new CapsaError('events', 'invalid duration (examples: 5s, 500ms, 1m30s)', JSON.stringify(text));
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw bad();
  let ms = 0;
  const re = /^(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/; // µs, μs: Go accepts both
  while (s.length) {
    const m = re.exec(s);
    if (!m) throw bad();
    ms += Number(m[1]) * (UNITS[m[2] as string] as number);
    s = s.slice(m[0].length);
  }
  return sign * ms;
}

export async function events(g: GlobalOptions, id: string, o: { interval: string; stats: boolean }): Promise<void> {
  const interval = parseDuration(o.interval);
  if (interval <= 0) throw new CapsaError('events', 'duration interval must be greater than 0');
  const c = Container.load(g.root, id);
  const emit = (type: string, data?: unknown) => out(statsJson(data === undefined ? { type, id } : { type, id, data }) + '\n');
  if (o.stats) return emit('stats', c.stats());
  // Refuses a stopped container before anything is printed.
  c.stats();
  const cg = c.cgroup();
  let ooms = cg.oomKillCount();
  let nextStats = Date.now() + interval;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (;;) {
    await sleep(Math.max(0, Math.min(OOM_POLL_MS, nextStats - Date.now())));
    const n = cg.oomKillCount();
    for (; ooms < n; ooms++) emit('oom');
    if (c.status() === 'stopped') return;
    if (Date.now() >= nextStats) {
      nextStats += interval;
      try {
        emit('stats', cg.stats());
      } catch (e) {
        // As runc: a failed collection is logged and the stream goes on.
        log.error((e as Error).message);
      }
    }
  }
}
