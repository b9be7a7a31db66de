import { describe, expect, it, vi } from 'vitest';
import type { ConnectionHooks, ConnectionSession } from '../hooks/types.ts';
import { EventBus } from './events.ts';
import { observeHooks } from './hook-events.ts';
import type { AdminEvent } from './schemas.ts';

const session: ConnectionSession = {
  id: 's1',
  protocol: 'pop3',
  remoteAddress: '198.51.100.4',
  remotePort: 4000,
  localPort: 110,
  secure: false,
  user: null,
  openedAt: new Date(),
};

describe('observeHooks', () => {
  it('publishes connect and login verdicts and passes everything through', async () => {
    const events = new EventBus();
    const seen: AdminEvent[] = [];
    events.subscribe((event) => seen.push(event));
    const inner: Required<ConnectionHooks> = {
      onConnect: vi.fn(async () => ({ allow: true as const })),
      onClose: vi.fn(),
      onAuthFailure: vi.fn(),
      checkAuthAllowed: vi.fn(async () => ({ allow: false as const, reason: 'Too many failed logins' })),
      releaseAuthAttempt: vi.fn(),
      requiresTls: vi.fn(() => true),
    };
    const hooks = observeHooks(inner, events);
    expect(await hooks.onConnect(session)).toEqual({ allow: true });
    expect(await hooks.checkAuthAllowed!(session, 'eve@example.test')).toMatchObject({ allow: false });
    hooks.onAuthFailure!(session, 'eve@example.test');
    hooks.releaseAuthAttempt!(session, 'eve@example.test');
    expect(hooks.requiresTls!(session)).toBe(true);
    hooks.onClose(session);
    expect(inner.onAuthFailure).toHaveBeenCalledWith(session, 'eve@example.test');
    expect(inner.releaseAuthAttempt).toHaveBeenCalledWith(session, 'eve@example.test');
    expect(inner.onClose).toHaveBeenCalledWith(session);
    expect(seen.map((event) => event.data)).toEqual([
      expect.objectContaining({
        phase: 'connect',
        protocol: 'pop3',
        allow: true,
        reason: null,
        sessionId: 's1',
      }),
      expect.objectContaining({
        phase: 'auth',
        username: 'eve@example.test',
        allow: false,
        reason: 'Too many failed logins',
      }),
    ]);
  });

  it('keeps optional hooks absent and reports a failing rule set as a refusal', async () => {
    const events = new EventBus();
    const seen: AdminEvent[] = [];
    events.subscribe((event) => seen.push(event));
    const hooks = observeHooks(
      { onConnect: () => Promise.reject(new Error('store down')), onClose: () => {} },
      events,
    );
    expect(hooks.checkAuthAllowed).toBeUndefined();
    expect(hooks.onAuthFailure).toBeUndefined();
    await expect(hooks.onConnect(session)).rejects.toThrow('store down');
    expect(seen[0]!.data).toMatchObject({ allow: false });
  });
});
