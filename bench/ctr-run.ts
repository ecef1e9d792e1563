// `ctr run --rm IMAGE ID true` with capsa against the same with runc, on a private containerd
// (the engine tests' set-up), interleaved, N runs each after a warm-up; then where the time
// goes: every runtime call the shim made, timed by a wrapper around the binary; then
// `ctr tasks exec ID true` into a running container (what a probe costs), both runtimes.
// Usage (root): node dist/bench/ctr-run.js [N=10]
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAPSA } from '../test/helpers/capsa';
import { Containerd, which } from '../test/helpers/containerd';
import { IMAGE } from '../test/helpers/image';

const N = Number(process.argv[2] ?? 10);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => x.toFixed(1).padStart(7);

async function main(): Promise<void> {
  const runc = which('runc');
  if (!runc) throw new Error('needs runc');
  const ctd = new Containerd('bench');
  try {
    await ctd.start();
    ctd.importImages();
    const log = join(ctd.dir, 'calls.log');
    // The wrapper logs "<binary> <command> <ms>" per call; it costs one sh and two dates.
    const wrap = (name: string, bin: string) => {
      const w = join(ctd.dir, `wrap-${name}`);
      writeFileSync(w, `#!/bin/sh
s=$(date +%s%N); "${bin}" "$@"; rc=$?; e=$(date +%s%N)
cmd=""; for a in "$@"; do case "$a" in create|start|delete|kill|state|features|exec|ps|pause|resume|update) cmd="$cmd$a "; break;; esac; done
[ "$cmd" = "delete " ] && case " $* " in *" --force "*) cmd="delete --force ";; esac
echo "${name} $cmd$(( (e - s) / 1000 ))" >> "${log}"; exit $rc
`);
      chmodSync(w, 0o755);
      return w;
    };
    const runtimes = { capsa: CAPSA, runc };
    const times: Record<string, number[]> = { capsa: [], runc: [], 'capsa (wrapped)': [], 'runc (wrapped)': [] };
    const once = (name: string, bin: string, i: number | string) => {
      const t0 = process.hrtime.bigint();
      const r = ctd.ctr(['run', '--rm', '--runc-binary', bin, '--runc-root', join(ctd.dir, `root-${name.replace(/\W/g, '')}`), IMAGE, `b-${name.replace(/\W/g, '')}-${i}`, 'true']);
      const dt = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
      return dt;
    };
    for (const [name, bin] of Object.entries(runtimes)) once(name, bin, 'warm');
    for (let i = 0; i < N; i++) for (const [name, bin] of Object.entries(runtimes)) times[name].push(once(name, bin, i));
    const wrapped = { 'capsa (wrapped)': wrap('capsa', CAPSA), 'runc (wrapped)': wrap('runc', runc) };
    for (let i = 0; i < N; i++) for (const [name, bin] of Object.entries(wrapped)) times[name].push(once(name, bin, i));

    process.stdout.write(`ctr run --rm ${IMAGE} ID true, ${N} runs each (ms)\n`);
    process.stdout.write(`${'runtime'.padEnd(18)}${'median'.padStart(7)}${'min'.padStart(8)}${'max'.padStart(8)}\n`);
    for (const [name, xs] of Object.entries(times))
      process.stdout.write(`${name.padEnd(18)}${ms(median(xs))} ${ms(Math.min(...xs))} ${ms(Math.max(...xs))}\n`);

    // Per runtime call: median ms over the wrapped runs.
    const calls = new Map<string, number[]>();
    for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
      const parts = line.split(' ');
      const us = Number(parts.pop());
      const key = parts.join(' ');
      calls.set(key, [...(calls.get(key) ?? []), us / 1000]);
    }
    process.stdout.write(`\nruntime calls made by the shim per run (median ms, wrapper included)\n`);
    for (const [key, xs] of [...calls].sort()) process.stdout.write(`${key.padEnd(30)}${ms(median(xs))}   x${xs.length / N}\n`);
    // Exec latency: one running container per runtime, N execs each, interleaved.
    const execs: Record<string, number[]> = { capsa: [], runc: [] };
    for (const [name, bin] of Object.entries(runtimes)) {
      const r = ctd.ctr(['run', '-d', '--runc-binary', bin, '--runc-root', join(ctd.dir, `root-${name}`), IMAGE, `exec-${name}`, 'sleep', '600']);
      if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
    }
    for (let i = 0; i < N; i++)
      for (const name of Object.keys(runtimes)) {
        const t0 = process.hrtime.bigint();
        const r = ctd.ctr(['tasks', 'exec', '--exec-id', `e${i}`, `exec-${name}`, 'true']);
        execs[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (r.status !== 0) throw new Error(`${name} exec: ${r.stderr}`);
      }
    process.stdout.write(`\nctr tasks exec ID true, ${N} each (ms)\n`);
    for (const [name, xs] of Object.entries(execs))
      process.stdout.write(`${name.padEnd(18)}${ms(median(xs))} ${ms(Math.min(...xs))} ${ms(Math.max(...xs))}\n`);

    process.stdout.write(`\nnode -e 0: ${ms(median(Array.from({ length: N }, () => { const t0 = process.hrtime.bigint(); execFileSync(process.execPath, ['-e', '0']); return Number(process.hrtime.bigint() - t0) / 1e6; })))} ms (median)\n`);
  } finally {
    await ctd.stop();
    rmSync(ctd.dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exitCode = 1;
});
