/**
 * The messages Sieve makes at delivery: vacation replies (RFC 5230) and the refusal a reject sends
 * once the message was accepted (RFC 5429 2.1.1, a message/disposition-notification report as
 * RFC 3798 shapes it). Both go out with the null sender and Auto-Submitted: auto-replied, so that
 * no well-behaved responder answers them (RFC 3834).
 */
import crypto from 'node:crypto';
import type { VacationAction } from '../sieve/index.ts';
import type { SieveMessage } from '../sieve/index.ts';
import { headerBlock } from '../outbound/dsn.ts';

/** RFC 2047 for a header value that is not plain ASCII. */
function encodeWord(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  return `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

function messageId(hostname: string): string {
  return `<${crypto.randomBytes(12).toString('hex')}@${hostname}>`;
}

/** Senders RFC 5230 4.5 says never to answer: the null sender, mailer daemons, list owners. */
const NEVER_ANSWER = /^(mailer-daemon|listserv|majordomo|owner-.*|.*-request|.*-owner|.*-bounces?)@/i;

/**
 * Why no vacation reply may go to this message (RFC 3834 2 and RFC 5230 4.5), or null when one may:
 * the sender is null or a robot, the message is auto-submitted, from a list or bulk, or not
 * addressed to the user by any of their addresses.
 */
export function vacationRefusal(
  message: SieveMessage,
  sender: string,
  ownAddresses: string[],
): string | null {
  if (sender === '') return 'null sender';
  if (NEVER_ANSWER.test(sender)) return `robot sender ${sender}`;
  const autoSubmitted = message.headerValues('auto-submitted')[0];
  if (autoSubmitted !== undefined && autoSubmitted.toLowerCase().split(';')[0]?.trim() !== 'no') {
    return `Auto-Submitted: ${autoSubmitted}`;
  }
  for (const name of [
    'list-id',
    'list-unsubscribe',
    'list-post',
    'list-help',
    'list-owner',
    'list-archive',
  ]) {
    if (message.rawValues(name).length > 0) return `mailing list (${name})`;
  }
  const precedence = (message.headerValues('precedence')[0] ?? '').toLowerCase();
  if (['bulk', 'list', 'junk'].includes(precedence)) return `Precedence: ${precedence}`;
  const own = new Set(ownAddresses.map((address) => address.toLowerCase()));
  const recipients = ['to', 'cc', 'bcc', 'resent-to', 'resent-cc', 'resent-bcc'].flatMap((name) =>
    message.addresses(name).flat(),
  );
  if (!recipients.some((address) => own.has(address.toLowerCase()))) return 'not addressed to the user';
  return null;
}

export interface VacationReplyInput {
  action: VacationAction;
  message: SieveMessage;
  /** The user's address the message came to (the reply's From unless :from). */
  recipient: string;
  sender: string;
  hostname: string;
  date?: Date;
}

export function buildVacationReply({
  action,
  message,
  recipient,
  sender,
  hostname,
  date,
}: VacationReplyInput): Buffer {
  const originalSubject = message.headerValues('subject')[0] ?? '';
  const subject = action.subject ?? `Auto: ${originalSubject}`;
  const originalId = message.rawValues('message-id')[0]?.trim();
  const references = [message.rawValues('references')[0]?.trim(), originalId].filter(Boolean).join(' ');
  const lines = [
    `From: ${oneLine(action.from ?? recipient)}`,
    `To: <${sender}>`,
    `Subject: ${encodeWord(oneLine(subject))}`,
    `Date: ${(date ?? new Date()).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId(hostname)}`,
    ...(originalId ? [`In-Reply-To: ${originalId}`, `References: ${references}`] : []),
    'Auto-Submitted: auto-replied (vacation)',
    'Precedence: bulk',
    'MIME-Version: 1.0',
  ];
  if (action.mime) {
    // :mime: the reason is a MIME entity of its own, header included (RFC 5230 4.6).
    return Buffer.from(`${lines.join('\r\n')}\r\n${action.reason.replace(/\r?\n/g, '\r\n')}`, 'utf8');
  }
  lines.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '');
  return Buffer.from(`${lines.join('\r\n')}\r\n${action.reason.replace(/\r?\n/g, '\r\n')}\r\n`, 'utf8');
}

export interface RefusalInput {
  reason: string;
  raw: Buffer;
  message: SieveMessage;
  recipient: string;
  sender: string;
  hostname: string;
  date?: Date;
}

/**
 * The refusal of RFC 5429 2.1.1, an MDN (RFC 3798): the reason, a disposition report, and the
 * refused header. It comes from the recipient (RFC 3798 3: "the address of the person for whom the
 * message disposition notification is being issued"), with the null sender.
 */
export function buildRefusal({
  reason,
  raw,
  message,
  recipient,
  sender,
  hostname,
  date,
}: RefusalInput): Buffer {
  const boundary = `refusal-${crypto.randomBytes(8).toString('hex')}`;
  const originalSubject = message.headerValues('subject')[0] ?? '';
  const originalId = message.rawValues('message-id')[0]?.trim();
  const text = reason.replace(/\r?\n/g, '\r\n').replace(/(\r\n)?$/, '\r\n');
  const parts = [
    `From: <${recipient}>`,
    `To: <${sender}>`,
    `Subject: ${encodeWord(oneLine(`Rejected: ${originalSubject}`))}`,
    `Date: ${(date ?? new Date()).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId(hostname)}`,
    ...(originalId ? [`In-Reply-To: ${originalId}`] : []),
    'Auto-Submitted: auto-replied (rejected)',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=disposition-notification; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `Your message to <${recipient}> was rejected by the recipient's filter:`,
    '',
    text,
    `--${boundary}`,
    'Content-Type: message/disposition-notification',
    '',
    `Reporting-UA: ${hostname}; Mallard Sieve`,
    `Final-Recipient: rfc822; ${recipient}`,
    ...(originalId ? [`Original-Message-ID: ${originalId}`] : []),
    'Disposition: automatic-action/MDN-sent-automatically; deleted',
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    headerBlock(raw).replace(/\r?\n$/, ''),
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(parts.join('\r\n'), 'utf8');
}
