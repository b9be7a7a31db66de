/**
 * The live event stream (`/api/events` through the panel host): one WebSocket for the whole app,
 * reconnected with backoff when the server restarts. Pages subscribe with `useEvents`.
 */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import type { AdminEvent, AdminEventType } from '../../../server/admin/schemas.ts';

export type { AdminEvent, AdminEventType };

type Listener = (event: AdminEvent) => void;
/** 'idle': no page on screen follows live events, so no stream is wanted (nothing is wrong). */
export type StreamState = 'idle' | 'connecting' | 'open' | 'closed';

const listeners = new Set<Listener>();
const stateListeners = new Set<() => void>();
let socket: WebSocket | null = null;
let state: StreamState = 'idle';
let retryMs = 500;
let retryTimer: ReturnType<typeof setTimeout> | null = null;

function setState(next: StreamState): void {
  state = next;
  for (const listener of stateListeners) listener();
}

function connect(): void {
  if (socket || listeners.size === 0) return;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/events`;
  const ws = new WebSocket(url, ['mallard.events']);
  socket = ws;
  setState('connecting');
  ws.onopen = () => {
    retryMs = 500;
    setState('open');
  };
  // A socket closed when the last page stopped following (unsubscribe) may still deliver or report
  // its close after the next page opened a new one: it then speaks for nobody. Otherwise its close
  // would drop the new socket and reconnect beside it, and every event would arrive twice.
  ws.onmessage = (message) => {
    if (socket !== ws) return;
    let event: AdminEvent;
    try {
      event = JSON.parse(String(message.data)) as AdminEvent;
    } catch {
      return;
    }
    for (const listener of [...listeners]) listener(event);
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    if (listeners.size === 0) return setState('idle');
    setState('closed');
    // The server restarts under the supervisor: come back when it does, without hammering it.
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  };
}

/** Follows every event until the returned function is called (useEvents is the way for pages). */
export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  connect();
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      socket?.close();
      socket = null;
      setState('idle');
    }
  };
}

/** Calls `handler` for every event of the given types (all types when none are given). */
export function useEvents(handler: (event: AdminEvent) => void, types?: readonly AdminEventType[]): void {
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  const key = types?.join(',') ?? '';
  useEffect(() => {
    const wanted = key === '' ? null : new Set(key.split(','));
    return subscribe((event) => {
      if (!wanted || wanted.has(event.type)) handlerRef.current(event);
    });
  }, [key]);
}

/** Whether the live stream is connected, for a small indicator. */
export function useStreamState(): StreamState {
  return useSyncExternalStore(
    (onChange) => {
      stateListeners.add(onChange);
      return () => stateListeners.delete(onChange);
    },
    () => state,
  );
}
