/**
 * The trace header fields every delivery path (LMTP, SMTP, `mallard deliver`) puts on top of the
 * copy it stores for one recipient, as Dovecot's LMTP and Postfix's local delivery do (RFC 5321
 * 4.4):
 *
 *   Return-Path: <sender@remote.example>
 *   Delivered-To: user@example.org
 *   Received: from client.example (mail.example [192.0.2.1])
 *   	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)
 *   	by mx.example.org (Mallard) with ESMTPS id 0a1b2c3d-1
 *   	for <user@example.org>; Tue, 3 Jun 2025 10:00:00 +0200
 *
 * A local delivery has no peer: its Received line is Postfix's for mail handed in by a local
 * process, "Received: by mx.example.org (Mallard, from userid 1000) id ...".
 *
 * Each recipient gets a copy of its own, so "for" and Delivered-To name that recipient only (Bcc
 * recipients never see each other). A Return-Path already in the message is removed: RFC 5321
 * 4.4 has the final delivery MTA add it, so one that arrived with the message is not the sender's.
 * Every other byte of the message stays as it was.
 */

export interface NetworkOrigin {
  kind: 'network';
  /** Name the client gave in HELO/EHLO/LHLO. */
  helo: string;
  /** Reverse-DNS name of the client, or "" when unknown. */
  reverseName: string;
  remoteAddress: string;
  /** "SMTP", "ESMTP", "ESMTPS", "LMTP", "LMTPS" (RFC 3848). */
  protocol: string;
  /** TLS protocol and cipher, when TLS is on. */
  tls: { version: string; cipher: string } | null;
}

/** Handed in by a local process (`mallard deliver`): the user id it ran as, when the OS has one. */
export interface LocalOrigin {
  kind: 'local';
  uid: number | null;
}

export interface TraceInfo {
  origin: NetworkOrigin | LocalOrigin;
  /** The envelope sender (MAIL FROM, `--from`); "" is the null sender. */
  sender: string;
  /** The recipient this copy is for (RCPT TO, or the command line). */
  recipient: string;
  /** Our host name. */
  hostname: string;
  /** Names this delivery in our logs. */
  id: string;
  /** True when non-ASCII addresses may appear in the header (SMTPUTF8, or a local delivery). */
  utf8: boolean;
  date: Date;
  /**
   * Header fields (each ending with CRLF) that go between Delivered-To and Received: the
   * Authentication-Results of SMTP-in, as a milter puts it above the MTA's Received.
   */
  headers?: string;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (value: number) => String(value).padStart(2, '0');

/** RFC 5322 date-time in the local time zone: "Tue, 3 Jun 2025 10:00:00 +0200". */
export function rfc5322Date(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${two(Math.floor(Math.abs(offset) / 60))}${two(Math.abs(offset) % 60)}`;
  return (
    `${DAYS[date.getDay()]}, ${date.getDate()} ${MONTHS[date.getMonth()]} ${date.getFullYear()} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${zone}`
  );
}

/** An address literal: "[192.0.2.1]", "[IPv6:2001:db8::1]". */
export function addressLiteral(address: string): string {
  return address.includes(':') ? `[IPv6:${address}]` : `[${address}]`;
}

// Values come from the client (smtp-server already refuses control characters in them); anything
// that could break the header's structure is dropped all the same.
function clean(value: string): string {
  return value.replace(/[^\u0021-\u007e]|[()<>;\\"]/g, '');
}

// eslint-disable-next-line no-control-regex
const UNSAFE_IN_PATH = /[\u0000-\u001f\u007f<>]/;
/** In the Received "for" clause, where a space or a comment would change how it reads, as before. */
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_FOR = /[\u0000-\u0020\u007f<>;()\\"]/;

/**
 * An address as it may appear in the header, or "" when it may not: a non-ASCII address only in a
 * message that may carry UTF-8 headers (RFC 6532), and nothing that could end the field or the
 * angle brackets around it (a quoted local part such as "john doe"@example.org is fine).
 */
function headerAddress(address: string, utf8: boolean, unsafe = UNSAFE_IN_PATH): string {
  if (/[^\u0020-\u007e]/.test(address) && !utf8) return '';
  return unsafe.test(address) ? '' : address;
}

/** The Received field alone (an outgoing copy gets only this one; `recipient` "" leaves out `for`). */
export function receivedHeader(info: TraceInfo): string {
  const hostname = clean(info.hostname);
  const lines: string[] = [];
  if (info.origin.kind === 'network') {
    const { origin } = info;
    const helo = clean(origin.helo) || 'unknown';
    const reverse = clean(origin.reverseName);
    lines.push(
      `Received: from ${helo} (${reverse ? `${reverse} ` : ''}${addressLiteral(origin.remoteAddress)})`,
    );
    if (origin.tls)
      lines.push(`\t(using ${clean(origin.tls.version)} with cipher ${clean(origin.tls.cipher)})`);
    lines.push(`\tby ${hostname} (Mallard) with ${clean(origin.protocol)} id ${clean(info.id)}`);
  } else {
    const from = info.origin.uid === null ? '' : `, from userid ${info.origin.uid}`;
    lines.push(`Received: by ${hostname} (Mallard${from})`, `\tid ${clean(info.id)}`);
  }
  const recipient = headerAddress(info.recipient, info.utf8, UNSAFE_IN_FOR);
  const date = rfc5322Date(info.date);
  if (recipient) lines.push(`\tfor <${recipient}>; ${date}`);
  else lines[lines.length - 1] += `; ${date}`;
  return lines.join('\r\n') + '\r\n';
}

/** Return-Path, Delivered-To and Received for one recipient's copy, folded, each ending with CRLF. */
export function traceHeaders(info: TraceInfo): Buffer {
  const fields = [`Return-Path: <${headerAddress(info.sender, info.utf8)}>\r\n`];
  const recipient = headerAddress(info.recipient, info.utf8);
  if (recipient) fields.push(`Delivered-To: ${recipient}\r\n`);
  if (info.headers) fields.push(info.headers);
  fields.push(receivedHeader(info));
  return Buffer.from(fields.join(''), 'utf8');
}

/** The lines of the message's header section (each with its line end), and where the body starts. */
function headerLines(message: Buffer): { lines: Buffer[]; end: number } {
  const lines: Buffer[] = [];
  let position = 0;
  while (position < message.length) {
    const newline = message.indexOf(0x0a, position);
    const end = newline === -1 ? message.length : newline + 1;
    const line = message.subarray(position, end);
    // An empty line (CRLF, or a bare LF) ends the header section.
    if (line[0] === 0x0a || (line[0] === 0x0d && line[1] === 0x0a)) break;
    lines.push(line);
    position = end;
  }
  return { lines, end: position };
}

const RETURN_PATH = /^return-path[ \t]*:/i;

/** Header fields as [name line + continuation lines] groups, in order. */
function headerFields(lines: Buffer[]): Buffer[][] {
  const fields: Buffer[][] = [];
  for (const line of lines) {
    const continuation = line[0] === 0x20 || line[0] === 0x09;
    if (continuation && fields.length > 0) fields.at(-1)!.push(line);
    else fields.push([line]);
  }
  return fields;
}

const isReturnPath = (field: Buffer[]) => RETURN_PATH.test(field[0]!.toString('latin1', 0, 32));

/**
 * The message without the header fields `drop` picks (it gets each field whole, name line and
 * continuation lines, as written); the very same buffer when it picks none.
 */
export function withoutFields(message: Buffer, drop: (field: Buffer) => boolean): Buffer {
  const { lines, end } = headerLines(message);
  const fields = headerFields(lines);
  const dropped = fields.map((field) => drop(field.length === 1 ? field[0]! : Buffer.concat(field)));
  if (!dropped.includes(true)) return message;
  const kept = fields.filter((_field, index) => !dropped[index]).flat();
  return Buffer.concat([...kept, message.subarray(end)]);
}

/** The values of the header fields named `name` (case-insensitive), unfolded, in order. */
export function headerFieldValues(message: Buffer, name: string): string[] {
  const wanted = new RegExp(`^${name.replace(/[^A-Za-z0-9-]/g, '')}[ \\t]*:`, 'i');
  return headerFields(headerLines(message).lines)
    .filter((field) => wanted.test(field[0]!.toString('latin1', 0, name.length + 8)))
    .map((field) =>
      Buffer.concat(field)
        .toString('utf8')
        .replace(/^[^:]*:/, '')
        .replace(/\r?\n/g, '')
        .trim(),
    );
}

/** The message without its Return-Path fields; the very same buffer when it has none. */
export function withoutReturnPath(message: Buffer): Buffer {
  return withoutFields(message, (field) => isReturnPath([field]));
}

/**
 * The address in the message's first Return-Path field ("" for `<>`), or null when it has none:
 * the sender of a local delivery that was not given one (as dovecot-lda takes it).
 */
export function returnPathOf(message: Buffer): string | null {
  const field = headerFields(headerLines(message).lines).find(isReturnPath);
  if (!field) return null;
  const value = Buffer.concat(field)
    .toString('utf8')
    .replace(/^[^:]*:/, '')
    .replace(/\r?\n/g, '')
    .trim();
  const bracketed = /<([^<>]*)>/.exec(value);
  return (bracketed ? bracketed[1]! : value).trim();
}

/** The copy stored for one recipient: trace headers on top of the message without its Return-Path. */
export function withTrace(message: Buffer, info: TraceInfo): Buffer {
  return Buffer.concat([traceHeaders(info), withoutReturnPath(message)]);
}
