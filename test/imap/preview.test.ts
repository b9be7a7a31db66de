/**
 * PREVIEW (RFC 8970): FETCH PREVIEW and PREVIEW (LAZY) over real messages: a plain text cut to 256
 * characters with white space collapsed, the text/plain alternative preferred, HTML stripped of
 * tags, styles and entities, a message with only an attachment previewed as "", and a bad
 * modifier refused with BAD. The rule is in server/mime/preview.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, newAccount } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => closeClients());
afterAll(() => server.stop());

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));

const LONG = `${'word '.repeat(60)}\r\n\r\nsecond   paragraph\r\n${'x'.repeat(300)}`;
const MESSAGES = [
  crlf(['Subject: plain', '', LONG, '']),
  crlf([
    'Subject: alternative',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary=b',
    '',
    '--b',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>HTML version</p>',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Caf=C3=A9 at noon?',
    '--b--',
    '',
  ]),
  crlf([
    'Subject: html',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><head><style>p { color: red }</style></head><body><!-- hidden -->',
    '<p>Fish &amp; chips &lt;today&gt;&#33;</p><script>alert(1)</script></body></html>',
    '',
  ]),
  crlf([
    'Subject: attachment only',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary=m',
    '',
    '--m',
    'Content-Type: application/pdf',
    'Content-Disposition: attachment; filename=a.pdf',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0=',
    '--m--',
    '',
  ]),
];

describe('PREVIEW', () => {
  it('previews the first text, as RFC 8970 asks', async () => {
    const account = await newAccount(server);
    const inbox = (await server.server.store.getMailbox(account.userId, 'INBOX'))!;
    for (const raw of MESSAGES) await server.server.store.append(inbox.id, raw);
    const client = await loggedIn(account);
    expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* PREVIEW( |\r\n)/m);
    await client.command('s', 'EXAMINE INBOX');
    const expected = `${'word '.repeat(60)}second paragraph ${'x'.repeat(300)}`.slice(0, 256);
    expect(await client.command('A1', 'FETCH 1 (PREVIEW)')).toBe(
      `* 1 FETCH (PREVIEW "${expected}")\r\nA1 OK FETCH completed\r\n`,
    );
    expect(await client.command('A2', 'FETCH 1 (PREVIEW (LAZY))')).toBe(
      `* 1 FETCH (PREVIEW "${expected}")\r\nA2 OK FETCH completed\r\n`,
    );
    const cafe = Buffer.from('Café at noon?').toString('latin1');
    expect(await client.command('A3', 'FETCH 2 PREVIEW')).toBe(
      `* 2 FETCH (PREVIEW {${cafe.length}}\r\n${cafe})\r\nA3 OK FETCH completed\r\n`,
    );
    expect(await client.command('A4', 'FETCH 3:4 (UID PREVIEW)')).toBe(
      '* 3 FETCH (UID 3 PREVIEW "Fish & chips <today>!")\r\n* 4 FETCH (UID 4 PREVIEW "")\r\nA4 OK FETCH completed\r\n',
    );
    expect(await client.command('A5', 'FETCH 1 (PREVIEW (FUZZY))')).toMatch(/^A5 BAD /m);
  });
});
