/**
 * Puts the connection rules' verdicts on the event bus: wraps the hooks the protocols get, and
 * publishes a `rule.verdict` event for each connect and login decision (allowed or refused, with
 * the reason sent to the client). The runner does not say which rule decided; the per-rule
 * counters of GET /api/rules do. Everything else passes straight through.
 */
import type { ConnectionHooks, ConnectionSession, ConnectVerdict } from '../hooks/types.ts';
import type { EventBus } from './events.ts';

export function observeHooks(hooks: ConnectionHooks, events: EventBus): ConnectionHooks {
  const publish = (
    phase: 'connect' | 'auth',
    session: ConnectionSession,
    username: string | null,
    verdict: ConnectVerdict,
  ) =>
    events.publish('rule.verdict', {
      phase,
      protocol: session.protocol,
      sessionId: session.id,
      remoteAddress: session.remoteAddress,
      username,
      allow: verdict.allow,
      reason: verdict.allow ? null : verdict.reason,
    });
  const observed: ConnectionHooks = {
    onConnect: (session) =>
      hooks.onConnect(session).then(
        (verdict) => {
          publish('connect', session, null, verdict);
          return verdict;
        },
        (error: unknown) => {
          publish('connect', session, null, { allow: false, reason: 'the connection rules failed' });
          throw error;
        },
      ),
    onClose: (session) => hooks.onClose(session),
  };
  if (hooks.onAuthFailure) {
    const onAuthFailure = hooks.onAuthFailure.bind(hooks);
    observed.onAuthFailure = (session, username) => onAuthFailure(session, username);
  }
  if (hooks.releaseAuthAttempt) {
    const release = hooks.releaseAuthAttempt.bind(hooks);
    observed.releaseAuthAttempt = (session, username) => release(session, username);
  }
  if (hooks.requiresTls) {
    const requiresTls = hooks.requiresTls.bind(hooks);
    observed.requiresTls = (session) => requiresTls(session);
  }
  if (hooks.checkAuthAllowed) {
    const check = hooks.checkAuthAllowed.bind(hooks);
    observed.checkAuthAllowed = (session, username) =>
      check(session, username).then((verdict) => {
        publish('auth', session, username, verdict);
        return verdict;
      });
  }
  return observed;
}
