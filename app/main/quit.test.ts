import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createQuitCoordinator } from './quit.ts';

/** An Electron-like 'before-quit' event: records whether quitting was cancelled. */
function quitEvent() {
  const event = { prevented: false, preventDefault: () => void (event.prevented = true) };
  return event;
}

describe('quitting waits for the host to close', () => {
  it('cancels the first quit, closes once, then quits and lets that quit through', async () => {
    const steps: string[] = [];
    let finishClose!: () => void;
    const coordinator = createQuitCoordinator({
      close: () => {
        steps.push('close');
        return new Promise<void>((resolve) => (finishClose = resolve));
      },
      quit: () => steps.push('quit'),
      timeoutMs: 5000,
    });
    const first = quitEvent();
    coordinator.beforeQuit(first);
    expect(first.prevented).toBe(true);
    expect(coordinator.phase).toBe('closing');

    // Quit clicked again while the server is still stopping: still waits, no second close.
    const again = quitEvent();
    coordinator.beforeQuit(again);
    expect(again.prevented).toBe(true);
    await sleep(20);
    expect(steps).toEqual(['close']);

    finishClose();
    await coordinator.closed;
    expect(steps).toEqual(['close', 'quit']);
    expect(coordinator.phase).toBe('closed');

    const last = quitEvent();
    coordinator.beforeQuit(last);
    expect(last.prevented).toBe(false);
  });

  it('quits even when closing fails, and says why', async () => {
    const logged: string[] = [];
    let quits = 0;
    const coordinator = createQuitCoordinator({
      close: async () => {
        throw new Error('store is locked');
      },
      quit: () => quits++,
      timeoutMs: 5000,
      log: (message) => logged.push(message),
    });
    coordinator.beforeQuit(quitEvent());
    await coordinator.closed;
    expect(quits).toBe(1);
    expect(logged).toEqual(['closing failed: store is locked; quitting anyway']);
  });

  it('quits after the timeout when closing hangs', async () => {
    const logged: string[] = [];
    let quits = 0;
    const started = Date.now();
    const coordinator = createQuitCoordinator({
      close: () => new Promise<void>(() => {}),
      quit: () => quits++,
      timeoutMs: 150,
      log: (message) => logged.push(message),
    });
    coordinator.beforeQuit(quitEvent());
    await coordinator.closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(quits).toBe(1);
    expect(logged).toEqual(['closing took longer than 150 ms; quitting anyway']);
  });
});
