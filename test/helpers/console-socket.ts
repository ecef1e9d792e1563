// The other end of --console-socket, as containerd and conmon are: a listening unix socket
// that receives the pty master, and a reader that drives what runs on the pty.
import { closeSync, createReadStream, mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Native } from '../../lib/native/api';
import { addonPath } from '../../lib/paths';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const addon = require(addonPath) as Native;

export class ConsoleSocket {
  readonly path: string;
  private readonly dir: string;
  private readonly fd: number;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'capsa-console-'));
    this.path = join(this.dir, 'console.sock');
    this.fd = addon.listenUnix(this.path);
  }

  /** The pty master sent by capsa-init, and the name that came with it. Call once the
   *  command that connects (create, run -d, exec -d) has returned. */
  receive(): { fd: number; name: string } {
    return addon.recvFd(this.fd);
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Everything read from a pty master, and waiting for what is expected to appear. */
export class PtyReader {
  text = '';
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(readonly fd: number) {
    const s = createReadStream('', { fd, autoClose: false });
    s.on('data', (d) => this.update(() => (this.text += d.toString())));
    // EIO: nothing holds the other side any more.
    s.on('error', () => this.update(() => (this.closed = true)));
    s.on('end', () => this.update(() => (this.closed = true)));
  }

  private update(f: () => void): void {
    f();
    for (const w of this.waiters.splice(0)) w();
  }

  write(s: string): void {
    writeSync(this.fd, s);
  }

  /** Resolves with the text once `re` matches it; rejects after `ms`. */
  async waitFor(re: RegExp, ms = 10000): Promise<string> {
    const end = Date.now() + ms;
    while (!re.test(this.text)) {
      if (this.closed) throw new Error(`pty closed before ${re} appeared in ${JSON.stringify(this.text)}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${re} in ${JSON.stringify(this.text)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.text;
  }

  /** Resolves once the other side is gone (EIO). */
  async waitClosed(ms = 10000): Promise<string> {
    const end = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > end) throw new Error(`timed out waiting for the pty to close: ${JSON.stringify(this.text)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.text;
  }
}
