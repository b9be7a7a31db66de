/**
 * ENVELOPE (RFC 3501 7.4.2) and its address lists. Broken addresses follow Dovecot's conventions
 * (MISSING_MAILBOX, MISSING_DOMAIN, SYNTAX_ERROR), which clients have long been shown.
 */
import { describe, expect, it } from 'vitest';
import { parseAddressList } from './address.ts';
import { indexMessage } from './index.ts';
import { formatNested } from './test-support.ts';

const envelope = (header: string): string =>
  formatNested(indexMessage(Buffer.from(`${header.replace(/\n/g, '\r\n')}\r\n\r\nbody`, 'latin1')).envelope);
const addresses = (value: string): string => formatNested(parseAddressList(value));

describe('ENVELOPE', () => {
  it('lists the fields in RFC 3501 order', () => {
    const header = [
      'Message-ID: <id@x>',
      'In-Reply-To: <parent@x>',
      'Bcc: bcc@x.org',
      'Cc: cc@x.org',
      'To: to@x.org',
      'Reply-To: reply@x.org',
      'Sender: sender@x.org',
      'From: from@x.org',
      'Subject: hello',
      'Date: Mon, 9 Jun 2025 10:00:00 +0000',
    ].join('\n');
    expect(envelope(header)).toBe(
      '("Mon, 9 Jun 2025 10:00:00 +0000" "hello" ((NIL NIL "from" "x.org")) ((NIL NIL "sender" "x.org")) ' +
        '((NIL NIL "reply" "x.org")) ((NIL NIL "to" "x.org")) ((NIL NIL "cc" "x.org")) ((NIL NIL "bcc" "x.org")) ' +
        '"<parent@x>" "<id@x>")',
    );
  });

  it('is all NIL without a header, and defaults sender and reply-to to from', () => {
    expect(envelope('X-Other: 1')).toBe('(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
    expect(envelope('From: a@b.c\nSender:\nReply-To: ')).toBe(
      '(NIL NIL ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) NIL NIL NIL NIL NIL)',
    );
  });

  it('keeps strings as written: unfolded, encoded words raw, an empty value as ""', () => {
    expect(envelope('Subject: =?utf-8?q?caf=C3=A9?=\n\tmenu\nMessage-ID:')).toBe(
      '(NIL "=?utf-8?q?caf=C3=A9?=\tmenu" NIL NIL NIL NIL NIL NIL NIL "")',
    );
  });

  it('drops stray CRs and turns NULs into U+FFFD, which no IMAP string can carry', () => {
    expect(envelope('Subject: a\rb\0c')).toContain('"ab\ufffdc"');
  });

  it('uses the last of repeated fields, as Dovecot does', () => {
    expect(envelope('Subject: first\nSubject: second')).toContain('"second"');
  });

  it('shows 8-bit headers as UTF-8, or as latin1 when they are not valid UTF-8', () => {
    expect(envelope('Subject: Gr\xc3\xbc\xc3\x9fe')).toContain('"Grüße"');
    expect(envelope('Subject: Gr\xfc\xdfe')).toContain('"Grüße"');
  });
});

describe('address lists', () => {
  it('parses name-addr and addr-spec forms', () => {
    expect(addresses('Alice <alice@example.org>, bob@example.org')).toBe(
      '(("Alice" NIL "alice" "example.org") (NIL NIL "bob" "example.org"))',
    );
  });

  it('unquotes quoted names and joins phrase words with one space', () => {
    expect(addresses('"Smith, John \\"JJ\\"" <j@x.org>, Mary   Ann  Lee <m@x.org>')).toBe(
      '(("Smith, John \\"JJ\\"" NIL "j" "x.org") ("Mary Ann Lee" NIL "m" "x.org"))',
    );
  });

  it('names an addr-spec by its trailing comment and ignores other comments', () => {
    expect(addresses('user@domain (Real Name)')).toBe('(("Real Name" NIL "user" "domain"))');
    expect(addresses('Name (comment) <a@b.c> (trailing)')).toBe('(("Name" NIL "a" "b.c"))');
  });

  it('keeps a source route as the adl, without its colon', () => {
    expect(addresses('<@relay1.org,@relay2.org:user@dest.org>')).toBe(
      '((NIL "@relay1.org,@relay2.org" "user" "dest.org"))',
    );
  });

  it('writes groups with start and end markers', () => {
    expect(addresses('Friends: a@x.org, B <b@x.org>;, c@x.org, Empty:;')).toBe(
      '((NIL NIL "Friends" NIL) (NIL NIL "a" "x.org") ("B" NIL "b" "x.org") (NIL NIL NIL NIL) ' +
        '(NIL NIL "c" "x.org") (NIL NIL "Empty" NIL) (NIL NIL NIL NIL))',
    );
  });

  it('closes a group that lacks its ";"', () => {
    expect(addresses('Team: a@x.org')).toBe('((NIL NIL "Team" NIL) (NIL NIL "a" "x.org") (NIL NIL NIL NIL))');
  });

  it('keeps a quoted local part unquoted and a domain literal as written', () => {
    expect(addresses('"john doe"@[192.0.2.1]')).toBe('((NIL NIL "john doe" "[192.0.2.1]"))');
  });

  it('fills in what is missing as Dovecot does', () => {
    expect(addresses('user')).toBe('((NIL NIL "user" "MISSING_DOMAIN"))');
    expect(addresses('John Smith')).toBe('(("John Smith" NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))');
    expect(addresses('Smith, John <j@x.org>')).toBe(
      '((NIL NIL "Smith" "MISSING_DOMAIN") ("John" NIL "j" "x.org"))',
    );
    expect(addresses('<>')).toBe('((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))');
    expect(addresses('Name <broken@>, next@x.org')).toBe(
      '(("Name" NIL "broken" "SYNTAX_ERROR") (NIL NIL "next" "x.org"))',
    );
  });

  it('keeps encoded words raw and gives no address for an empty value', () => {
    expect(addresses('=?utf-8?q?J=C3=B6rg?= <j@x.de>')).toBe('(("=?utf-8?q?J=C3=B6rg?=" NIL "j" "x.de"))');
    expect(parseAddressList('  ')).toEqual([]);
    expect(parseAddressList('(just a comment)')).toEqual([]);
  });

  it('skips empty list entries and stops at garbage', () => {
    expect(addresses('a@x.org,, ,b@x.org')).toBe('((NIL NIL "a" "x.org") (NIL NIL "b" "x.org"))');
    expect(addresses('a@x.org <<< b@x.org')).toBe('((NIL NIL "a" "x.org"))');
  });
});
