/**
 * The panel's event stream (events.ts) when one page stops following and the next
 * starts in the same render (every navigation between pages that follow events): the first socket
 * is closed and a second opened at once, and the first one's close or a late message arrives
 * after. Each event must reach the page once, over one socket. The browser's WebSocket is stood in
 * for by a class that records sockets and lets the test fire their events: this is about what the
 * module does with them, not about the network (the panel tests in Chromium cover that).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

class RecordedSocket {
  static all: RecordedSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;

  constructor(readonly url: string) {
    RecordedSocket.all.push(this);
  }

  close(): void {
    this.closed = true;
  }

  event(type: string): void {
    this.onmessage?.({ data: JSON.stringify({ type, at: '2026-01-01T00:00:00Z', data: {} }) });
  }
}

describe('the event stream across a change of page', () => {
  beforeAll(() => {
    vi.useFakeTimers();
    vi.stubGlobal('location', { protocol: 'http:', host: 'panel.test' });
    vi.stubGlobal('WebSocket', RecordedSocket);
  });
  afterAll(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("delivers each event once when the old socket's close and messages come late", async () => {
    const { subscribe } = await import('./events.ts');
    const leaving = subscribe(() => {});
    const [first] = RecordedSocket.all;
    first!.onopen?.();
    // The next page subscribes in the same commit, after the old one's cleanup.
    leaving();
    const seen: string[] = [];
    const stop = subscribe((event) => seen.push(event.type));
    expect(RecordedSocket.all).toHaveLength(2);
    const second = RecordedSocket.all[1]!;
    second.onopen?.();
    expect(first!.closed).toBe(true);
    // The old socket speaks last: a message in flight, then its close.
    first!.event('delivery');
    first!.onclose?.();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(RecordedSocket.all).toHaveLength(2); // no reconnect beside the open socket
    second.event('delivery');
    expect(seen).toEqual(['delivery']);
    // The live socket's own close still reconnects.
    second.onclose?.();
    await vi.advanceTimersByTimeAsync(1000);
    expect(RecordedSocket.all).toHaveLength(3);
    stop();
  });
});
