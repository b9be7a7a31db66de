/** How a session is named in confirmations and titles. */
import type { Session } from '../../api/sessions.ts';

export function sessionName(session: Pick<Session, 'protocol' | 'user' | 'remoteAddress'>): string {
  const who = session.user ?? 'not logged in';
  return `${session.protocol.toUpperCase()} session of ${who} from ${session.remoteAddress}`;
}

/** Seconds since the session started, at `now`. */
export function ageSeconds(session: Pick<Session, 'startedAt'>, now: number): number {
  return Math.max(0, (now - new Date(session.startedAt).getTime()) / 1000);
}
