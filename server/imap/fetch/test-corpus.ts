/**
 * A small message corpus shared by the FETCH and SEARCH tests (not used by the server): a plain
 * message, a multipart with a quoted-printable text and a binary attachment, a forwarded
 * message/rfc822, encoded-word headers with a base64 UTF-8 body, and a part in an encoding nobody
 * decodes.
 */

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

/** Bytes of the attachment of MULTIPART: includes NUL and 8-bit bytes. */
export const ATTACHMENT = Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x41, 0x0d, 0x0a, 0x00, 0x42]);

export const PLAIN = crlf([
  'From: Alice Example <alice@example.org>',
  'To: Bob <bob@example.net>',
  'Subject: Hello world',
  'Date: Mon, 2 Jun 2025 23:30:00 -0700',
  'Message-ID: <plain-1@example.org>',
  'X-Colour: Vermilion',
  '',
  'The quick brown fox jumps over the lazy dog.',
  '',
]);

export const MULTIPART = crlf([
  'From: =?UTF-8?B?SsO8cmdlbg==?= <juergen@example.de>',
  'To: Alice <alice@example.org>',
  'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=',
  'Date: Tue, 3 Jun 2025 08:15:00 +0200',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  'preamble',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Das Caf=C3=A9 ist ge=',
  'schlossen.',
  '--b1',
  'Content-Type: application/octet-stream; name="data.bin"',
  'Content-Disposition: attachment; filename="data.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  ATTACHMENT.toString('base64'),
  '--b1--',
  '',
]);

export const FORWARD = crlf([
  'From: Carol <carol@example.com>',
  'To: Dan <dan@example.net>',
  'Cc: Team <team@example.org>',
  'Subject: Fwd: Minutes',
  'Date: Thu, 5 Jun 2025 14:30:00 +0100',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'See the forwarded message below.',
  '--outer',
  'Content-Type: message/rfc822',
  '',
  'From: Erin <erin@example.org>',
  'To: Carol <carol@example.com>',
  'Subject: Minutes',
  'Date: Wed, 4 Jun 2025 17:00:00 +0200',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'Budget approved. Next meeting in July.',
  '--outer--',
  '',
]);

export const ENCODED = crlf([
  'From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>',
  'To: bob@example.net',
  'Subject: =?UTF-8?Q?R=C3=A9union_demain?=',
  'Date: 6 Jun 2025 09:00 GMT',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('Treffpunkt: STRASSE am Fluss. Ünïcödé!\r\n', 'utf8').toString('base64'),
  '',
]);

export const UUENCODED = crlf([
  'From: Old Timer <old@example.org>',
  'Subject: Ancient attachment',
  'Content-Type: multipart/mixed; boundary="u"',
  '',
  '--u',
  'Content-Type: text/plain',
  '',
  'Attached.',
  '--u',
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: x-uuencode',
  '',
  'begin 644 a.txt',
  '#86)C',
  '`',
  'end',
  '--u--',
  '',
]);

/** The corpus in the order the tests append it (UIDs 1..5). */
export const CORPUS: readonly Buffer[] = [PLAIN, MULTIPART, FORWARD, ENCODED, UUENCODED];
