/**
 * The event bus behind the admin API's WebSocket stream (`/api/events`): protocols and the session
 * registry publish, subscribers (each open WebSocket) receive. Publishing is synchronous and cheap;
 * a subscriber must never block (the WebSocket one only queues bytes and drops slow consumers), so
 * nothing a subscriber does can slow the mail server. A subscriber that throws is removed.
 */
import type { AdminEvent, AdminEventType } from './schemas.ts';

export type EventListener = (event: AdminEvent) => void;

/** The payload of each event type, as published (the bus adds `type` and `at`). */
export type EventData<T extends AdminEventType> = Extract<AdminEvent, { type: T }>['data'];

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  /** Number of current subscribers. */
  get size(): number {
    return this.listeners.size;
  }

  /**
   * Called with the number of subscribers whenever it changes (the admin API in a worker of
   * `mallard serve` asks the other workers for their events only while someone listens).
   */
  onSubscribers: ((count: number) => void) | null = null;

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    this.onSubscribers?.(this.listeners.size);
    return () => {
      if (this.listeners.delete(listener)) this.onSubscribers?.(this.listeners.size);
    };
  }

  publish<T extends AdminEventType>(type: T, data: EventData<T>): void {
    if (this.listeners.size === 0) return;
    this.deliver({ type, at: new Date().toISOString(), data } as AdminEvent);
  }

  /** Passes on an event published elsewhere (another worker's), as it was. */
  deliver(event: AdminEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }
}
