// The hooks that run in the runtime's namespaces: prestart and createRuntime (during create),
// poststart (after the user's process started), poststop (on delete). createContainer and
// startContainer run inside the container, in capsa-init.
import { CapsaError } from './errors';
import * as log from './log';
import type { Hook } from './spec/types';
import type { StateDoc } from './state/status';

export type RuntimeHookKind = 'prestart' | 'createRuntime' | 'poststart' | 'poststop';

const FAILING_STEPS = new Set(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart'].map((k) => `${k} hook`));

/** True for the error of a failed hook that stops the container (all kinds but poststop),
 *  whether it ran here or in capsa-init (whose errors carry the same step names). */
export function isHookFailure(e: unknown): boolean {
  return e instanceof CapsaError && FAILING_STEPS.has(e.step);
}

/** Runs each hook in order with the state on stdin. A failure is an error, except for
 *  poststop hooks: the container is gone by then, so a warning, and the rest still run
 *  (runtime.md, lifecycle step 13). docs/compat.md says why poststart fails too. */
export function runHooks(kind: RuntimeHookKind, hooks: Hook[] | undefined, state: StateDoc): void {
  if (!hooks?.length) return;
  // Loaded only here: child_process costs several ms of start-up.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const input = JSON.stringify(state);
  for (const h of hooks) {
    const args = h.args?.length ? h.args : [h.path];
    const r = spawnSync(h.path, args.slice(1), {
      argv0: args[0],
      // Like runc: without an env of its own, a hook inherits the runtime's.
      env: h.env ? Object.fromEntries(h.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) : process.env,
      input,
      // Captured, not inherited: during create our stdout is the container's.
      stdio: 'pipe',
      timeout: h.timeout ? h.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
    });
    let why: string | undefined;
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') why = `killed after its timeout of ${h.timeout} s`;
    // EPIPE: the hook did not read its stdin, which is its business.
    else if (r.error && (r.error as NodeJS.ErrnoException).code !== 'EPIPE') why = r.error.message;
    else if (r.signal) why = `killed by ${r.signal}`;
    else if (r.status !== 0) why = `exited with status ${r.status}`;
    if (!why) continue;
    const output = [r.stdout, r.stderr].map((b) => b?.toString().trim()).filter(Boolean).join('\n');
    const err = new CapsaError(`${kind} hook`, why + (output ? `: ${output}` : ''), h.path);
    if (kind !== 'poststop') throw err;
    log.warn(err.message);
  }
}
