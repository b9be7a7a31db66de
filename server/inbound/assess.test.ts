import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { reply } from '../smtp/replies.ts';
import { assessMessage, policyRejection } from './assess.ts';
import type { CheckOutcome, InboundCheck, InboundMessage } from './types.ts';

const log = createLogger('silent', process.stderr);
const input: InboundMessage = {
  clientIp: '192.0.2.1',
  helo: 'client.example',
  reverseName: '',
  mailFrom: 'a@example.com',
  rcpts: ['b@example.org'],
  message: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
  secure: false,
  transactionId: 't-1',
};

const check = (name: string, outcome: CheckOutcome | (() => never)): InboundCheck => ({
  name,
  check: () => Promise.resolve(typeof outcome === 'function' ? outcome() : outcome),
});

describe('assessMessage', () => {
  it('accepts with nothing to add when there are no checks', async () => {
    expect(await assessMessage([], input, log)).toEqual({
      action: 'accept',
      prependHeaders: '',
      reasons: [],
      message: input.message,
    });
  });

  it('takes the strongest action, the first rejection reply, headers and reasons in order', async () => {
    const refusal = reply(550, '5.7.1', 'DMARC policy of example.com');
    const verdict = await assessMessage(
      [
        check('auth', { headers: 'A: 1\r\n', action: 'junk', reasons: ['dmarc=fail'] }),
        check('spam', { headers: 'B: 2\r\n', action: 'reject', reply: refusal, reasons: ['score 20'] }),
        check('late', { action: 'reject', reply: reply(554, '5.7.1', 'other') }),
        check('mild', { action: 'accept' }),
      ],
      input,
      log,
    );
    expect(verdict.action).toBe('reject');
    expect(verdict.reply).toEqual(refusal);
    expect(verdict.prependHeaders).toBe('A: 1\r\nB: 2\r\n');
    expect(verdict.reasons).toEqual(['dmarc=fail', 'score 20']);
  });

  it('gives later checks the earlier outcomes and the rewritten message', async () => {
    const cleaned = Buffer.from('Subject: y\r\n\r\n');
    const seen: Array<{ message: string; earlier: string[] }> = [];
    const spy: InboundCheck = {
      name: 'spy',
      check(message, earlier) {
        seen.push({ message: message.message.toString(), earlier: [...earlier.keys()] });
        return Promise.resolve({});
      },
    };
    const verdict = await assessMessage([check('auth', { message: cleaned }), spy], input, log);
    expect(seen).toEqual([{ message: 'Subject: y\r\n\r\n', earlier: ['auth'] }]);
    expect(verdict.message).toBe(cleaned);
  });

  it('skips a check that throws (mail is not lost) and says so; a bare reject gets 550 5.7.1', async () => {
    const verdict = await assessMessage(
      [
        check('broken', () => {
          throw new Error('boom');
        }),
        check('strict', { action: 'reject' }),
      ],
      input,
      log,
    );
    expect(verdict.reasons).toEqual(['broken: check failed']);
    expect(verdict.reply).toEqual(policyRejection);
  });
});

describe('assessMessage per recipient', () => {
  const two = { ...input, rcpts: ['alice@example.org', 'bob@example.org'] };

  it('gives each recipient the strongest of every check’s action for it', async () => {
    const verdict = await assessMessage(
      [
        check('auth', { action: 'accept' }),
        check('spam', {
          action: 'junk',
          recipientActions: new Map([
            ['alice@example.org', 'accept'],
            ['bob@example.org', 'junk'],
          ]),
        }),
      ],
      two,
      log,
    );
    expect(verdict.action).toBe('junk');
    expect(verdict.recipientActions).toEqual(
      new Map([
        ['alice@example.org', 'accept'],
        ['bob@example.org', 'junk'],
      ]),
    );
  });

  it('a recipient’s own accept does not undo another check’s junk (DMARC quarantine stays)', async () => {
    const verdict = await assessMessage(
      [
        check('auth', { action: 'junk', reasons: ['dmarc=fail policy=quarantine'] }),
        check('spam', { action: 'junk', recipientActions: new Map([['alice@example.org', 'accept']]) }),
      ],
      two,
      log,
    );
    expect(verdict.recipientActions).toEqual(
      new Map([
        ['alice@example.org', 'junk'],
        ['bob@example.org', 'junk'],
      ]),
    );
  });

  it('a rejection is for the whole message: no per-recipient actions then', async () => {
    const verdict = await assessMessage(
      [
        check('auth', { action: 'reject' }),
        check('spam', { action: 'accept', recipientActions: new Map([['alice@example.org', 'accept']]) }),
      ],
      two,
      log,
    );
    expect(verdict.action).toBe('reject');
    expect(verdict.recipientActions).toBeUndefined();
  });
});
