/**
 * The dashboard's live figures: connection counts per protocol, uptime and deliveries from the
 * `status` event the server sends every few seconds, kept current between ticks by session
 * open/close events, and a bounded ring of samples (connections, commands per minute) for the chart.
 * The store lives at module level so the chart keeps its history when the user comes back to the
 * dashboard; only the dashboard feeds it (one subscription, so no event is counted twice).
 */
import { useSyncExternalStore } from 'react';
import { useEvents, type AdminEvent } from '../../api/events.ts';
import type { ConnectionCounts, StatusJson } from '../../api/status.ts';

/** 15 minutes of samples at the server's default 5 s status interval. */
export const SAMPLE_CAPACITY = 180;

export interface Sample {
  /** Unix seconds (uPlot's time unit). */
  t: number;
  /** The most open at once since the previous sample; null marks a gap (the dashboard was not shown). */
  connections: number | null;
  commandsPerMinute: number | null;
}

/** Longer than this between samples means the feed was off: a gap, not a slow minute. */
const GAP_MS = 20_000;

export interface LiveSnapshot {
  counts: ConnectionCounts | null;
  uptimeSeconds: number | null;
  /** When uptimeSeconds was read (ms), so the uptime can tick between events. */
  uptimeAt: number;
  /** When the counts were last set (ms), so older data from a cache does not overwrite newer. */
  countsAt: number;
  delivered: StatusJson['delivered'] | null;
  /** Today's deliveries from the store's history (every process, the CLI); null while unknown. */
  today: StatusJson['today'];
  samples: readonly Sample[];
  commandsTotal: number;
  version: number;
}

const ring: Sample[] = [];
let pendingCommands = 0;
let lastSampleAt = 0;
/** The most connections open at once since the last sample: a client that came and went shows. */
let peak = 0;
let snapshot: LiveSnapshot = {
  counts: null,
  uptimeSeconds: null,
  uptimeAt: 0,
  countsAt: 0,
  delivered: null,
  today: null,
  samples: [],
  commandsTotal: 0,
  version: 0,
};
const listeners = new Set<() => void>();

function publish(next: Partial<LiveSnapshot>): void {
  snapshot = { ...snapshot, ...next, version: snapshot.version + 1 };
  for (const listener of listeners) listener();
}

function total(counts: ConnectionCounts): number {
  return counts.imap + counts.pop3 + counts.lmtp + counts.smtp + counts.submission;
}

function pushSample(now: number, counts: ConnectionCounts): void {
  const gap = lastSampleAt !== 0 && now - lastSampleAt > GAP_MS;
  if (gap) ring.push({ t: lastSampleAt / 1000 + 1, connections: null, commandsPerMinute: null });
  const elapsed = lastSampleAt === 0 || gap ? 0 : (now - lastSampleAt) / 1000;
  // Commands seen since the previous sample, as a rate so a changed tick interval keeps the scale.
  const rate = elapsed > 0 ? Math.round((pendingCommands / elapsed) * 60 * 10) / 10 : 0;
  const current = total(counts);
  ring.push({ t: now / 1000, connections: Math.max(peak, current), commandsPerMinute: rate });
  if (ring.length > SAMPLE_CAPACITY) ring.splice(0, ring.length - SAMPLE_CAPACITY);
  peak = current;
  pendingCommands = 0;
  lastSampleAt = now;
}

/**
 * Seeds the figures from `GET /api/status` when the dashboard loads (the stream may already be open,
 * so no fresh `status` event comes at once). `fetchedAt` keeps a cached answer from overwriting
 * newer counts from events.
 */
export function seedFromStatus(status: StatusJson, fetchedAt: number): void {
  if (fetchedAt <= snapshot.countsAt) return;
  if (ring.length === 0 || fetchedAt - lastSampleAt > 2_000) pushSample(fetchedAt, status.connections);
  publish({
    counts: status.connections,
    countsAt: fetchedAt,
    uptimeSeconds: status.uptimeSeconds,
    uptimeAt: fetchedAt,
    delivered: status.delivered,
    today: status.today,
    samples: [...ring],
  });
}

function onEvent(event: AdminEvent): void {
  const now = Date.now();
  if (event.type === 'status') {
    pushSample(now, event.data.connections);
    publish({
      counts: event.data.connections,
      countsAt: now,
      uptimeSeconds: event.data.uptimeSeconds,
      uptimeAt: now,
      delivered: event.data.delivered,
      today: event.data.today,
      samples: [...ring],
    });
  } else if (event.type === 'session.command') {
    pendingCommands++;
    publish({ commandsTotal: snapshot.commandsTotal + 1 });
  } else if ((event.type === 'session.opened' || event.type === 'session.closed') && snapshot.counts) {
    // Between status ticks the counts follow the sessions, so a new client shows at once.
    const protocol = event.data.protocol;
    const change = event.type === 'session.opened' ? 1 : -1;
    const counts = { ...snapshot.counts, [protocol]: Math.max(0, snapshot.counts[protocol] + change) };
    peak = Math.max(peak, total(counts));
    publish({ counts, countsAt: now });
  }
}

const FED_TYPES = ['status', 'session.command', 'session.opened', 'session.closed'] as const;

/** Call once, in the dashboard page: subscribes the store to the event stream while it is shown. */
export function useLiveMetricsFeed(): void {
  useEvents(onEvent, FED_TYPES);
}

export function useLiveMetrics(): LiveSnapshot {
  return useSyncExternalStore(
    (onChange) => {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    () => snapshot,
  );
}

/** After a restart the old figures describe a process that is gone. */
export function resetLiveMetrics(): void {
  ring.length = 0;
  pendingCommands = 0;
  lastSampleAt = 0;
  peak = 0;
  publish({ counts: null, countsAt: 0, uptimeSeconds: null, delivered: null, today: null, samples: [] });
}
