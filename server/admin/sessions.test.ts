import { describe, expect, it, vi } from 'vitest';
import { EventBus } from './events.ts';
import type { AdminEvent } from './schemas.ts';
import { clientNameOf, SessionRegistry, type SessionOpenInfo } from './sessions.ts';

function setup() {
  const events = new EventBus();
  const seen: AdminEvent[] = [];
  events.subscribe((event) => seen.push(event));
  return { registry: new SessionRegistry(events), seen };
}

const info = (id: string, extra: Partial<SessionOpenInfo> = {}): SessionOpenInfo => ({
  id,
  protocol: 'imap',
  remoteAddress: '192.0.2.1',
  remotePort: 50000,
  localPort: 143,
  secure: false,
  ...extra,
});

describe('SessionRegistry', () => {
  it('tracks a session from open to close, publishing what changed', () => {
    const { registry, seen } = setup();
    const handle = registry.open(info('a'));
    expect(registry.get('a')).toMatchObject({ id: 'a', user: null, commands: 0, idle: false, tls: null });
    handle.command('login');
    expect(registry.get('a')).toMatchObject({ command: 'LOGIN', commands: 1 });
    handle.update({ command: null, user: { id: '7', username: 'ann@example.test' }, clientName: 'Mail 1' });
    handle.update({ mailbox: 'INBOX' });
    handle.update({ mailbox: 'INBOX' }); // no change: no event
    handle.update({ idle: true });
    handle.update({ secure: true, tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } });
    handle.addBytes(10, 200);
    expect(registry.get('a')).toMatchObject({
      user: 'ann@example.test',
      userId: '7',
      clientName: 'Mail 1',
      mailbox: 'INBOX',
      idle: true,
      secure: true,
      tls: { version: 'TLSv1.3' },
      bytesIn: 10,
      bytesOut: 200,
      command: null,
    });
    expect(registry.counts()).toEqual({ imap: 1, pop3: 0, lmtp: 0, smtp: 0, submission: 0, managesieve: 0 });
    handle.close();
    handle.close();
    expect(registry.get('a')).toBeNull();
    expect(seen.map((event) => event.type)).toEqual([
      'session.opened',
      'session.command',
      'session.authenticated',
      'session.updated', // client name
      'session.updated', // mailbox
      'session.idle',
      'session.updated', // TLS
      'session.closed',
    ]);
    expect(seen.at(-1)!.data).toMatchObject({
      bytesIn: 10,
      bytesOut: 200,
      commands: 1,
      user: 'ann@example.test',
    });
  });

  it('shows command names only, never what a client typed after them', () => {
    const { registry } = setup();
    const handle = registry.open(info('b'));
    handle.command('UID FETCH');
    expect(registry.get('b')!.command).toBe('UID FETCH');
    handle.command('LOGIN alice secret');
    expect(registry.get('b')!.command).toBe('UNKNOWN');
    handle.command('x'.repeat(100));
    expect(registry.get('b')!.command).toBe('UNKNOWN');
  });

  it('reads byte counts from a probe when given one, keeping the last figures when it fails', () => {
    const { registry, seen } = setup();
    let figures: { in: number; out: number } | null = { in: 5, out: 6 };
    const handle = registry.open(
      info('c', {
        protocol: 'smtp',
        bytes: () => {
          if (!figures) throw new Error('gone');
          return figures;
        },
      }),
    );
    expect(registry.get('c')).toMatchObject({ bytesIn: 5, bytesOut: 6 });
    figures = { in: 50, out: 60 };
    handle.close();
    figures = null;
    expect(seen.at(-1)).toMatchObject({ type: 'session.closed', data: { bytesIn: 50, bytesOut: 60 } });
  });

  it('kicks one session through its close function, leaving the others', async () => {
    const { registry } = setup();
    const closeA = vi.fn();
    const closeB = vi.fn();
    const a = registry.open(info('a', { close: closeA }));
    const b = registry.open(info('b', { close: closeB }));
    a.update({ user: { id: '1', username: 'u@example.test' } });
    b.update({ user: { id: '1', username: 'u@example.test' } });
    expect(await registry.kick('a')).toBe(true);
    expect(closeA).toHaveBeenCalledWith('Session closed by the administrator');
    expect(closeB).not.toHaveBeenCalled();
    expect(await registry.kick('nope')).toBe(false);
    registry.open(info('c')); // no close function: cannot be kicked
    expect(await registry.kick('c')).toBe(false);
    expect(registry.ofUser('1').map((session) => session.id)).toEqual(['a', 'b']);
    expect(await registry.kickUser('1', 'Account deleted')).toBe(2);
    expect(closeB).toHaveBeenCalledWith('Account deleted');
  });

  it('does not wait for ever on a session that does not close', async () => {
    const { registry } = setup();
    registry.open(info('slow', { close: () => new Promise<void>(() => {}) }));
    const started = Date.now();
    expect(await registry.kick('slow', 'bye', 50)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('works without an event bus', () => {
    const registry = new SessionRegistry();
    const handle = registry.open(info('d'));
    handle.command('NOOP');
    handle.close();
    expect(registry.size).toBe(0);
  });
});

describe('clientNameOf', () => {
  it('joins name and version from IMAP ID', () => {
    expect(clientNameOf({ name: 'Thunderbird', version: '128.0' })).toBe('Thunderbird 128.0');
    expect(clientNameOf({ name: 'K-9', version: null })).toBe('K-9');
    expect(clientNameOf({ vendor: 'x' })).toBeNull();
    expect(clientNameOf(null)).toBeNull();
  });
});

describe('EventBus', () => {
  it('drops a subscriber that throws and keeps the others', () => {
    const bus = new EventBus();
    const good = vi.fn();
    bus.subscribe(() => {
      throw new Error('broken');
    });
    bus.subscribe(good);
    bus.publish('certificate.changed', { action: 'created', id: 'x' });
    bus.publish('certificate.changed', { action: 'removed', id: 'x' });
    expect(good).toHaveBeenCalledTimes(2);
    expect(bus.size).toBe(1);
  });
});
