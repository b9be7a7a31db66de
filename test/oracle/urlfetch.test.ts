/**
 * The extended URLFETCH oracle (RFC 5524): Debian's Dovecot 2.3 (with `imap_urlauth_host` and an
 * attribute dict for its URLAUTH keys) and Mallard get the same message, make the same `authuser`
 * URLAUTH URLs with GENURLAUTH, and answer the same URLFETCH forms: the metadata items
 * (BODYPARTSTRUCTURE, BINARY decoded, BODY as stored, literal8 for NUL) must match byte for byte.
 *
 * Compared one URL per command, after the URL: the URLs differ by design (each server's own
 * token), Dovecot writes them as atoms and Mallard as quoted strings, and Dovecot answers a
 * command of several URLs with one response each where Mallard puts them in one (both are RFC 4467
 * URLFETCH responses). The literal form is not compared either: Dovecot sends BINARY data as a
 * literal8 `~{n}` whenever it is not 7-bit, Mallard only when it holds NUL, as its FETCH BINARY does
 * (see test/oracle/dovecot.test.ts). BINARY of the whole message differs by design, as for FETCH
 * BINARY[]: Dovecot decodes every part inside, Mallard returns the message as stored; it is left
 * out (its BODYPARTSTRUCTURE is compared with BODY). The URLs are the user's own: Dovecot 2.3 fetches another user's URL through
 * its imap-urlauth service, whose login process failed an assertion in this setup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

const AVAILABLE = dovecotAvailable();
if (!AVAILABLE) console.warn('URLFETCH oracle: skipped — Dovecot is not installed');

const USER = 'urlfetch@example.test';
const PASSWORD = 'urlfetch password';
const MESSAGE = [
  'From: joe@example.com',
  'Subject: parts',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain; charset=utf-8; format=flowed',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Caf=C3=A9 ou th=C3=A9?',
  '--b',
  'Content-Type: application/octet-stream; name="f.bin"',
  'Content-Disposition: attachment; filename="f.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECQQ0K/w==',
  '--b',
  'Content-Type: message/rfc822',
  '',
  'From: inner@example.com',
  'Subject: inner',
  '',
  'Inner body.',
  '--b--',
  '',
].join('\r\n');

/** Sections of the message, and the URLFETCH forms asked of each. */
const SECTIONS = ['1', '2', '3', '3.1', '2.MIME', ''];
const FORMS = ['(URL BINARY BODYPARTSTRUCTURE)', '(URL BODY BODYPARTSTRUCTURE)', '(URL)', 'URL'];

async function login(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readUntil(/^\* OK/);
  expect(await client.command('l', `LOGIN ${USER} "${PASSWORD}"`)).toMatch(/^l OK/m);
  client.send(`a APPEND INBOX {${MESSAGE.length}+}\r\n${MESSAGE}\r\n`);
  expect(await client.readUntil(/^a (OK|NO|BAD)/m)).toMatch(/^a OK/m);
  return client;
}

/** GENURLAUTH for `authuser` of a section of UID 1; the URL (atom or quoted string). */
async function generate(client: LineClient, section: string): Promise<string> {
  const rump = `imap://${encodeURIComponent(USER)}@localhost/INBOX/;UID=1${section ? `/;SECTION=${section}` : ''};URLAUTH=authuser`;
  const answer = await client.command('g', `GENURLAUTH "${rump}" INTERNAL`);
  const url = /^\* GENURLAUTH "?([^"\r\n]+)"?\r\n/m.exec(answer);
  if (!url) throw new Error(`no GENURLAUTH response: ${answer}`);
  return url[1]!;
}

/** The URLFETCH answer after the URL, as latin1 text (literals included, literal8 as literal). */
async function fetched(client: LineClient, url: string, form: string): Promise<string> {
  const answer = await client.command('u', `URLFETCH ${form.replace('URL', `"${url}"`)}`);
  const start = answer.indexOf(url) + url.length + (answer.includes(`"${url}"`) ? 1 : 0);
  return answer.slice(start, answer.search(/^u (OK|NO|BAD)/m)).replace(/ ~\{(\d+)\}\r\n/, ' {$1}\r\n');
}

describe.skipIf(!AVAILABLE)('oracle: extended URLFETCH answers as Dovecot does', () => {
  let dovecot: DovecotServer;
  let mallard: TestServer;
  let dovecotClient: LineClient;
  let mallardClient: LineClient;

  beforeAll(async () => {
    dovecot = await startDovecot(
      [[USER, PASSWORD]],
      'imap_urlauth_host = localhost\nmail_attribute_dict = file:%h/dovecot-attributes\n',
    );
    mallard = await startTestServer();
    await mallard.addUser(USER, PASSWORD);
    dovecotClient = await login(dovecot.port);
    mallardClient = await login(mallard.imapPort);
  }, 60_000);
  afterAll(async () => {
    dovecotClient?.close();
    mallardClient?.close();
    await mallard?.stop();
    await dovecot?.stop();
  });

  it('both advertise URLAUTH=BINARY', async () => {
    for (const client of [dovecotClient, mallardClient]) {
      expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* URLAUTH=BINARY( |\r\n)/m);
    }
  });

  it.each(SECTIONS)('section %j: every form gives the same data', async (section) => {
    const dovecotUrl = await generate(dovecotClient, section);
    const mallardUrl = await generate(mallardClient, section);
    for (const form of FORMS.filter((item) => section !== '' || !item.includes('BINARY'))) {
      const expected = await fetched(dovecotClient, dovecotUrl, form);
      expect(expected, `${form} of section ${section}`).toMatch(/^ /);
      expect(await fetched(mallardClient, mallardUrl, form), `${form} of section ${section}`).toBe(expected);
    }
  });
});
