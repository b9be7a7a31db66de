/**
 * The live session list: seeded from GET /api/sessions, kept current by the event stream, and
 * re-read every few seconds for what events do not carry (byte counts between updates). A re-read
 * that started before an event arrived must not undo it, so recently opened sessions survive a stale
 * list and recently closed ones are not brought back by it.
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useEvents, type AdminEvent } from '../../api/events.ts';
import { sessionsApi, type Session } from '../../api/sessions.ts';

const GRACE_MS = 5_000;
const REFRESH_MS = 5_000;

export const SESSIONS_KEY = ['sessions'] as const;

export function useLiveSessions() {
  const query = useQuery({ queryKey: SESSIONS_KEY, queryFn: sessionsApi.list, refetchInterval: REFRESH_MS });
  const [sessions, setSessions] = useState<Map<string, Session>>(new Map());
  const openedAt = useRef(new Map<string, number>());
  const closedAt = useRef(new Map<string, number>());

  useEffect(() => {
    if (!query.data) return;
    const now = Date.now();
    setSessions((current) => {
      const next = new Map<string, Session>();
      for (const session of query.data) {
        const closed = closedAt.current.get(session.id);
        if (closed === undefined || now - closed > GRACE_MS) next.set(session.id, session);
      }
      for (const [id, session] of current) {
        const opened = openedAt.current.get(id);
        if (!next.has(id) && opened !== undefined && now - opened < GRACE_MS) next.set(id, session);
      }
      return next;
    });
    for (const [id, at] of openedAt.current) if (now - at > GRACE_MS) openedAt.current.delete(id);
    for (const [id, at] of closedAt.current) if (now - at > GRACE_MS) closedAt.current.delete(id);
  }, [query.data, query.dataUpdatedAt]);

  useEvents(
    (event: AdminEvent) => {
      setSessions((current) => apply(current, event, openedAt.current, closedAt.current));
    },
    [
      'session.opened',
      'session.authenticated',
      'session.command',
      'session.idle',
      'session.updated',
      'session.closed',
    ],
  );

  return { sessions: [...sessions.values()], query };
}

function patch(current: Map<string, Session>, id: string, change: Partial<Session>): Map<string, Session> {
  const session = current.get(id);
  if (!session) return current;
  const next = new Map(current);
  next.set(id, { ...session, ...change });
  return next;
}

function apply(
  current: Map<string, Session>,
  event: AdminEvent,
  openedAt: Map<string, number>,
  closedAt: Map<string, number>,
): Map<string, Session> {
  switch (event.type) {
    case 'session.opened':
    case 'session.updated': {
      if (closedAt.has(event.data.id)) return current;
      if (event.type === 'session.opened') openedAt.set(event.data.id, Date.now());
      const next = new Map(current);
      next.set(event.data.id, event.data);
      return next;
    }
    case 'session.authenticated':
      return patch(current, event.data.id, { user: event.data.user, userId: event.data.userId });
    case 'session.command':
      return patch(current, event.data.id, {
        command: event.data.command,
        commands: event.data.commands,
        lastActivityAt: event.at,
      });
    case 'session.idle':
      return patch(current, event.data.id, { idle: event.data.idle, lastActivityAt: event.at });
    case 'session.closed': {
      closedAt.set(event.data.id, Date.now());
      openedAt.delete(event.data.id);
      if (!current.has(event.data.id)) return current;
      const next = new Map(current);
      next.delete(event.data.id);
      return next;
    }
    case 'rule.verdict':
    case 'auth.alert':
    case 'delivery':
    case 'delivery.refused':
    case 'spam.learned':
    case 'certificate.changed':
    case 'acme.changed':
    case 'status':
      return current;
  }
}
