import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { StoreError } from '../store/errors.ts';
import { classifyDeliveryError, mailboxFull, singleReply, type RecipientOutcome } from './replies.ts';

const log = createLogger('silent');
const ok = (address: string): RecipientOutcome => ({ ok: true, address, uid: 1 });
const failed = (address: string, error: unknown): RecipientOutcome => {
  const failure = classifyDeliveryError(log, error, {});
  return { ok: false, address, temporary: failure.temporary, reply: failure.reply(address) };
};

describe('classifyDeliveryError', () => {
  it.each([
    ['OVERQUOTA', 552, '5.2.2', false],
    ['NONEXISTENT', 550, '5.1.1', false],
    ['CANNOT', 550, '5.2.1', false],
    ['INVALID', 554, '5.6.0', false],
    ['UNAVAILABLE', 451, '4.3.0', true],
    ['LIMIT', 451, '4.3.0', true],
  ] as const)('maps %s to %i %s', (code, reply, status, temporary) => {
    const failure = classifyDeliveryError(log, new StoreError(code, 'details'), {});
    expect(failure.temporary).toBe(temporary);
    expect(failure.reply('a@b')).toMatchObject({ code: reply, status });
    expect(failure.reply('a@b').text).toMatch(/^<a@b>: /);
    expect(failure.reply('a@b').text).not.toContain('details');
  });

  it('treats an unexpected error as temporary, with a reference and no details', () => {
    const failure = classifyDeliveryError(log, new Error('secret internals'), {});
    expect(failure.temporary).toBe(true);
    expect(failure.reply('a@b').text).toMatch(/\(ref [0-9a-f]{8}\)$/);
    expect(failure.reply('a@b').text).not.toContain('secret');
  });
});

describe('singleReply (SMTP after DATA)', () => {
  const quota = new StoreError('OVERQUOTA', 'full');
  const down = new StoreError('UNAVAILABLE', 'down');

  it('accepts when every delivery succeeded', () => {
    expect(singleReply([ok('a'), ok('b')], 'id1')).toEqual({
      code: 250,
      status: '2.0.0',
      text: 'Ok: delivered as id1',
    });
  });

  it('asks for a retry when any delivery failed temporarily, even if others succeeded', () => {
    expect(singleReply([ok('a'), failed('b', down)], 'id')).toMatchObject({ code: 451, status: '4.3.0' });
    expect(singleReply([failed('a', quota), failed('b', down)], 'id')).toMatchObject({ code: 451 });
  });

  it('refuses with the first permanent failure when nobody got the message', () => {
    expect(singleReply([failed('a', quota), failed('b', new StoreError('NONEXISTENT', 'x'))], 'id')).toEqual(
      mailboxFull('a'),
    );
  });

  it('accepts when some got it and the rest failed permanently', () => {
    expect(singleReply([ok('a'), failed('b', quota)], 'id')).toMatchObject({ code: 250 });
  });
});
