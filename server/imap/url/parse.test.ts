import { describe, expect, it } from 'vitest';
import { parseImapUrl, UrlError } from './parse.ts';

describe('parseImapUrl', () => {
  it.each([
    [
      '/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME',
      { server: null, mailbox: 'Drafts', uidValidity: 385759045, uid: 20, section: '1.MIME', partial: null },
    ],
    [';UID=7', { server: null, mailbox: null, uidValidity: null, uid: 7, section: null, partial: null }],
    [
      'imap://fred%40example.com;AUTH=*@Mail.Example.com:993/a/b%C3%A9/;uid=3/;PARTIAL=10.20',
      {
        server: { user: 'fred@example.com', host: 'mail.example.com', port: 993 },
        mailbox: 'a/bé',
        uid: 3,
        partial: { offset: 10, length: 20 },
      },
    ],
    [
      '/inbox/;UID=1/;SECTION=HEADER.FIELDS%20(FROM%20TO)',
      { mailbox: 'INBOX', section: 'HEADER.FIELDS (FROM TO)' },
    ],
  ])('reads %s', (text, expected) => {
    expect(parseImapUrl(text)).toMatchObject({ ...expected, auth: null });
  });

  it('reads the URLAUTH tail and keeps the rump the token covers (RFC 4467)', () => {
    const text =
      'imap://joe@example.com/INBOX/;uid=20/;section=1.2;EXPIRE=2026-12-31T23:59:59Z;urlauth=submit+fred:internal:91354a473744909de610943775f92038';
    expect(parseImapUrl(text).auth).toEqual({
      expire: new Date('2026-12-31T23:59:59Z'),
      access: 'submit+fred',
      mechanism: 'INTERNAL',
      token: '91354a473744909de610943775f92038',
      rump: 'imap://joe@example.com/INBOX/;uid=20/;section=1.2;EXPIRE=2026-12-31T23:59:59Z;urlauth=submit+fred',
    });
    expect(parseImapUrl('/INBOX/;UID=1;URLAUTH=anonymous').auth).toMatchObject({
      access: 'anonymous',
      token: null,
    });
  });

  it.each([
    '',
    'http://example.com/',
    '/INBOX',
    '/INBOX;UIDVALIDITY=1',
    '/INBOX/;UID=0',
    '/INBOX/;UID=99999999999',
    '/INBOX/;UID=1/;PARTIAL=1.0',
    '/INBOX/;UID=1/;SECTION=1/extra',
    '/%ZZ/;UID=1',
    ';SECTION=1',
    '/INBOX/;UID=1;URLAUTH=nobody',
    '/INBOX/;UID=1;EXPIRE=2026-12-31;URLAUTH=anonymous',
  ])('refuses %j', (text) => {
    expect(() => parseImapUrl(text)).toThrow(UrlError);
  });
});
