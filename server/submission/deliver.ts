/**
 * After DATA: a Received header on top, then local recipients are stored (one copy per user, as
 * LMTP does) and remote ones queued in one go. SMTP has one reply for all recipients:
 * - local stores first, then the queue; a temporary failure of either is 451 4.3.0, and the client
 *   sends again (a local recipient already served may get a second copy: better than none);
 * - a local recipient refused for good (over quota) while others were served: 250, the failure is
 *   logged (as SMTP-in does, see server/smtp/replies.ts singleReply); all refused: that refusal.
 */
import type { SMTPServerSession } from 'smtp-server';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { countDelivery } from '../delivery/history.ts';
import { adminScripts, deliverWithSieve } from '../delivery/sieve.ts';
import { receivedHeader, withTrace, type TraceInfo } from '../delivery/trace.ts';
import { classifyDeliveryError, reply, type Reply } from '../smtp/replies.ts';
import type { MessageDsn, NewOutboundMessage, OutboundMessage, RecipientDsn } from '../store/outbound.ts';
import type { Store, User } from '../store/types.ts';
import type { RoutedRecipient } from './recipients.ts';
import { reportLocalSuccess } from './success-report.ts';

/** Where remote recipients go: the outbound queue (with DKIM signing on the way, server/outbound). */
export interface OutboundSink {
  submit(message: NewOutboundMessage): Promise<OutboundMessage>;
}

export interface SubmissionDelivery {
  store: Store;
  outbound: OutboundSink;
  config: Config;
  log: Logger;
  user: User;
  session: SMTPServerSession;
  tls: { version: string; cipher: string } | null;
  sender: string;
  recipients: Array<RoutedRecipient & { dsn?: Partial<RecipientDsn> }>;
  message: Buffer;
  transactionId: string;
}

export async function deliverSubmission(delivery: SubmissionDelivery): Promise<Reply> {
  const { store, log, recipients, transactionId } = delivery;
  const local = recipients.filter((recipient) => recipient.kind === 'local');
  const remote = recipients.filter((recipient) => recipient.kind === 'remote');

  let refused: Reply | null = null;
  let refusals = 0;
  const served = new Set<string>();
  /** Users whose copy was stored: each of their recipients counts as delivered for a report. */
  const stored = new Set<string>();
  for (const recipient of local) {
    if (served.has(recipient.userId)) continue;
    served.add(recipient.userId);
    try {
      // A local copy is traced as any delivery: Return-Path, Delivered-To, Received for it.
      const copy = withTrace(delivery.message, traceOf(delivery, recipient.address));
      const result = await deliverWithSieve({
        store,
        log,
        hostname: delivery.config.hostname,
        recipient: recipient.address,
        sender: delivery.sender,
        raw: copy,
        before: adminScripts(delivery.config.inbound.sieve_before, log),
      });
      log.info({ id: transactionId, rcpt: recipient.address, uid: result.uid }, 'message delivered');
      stored.add(recipient.userId);
      await countDelivery(store, 'local', log);
    } catch (error) {
      const failure = classifyDeliveryError(log, error, { id: transactionId, rcpt: recipient.address });
      const answer = failure.reply(recipient.address);
      if (failure.temporary) return answer;
      log.info({ id: transactionId, rcpt: recipient.address, reply: answer.status }, 'delivery refused');
      refused ??= answer;
      refusals++;
    }
  }
  // NOTIFY=SUCCESS of local recipients, once the whole submission has succeeded (no 451 retry).
  const reportSuccess = () =>
    reportLocalSuccess({
      store,
      log,
      hostname: delivery.config.hostname,
      sender: delivery.sender,
      transactionId,
      envelope: envelopeDsn(delivery.session),
      delivered: local.filter((recipient) => stored.has(recipient.userId)),
      message: delivery.message,
    });
  if (remote.length > 0) {
    const queued = await delivery.outbound.submit({
      userId: delivery.user.id,
      sender: delivery.sender,
      recipients: remote.map((recipient) => recipient.address),
      dsn: {
        ...envelopeDsn(delivery.session),
        recipients: Object.fromEntries(remote.map((recipient) => [recipient.address, recipient.dsn ?? {}])),
      },
      // Outgoing: our Received field only, without `for` (several recipients may share the copy).
      raw: Buffer.concat([Buffer.from(receivedHeader(traceOf(delivery, '')), 'utf8'), delivery.message]),
    });
    log.info({ id: transactionId, queue: queued.id, rcpts: remote.length }, 'message queued');
    await saveSentCopy(delivery);
    await reportSuccess();
    return reply(250, '2.0.0', `Ok: queued as ${queued.id}`);
  }
  if (refused && refusals === served.size) return refused;
  await saveSentCopy(delivery);
  await reportSuccess();
  return reply(250, '2.0.0', `Ok: delivered as ${transactionId}`);
}

/**
 * "Save a copy to Sent" (per account, off by default: most clients upload their own copy, and a
 * second one would be a duplicate): the message as the client sent it, marked \Seen. The setting
 * is read now, so a change in the panel applies to sessions already logged in. The message has
 * gone out by then: a copy that cannot be stored is logged, never turned into a failure.
 */
async function saveSentCopy(delivery: SubmissionDelivery): Promise<void> {
  const { store, log, transactionId } = delivery;
  try {
    const user = await store.getUser(delivery.user.id);
    if (!user?.saveSentCopy) return;
    const mailboxes = await store.listMailboxes(user.id);
    const sent =
      mailboxes.find((mailbox) => mailbox.specialUse === '\\Sent') ??
      mailboxes.find((m) => m.path === 'Sent');
    if (!sent) {
      log.warn({ id: transactionId, user: user.username }, 'no Sent mailbox for the copy of a sent message');
      return;
    }
    const saved = await store.append(sent.id, delivery.message, { flags: ['\\Seen'] });
    log.info({ id: transactionId, mailbox: sent.path, uid: saved.uid }, 'copy saved to Sent');
  } catch (error) {
    log.warn({ err: error, id: transactionId }, 'copy to Sent not saved');
  }
}

/** MAIL FROM's RET and ENVID as smtp-server parsed them. */
function envelopeDsn(session: SMTPServerSession): Partial<MessageDsn> {
  const dsn = (session.envelope as { dsn?: { ret?: string | null; envid?: string | null } }).dsn;
  return {
    ret: dsn?.ret === 'FULL' || dsn?.ret === 'HDRS' ? dsn.ret : null,
    envid: dsn?.envid ?? null,
  };
}

function traceOf(delivery: SubmissionDelivery, recipient: string): TraceInfo {
  const { session } = delivery;
  return {
    origin: {
      kind: 'network',
      helo: session.hostNameAppearsAs || '',
      reverseName: '',
      remoteAddress: session.remoteAddress,
      // RFC 3848: ESMTPSA (TLS and AUTH) or ESMTPA (AUTH on loopback without TLS).
      protocol: delivery.tls ? 'ESMTPSA' : 'ESMTPA',
      tls: delivery.tls,
    },
    sender: delivery.sender,
    recipient,
    hostname: delivery.config.hostname,
    id: delivery.transactionId,
    utf8: session.envelope.smtpUtf8 === true,
    date: new Date(),
  };
}
