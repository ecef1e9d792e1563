// Terminals on capsa's side. With --console-socket the caller gets the pty master (from
// capsa-init, over the socket) and capsa has nothing more to do. A foreground run or exec with
// a terminal and no socket is runc's tty.go: capsa receives the master itself, puts the host
// terminal in raw mode, copies both ways, passes window size changes on and restores the
// host terminal at the end.
import { closeSync, writeSync } from 'node:fs';
import { CapsaError } from './errors';
import { native } from './native';

/** runc's rules (and words) for --console-socket, `terminal` and detaching. */
export function checkTerminal(terminal: boolean, detach: boolean, consoleSocket: string | undefined): void {
  if (detach && terminal && !consoleSocket)
    throw new CapsaError('console', 'cannot allocate tty if capsa will detach without setting console socket');
  if ((!detach || !terminal) && consoleSocket)
    throw new CapsaError('console', 'cannot use console socket if capsa will not detach or allocate tty');
}

export class HostConsole {
  private readonly stop: [number, number];
  private readonly done: Promise<void>;

  private constructor(
    private readonly master: number,
    /** The host terminal, if any of stderr, stdout, stdin is one (runc's order). */
    private readonly host: number | undefined,
    private readonly saved: Buffer | null,
  ) {
    const n = native();
    this.stop = n.socketpair();
    this.resize();
    this.done = n.proxyConsole(master, 0, 1, this.stop[1]);
  }

  /** Takes over `master`: raw mode on the host terminal, and the copying starts. */
  static attach(master: number): HostConsole {
    const n = native();
    const host = [2, 1, 0].find((fd) => n.getWinsize(fd) !== null);
    return new HostConsole(master, host, host !== undefined ? n.makeRaw(host) : null);
  }

  /** The host terminal's size onto the pty (at start and on SIGWINCH). */
  readonly resize = (): void => {
    if (this.host === undefined) return;
    const n = native();
    const ws = n.getWinsize(this.host);
    try {
      if (ws) n.setWinsize(this.master, ws.rows, ws.cols);
    } catch {
      // the pty is gone: nothing left to resize
    }
  };

  /** The process exited: copies what it left in flight, then restores the host terminal. */
  async detach(): Promise<void> {
    writeSync(this.stop[0], 'x');
    try {
      await this.done;
    } finally {
      if (this.saved && this.host !== undefined) native().restoreTermios(this.host, this.saved);
      for (const fd of [...this.stop, this.master]) closeSync(fd);
    }
  }
}
