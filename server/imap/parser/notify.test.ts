import { describe, expect, it } from 'vitest';
import { ParseError } from './errors.ts';
import { parse } from './test-helpers.ts';

describe('NOTIFY (RFC 5465)', () => {
  it('reads NOTIFY NONE', () => {
    expect(parse('a NOTIFY none')).toEqual({ tag: 'a', name: 'NOTIFY', status: false, groups: null });
  });

  it('reads the RFC example with STATUS, MessageNew FETCH items and a subtree', () => {
    expect(
      parse(
        'a notify set status (selected (MessageNew (uid body.peek[header.fields (from to subject)]) MessageExpunge)) (subtree Lists (MessageNew MessageExpunge))',
      ),
    ).toMatchObject({
      name: 'NOTIFY',
      status: true,
      groups: [
        {
          filter: { kind: 'selected', delayed: false },
          events: [
            {
              name: 'MessageNew',
              fetch: [
                { kind: 'attribute', name: 'UID' },
                {
                  kind: 'body',
                  peek: true,
                  section: { text: 'HEADER.FIELDS', fields: ['FROM', 'TO', 'SUBJECT'] },
                },
              ],
            },
            { name: 'MessageExpunge', fetch: null },
          ],
        },
        {
          filter: { kind: 'subtree', mailboxes: ['Lists'] },
          events: [{ name: 'MessageNew' }, { name: 'MessageExpunge' }],
        },
      ],
    });
  });

  it('reads every filter, mailbox lists, NONE, and event names in any case', () => {
    const parsed = parse(
      'a NOTIFY SET (selected-delayed NONE) (inboxes (mailboxname)) (personal (SUBSCRIPTIONCHANGE)) (subscribed (FlagChange)) (mailboxes (INBOX "A b" {1}\r\nc) (ServerMetadataChange x-Later))',
    );
    expect(parsed).toEqual({
      tag: 'a',
      name: 'NOTIFY',
      status: false,
      groups: [
        { filter: { kind: 'selected', delayed: true }, events: [] },
        { filter: { kind: 'inboxes' }, events: [{ name: 'MailboxName', fetch: null }] },
        { filter: { kind: 'personal' }, events: [{ name: 'SubscriptionChange', fetch: null }] },
        { filter: { kind: 'subscribed' }, events: [{ name: 'FlagChange', fetch: null }] },
        {
          filter: { kind: 'mailboxes', mailboxes: ['INBOX', 'A b', 'c'] },
          events: [
            { name: 'ServerMetadataChange', fetch: null },
            { name: 'x-Later', fetch: null },
          ],
        },
      ],
    });
  });

  it.each([
    ['a NOTIFY', 'Missing SET or NONE'],
    ['a NOTIFY GET (personal (MailboxName))', 'Expected SET or NONE, found GET'],
    ['a NOTIFY SET', 'Missing event groups'],
    ['a NOTIFY SET STATUS', 'Missing event groups'],
    ['a NOTIFY SET personal', 'Expected event group'],
    ['a NOTIFY SET (personal)', 'Expected a space before events'],
    ['a NOTIFY SET (everywhere (MailboxName))', 'Unknown mailbox filter EVERYWHERE'],
    ['a NOTIFY SET (subtree (MailboxName))', 'Expected'],
    ['a NOTIFY SET (personal ())', 'Empty event list'],
    ['a NOTIFY SET (personal (MailboxName)', 'Missing ) after the events'],
    ['a NOTIFY SET (personal (MailboxName))  (inboxes NONE)', 'Expected event group'],
    ['a NOTIFY SET (selected (MessageNew () MessageExpunge))', 'Empty fetch attribute list'],
    ['a NOTIFY NONE (personal (MailboxName))', 'Unexpected extra arguments'],
  ])('%s is a syntax error: %s', (text, message) => {
    const parsed = parse(text);
    expect(parsed).toBeInstanceOf(ParseError);
    expect((parsed as ParseError).message).toContain(message);
  });
});
