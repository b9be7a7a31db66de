/**
 * The trace header SMTP adds at the top of every message it accepts (RFC 5321 4.4), in Postfix's
 * layout:
 *
 *   Received: from client.example (mail.example [192.0.2.1])
 *   	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)
 *   	by mx.example.org (Mallard) with ESMTPS id 0a1b2c3d-1
 *   	for <user@example.org>; Tue, 3 Jun 2025 10:00:00 +0200
 *
 * "for" names the recipient only when there is exactly one (as Postfix does): every recipient gets
 * the same bytes, so naming them all would show Bcc recipients to each other.
 */

export interface ReceivedInfo {
  /** Name the client gave in HELO/EHLO. */
  helo: string;
  /** Reverse-DNS name of the client, or "" when unknown. */
  reverseName: string;
  remoteAddress: string;
  /** Our host name. */
  hostname: string;
  /** "SMTP", "ESMTP", "ESMTPS" (RFC 3848). */
  protocol: string;
  /** TLS protocol and cipher, when TLS is on. */
  tls: { version: string; cipher: string } | null;
  id: string;
  recipients: string[];
  /** True when the client asked for SMTPUTF8: a non-ASCII address may then appear in the header. */
  utf8: boolean;
  date: Date;
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

/** The recipient for the "for" clause, or "" when there is none to name. */
function forRecipient(info: ReceivedInfo): string {
  if (info.recipients.length !== 1) return '';
  const recipient = info.recipients[0]!;
  // A non-ASCII address may appear only in a message sent with SMTPUTF8 (RFC 6532).
  if (/[^\u0020-\u007e]/.test(recipient) && !info.utf8) return '';
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0020\u007f<>;()\\"]/.test(recipient) ? '' : recipient;
}

/** The header, folded, ending with CRLF. */
export function receivedHeader(info: ReceivedInfo): Buffer {
  const helo = clean(info.helo) || 'unknown';
  const reverse = clean(info.reverseName);
  const lines = [
    `Received: from ${helo} (${reverse ? `${reverse} ` : ''}${addressLiteral(info.remoteAddress)})`,
  ];
  if (info.tls) lines.push(`\t(using ${clean(info.tls.version)} with cipher ${clean(info.tls.cipher)})`);
  const by = `\tby ${clean(info.hostname)} (Mallard) with ${clean(info.protocol)} id ${clean(info.id)}`;
  const recipient = forRecipient(info);
  const date = rfc5322Date(info.date);
  if (recipient) lines.push(by, `\tfor <${recipient}>; ${date}`);
  else lines.push(`${by}; ${date}`);
  return Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');
}
