/**
 * Quitting waits for the panel host to close: the supervised server gets SIGTERM, says BYE to its
 * sessions and closes the store, and only then does the app exit. Electron's 'before-quit' cannot
 * wait for a promise, so the first one is cancelled, the close runs, and quit() is called again.
 * Plain Node (no Electron) so that it is tested directly.
 */

export type QuitPhase = 'running' | 'closing' | 'closed';

export interface QuitCoordinatorOptions {
  /** Closes everything the app runs (host.close()). */
  close: () => Promise<void>;
  /** Quits for real (app.quit()); 'before-quit' fires again and is then let through. */
  quit: () => void;
  /** After this long the app quits even if close() has not finished (the supervisor SIGKILLs at 10 s). */
  timeoutMs: number;
  log?: (message: string) => void;
}

export interface QuitCoordinator {
  readonly phase: QuitPhase;
  /** The 'before-quit' listener. */
  beforeQuit(event: { preventDefault(): void }): void;
  /** Resolves once closing has finished (or timed out). */
  readonly closed: Promise<void>;
}

export function createQuitCoordinator(options: QuitCoordinatorOptions): QuitCoordinator {
  let phase: QuitPhase = 'running';
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const log = options.log ?? (() => {});

  async function closeThenQuit(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
    });
    try {
      const outcome = await Promise.race([options.close().then(() => 'done' as const), timedOut]);
      if (outcome === 'timeout') log(`closing took longer than ${options.timeoutMs} ms; quitting anyway`);
    } catch (error) {
      log(`closing failed: ${(error as Error).message}; quitting anyway`);
    } finally {
      clearTimeout(timer);
    }
    phase = 'closed';
    markClosed();
    options.quit();
  }

  return {
    get phase() {
      return phase;
    },
    closed,
    beforeQuit(event) {
      if (phase === 'closed') return;
      event.preventDefault();
      if (phase === 'closing') return;
      phase = 'closing';
      void closeThenQuit();
    },
  };
}
