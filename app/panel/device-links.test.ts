import { describe, expect, it } from 'vitest';
import { DEVICE_LINK_TTL_MS, DEVICE_SESSION_MS, DeviceLinks } from './device-links.ts';

const KIM = { id: 'u1', address: 'kim@example.org' };

describe('device links', () => {
  it('work once, for that user, within 15 minutes', () => {
    let now = 1_000_000;
    const links = new DeviceLinks(() => now);
    const { code, expiresAt } = links.create(KIM);
    expect(Date.parse(expiresAt)).toBe(now + DEVICE_LINK_TTL_MS);
    now += DEVICE_LINK_TTL_MS - 1;
    const used = links.use(code);
    expect(used).toMatchObject({ ok: true, user: KIM });
    expect(links.userOf(used.session)).toEqual(KIM);
    expect(links.use(code)).toEqual({ ok: false, reason: 'unknown' });
    // The device session ends too.
    now += DEVICE_SESSION_MS;
    expect(links.userOf(used.session)).toBeNull();
  });

  it('expire after 15 minutes, and say so', () => {
    let now = 0;
    const links = new DeviceLinks(() => now);
    const { code } = links.create(KIM);
    now += DEVICE_LINK_TTL_MS;
    expect(links.use(code)).toEqual({ ok: false, reason: 'expired' });
    expect(links.use(code)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('may live shorter than 15 minutes, never longer', () => {
    let now = 0;
    const links = new DeviceLinks(() => now);
    const short = links.create(KIM, 2_000);
    expect(Date.parse(short.expiresAt)).toBe(2_000);
    const long = links.create(KIM, 10 * DEVICE_LINK_TTL_MS);
    expect(Date.parse(long.expiresAt)).toBe(DEVICE_LINK_TTL_MS);
    now = 2_000;
    expect(links.use(short.code)).toEqual({ ok: false, reason: 'expired' });
    expect(links.use(long.code)).toMatchObject({ ok: true, user: KIM });
  });

  it('know no made-up code or session', () => {
    const links = new DeviceLinks();
    expect(links.use('guess')).toEqual({ ok: false, reason: 'unknown' });
    expect(links.userOf('guess')).toBeNull();
    expect(links.userOf(undefined)).toBeNull();
  });
});
