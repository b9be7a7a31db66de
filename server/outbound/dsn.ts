/**
 * Delivery status notifications (RFC 3464) for a local sender: "failed" when recipients bounced,
 * "delayed" as a warning while they wait, "delivered" (local mailboxes) or "relayed" (handed to a
 * next hop that does not offer DSN, RFC 3461 6.2) when the sender asked for it (NOTIFY=SUCCESS). The client's ENVID and each recipient's ORCPT are echoed; RET=FULL returns the
 * whole message in a failure report, otherwise its header only. A multipart/report with a human-readable part, the
 * machine-readable message/delivery-status, and the original headers (text/rfc822-headers), sent
 * from the null sender (RFC 5321 4.5.5) so that it can never bounce back and forth.
 */
import crypto from 'node:crypto';
import { rfc5322Date } from '../delivery/trace.ts';

export interface DsnRecipient {
  address: string;
  /** RFC 3463 code, e.g. "5.1.1" or "4.4.1". */
  status: string;
  /** The remote reply or our reason. */
  diagnostic: string;
  /** The host that answered, when one did. */
  remoteMta?: string;
  /** ORCPT as the client gave it ("rfc822;bob@example.org"). */
  orcpt?: string | null;
}

export interface DsnRequest {
  kind: 'failed' | 'delayed' | 'delivered' | 'relayed';
  /** MAIL FROM's ENVID. */
  envid?: string | null;
  /** RET=FULL: a failure report carries the whole message (message/rfc822). */
  returnFull?: boolean;
  /** Our host name (Reporting-MTA, From's domain). */
  hostname: string;
  /** Who gets the report: the original envelope sender. */
  to: string;
  queueId: string;
  queuedAt: Date;
  recipients: DsnRecipient[];
  original: Buffer;
  now?: Date;
}

/** The header block of a message (up to the first empty line), CRLF line ends. */
export function headerBlock(raw: Buffer): string {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const headers = end < 0 ? text : text.slice(0, end);
  return headers.replace(/\r?\n/g, '\r\n') + '\r\n';
}

/** The enhanced status code in a reply ("550 5.1.1 ..." → "5.1.1"), or a fallback by class. */
export function statusOf(reply: string, permanent: boolean): string {
  const match = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply);
  return match ? match[1]! : permanent ? '5.0.0' : '4.0.0';
}

/** The whole message, CRLF line ends, ending in one CRLF (the boundary line follows). */
function original(raw: Buffer): string {
  const text = raw.toString('latin1').replace(/\r?\n/g, '\r\n');
  return text.endsWith('\r\n') ? text : `${text}\r\n`;
}

function clean(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
}

const SUBJECTS = {
  failed: 'Undelivered Mail Returned to Sender',
  delayed: 'Delayed Mail (still being retried)',
  delivered: 'Successful Mail Delivery Report',
  relayed: 'Successful Mail Delivery Report',
} as const;

const EXPLANATIONS = {
  failed: 'Your message could not be delivered to one or more recipients. It is attached below.',
  delayed:
    'Your message has not been delivered yet to the recipients below. It will be retried; you need not send it again.',
  delivered: 'Your message was delivered to the recipients below, as you asked to be told.',
  relayed:
    "Your message was handed to the recipients' mail servers below, as you asked to be told. They do not send delivery reports, so this is the last one you will get; they may still report a failure.",
} as const;

/** ORCPT "addr-type;address" as the Original-Recipient field wants it ("rfc822; address"). */
function originalRecipient(orcpt: string): string {
  const split = orcpt.indexOf(';');
  return `${clean(orcpt.slice(0, split))}; ${clean(orcpt.slice(split + 1))}`;
}

export function buildDsn(request: DsnRequest): Buffer {
  const now = request.now ?? new Date();
  const boundary = `mallard-dsn-${crypto.randomBytes(8).toString('hex')}`;
  const kind = request.kind;
  const full = kind === 'failed' && request.returnFull === true;
  const list = request.recipients.map((r) => `  <${r.address}>: ${clean(r.diagnostic)}`).join('\r\n');
  const human = `This is the mail system at host ${request.hostname}.\r\n\r\n${EXPLANATIONS[kind]}\r\n\r\n${list}\r\n`;
  const perMessage = [
    ...(request.envid ? [`Original-Envelope-Id: ${clean(request.envid)}`] : []),
    `Reporting-MTA: dns; ${request.hostname}`,
    `X-Mallard-Queue-ID: ${request.queueId}`,
    `Arrival-Date: ${rfc5322Date(request.queuedAt)}`,
  ].join('\r\n');
  const perRecipient = request.recipients
    .map((r) =>
      [
        ...(r.orcpt ? [`Original-Recipient: ${originalRecipient(r.orcpt)}`] : []),
        `Final-Recipient: rfc822; ${clean(r.address)}`,
        `Action: ${kind}`,
        `Status: ${r.status}`,
        ...(r.remoteMta ? [`Remote-MTA: dns; ${clean(r.remoteMta)}`] : []),
        `Diagnostic-Code: smtp; ${clean(r.diagnostic)}`,
        ...(kind === 'delayed'
          ? [`Will-Retry-Until: ${rfc5322Date(new Date(now.getTime() + 86_400_000))}`]
          : []),
      ].join('\r\n'),
    )
    .join('\r\n\r\n');
  const message = [
    `From: Mail Delivery System <MAILER-DAEMON@${request.hostname}>`,
    `To: <${request.to}>`,
    `Subject: ${SUBJECTS[kind]}`,
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${crypto.randomBytes(12).toString('hex')}@${request.hostname}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Description: Notification',
    '',
    human,
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    'Content-Description: Delivery report',
    '',
    perMessage,
    '',
    perRecipient,
    '',
    `--${boundary}`,
    ...(full
      ? [
          'Content-Type: message/rfc822',
          'Content-Description: Undelivered Message',
          '',
          original(request.original),
        ]
      : [
          'Content-Type: text/rfc822-headers',
          'Content-Description: Message Headers',
          '',
          headerBlock(request.original),
        ]),
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return Buffer.from(message, 'latin1');
}
