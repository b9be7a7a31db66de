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
import { receivedHeader } from '../smtp/received.ts';
import { classifyDeliveryError, reply, type Reply } from '../smtp/replies.ts';
import type { NewOutboundMessage, OutboundMessage } from '../store/outbound.ts';
import type { Store, User } from '../store/types.ts';
import type { RoutedRecipient } from './recipients.ts';

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
  recipients: RoutedRecipient[];
  message: Buffer;
  transactionId: string;
}

export async function deliverSubmission(delivery: SubmissionDelivery): Promise<Reply> {
  const { store, log, recipients, transactionId } = delivery;
  const raw = Buffer.concat([traceHeader(delivery), delivery.message]);
  const local = recipients.filter((recipient) => recipient.kind === 'local');
  const remote = recipients.filter((recipient) => recipient.kind === 'remote');

  let refused: Reply | null = null;
  let refusals = 0;
  const served = new Set<string>();
  for (const recipient of local) {
    if (served.has(recipient.userId)) continue;
    served.add(recipient.userId);
    try {
      const result = await store.deliver(recipient.address, raw);
      log.info({ id: transactionId, rcpt: recipient.address, uid: result.uid }, 'message delivered');
    } catch (error) {
      const failure = classifyDeliveryError(log, error, { id: transactionId, rcpt: recipient.address });
      const answer = failure.reply(recipient.address);
      if (failure.temporary) return answer;
      log.info({ id: transactionId, rcpt: recipient.address, reply: answer.status }, 'delivery refused');
      refused ??= answer;
      refusals++;
    }
  }
  if (remote.length > 0) {
    const queued = await delivery.outbound.submit({
      userId: delivery.user.id,
      sender: delivery.sender,
      recipients: remote.map((recipient) => recipient.address),
      raw,
    });
    log.info({ id: transactionId, queue: queued.id, rcpts: remote.length }, 'message queued');
    return reply(250, '2.0.0', `Ok: queued as ${queued.id}`);
  }
  if (refused && refusals === served.size) return refused;
  return reply(250, '2.0.0', `Ok: delivered as ${transactionId}`);
}

function traceHeader(delivery: SubmissionDelivery): Buffer {
  const { session } = delivery;
  return receivedHeader({
    helo: session.hostNameAppearsAs || '',
    reverseName: '',
    remoteAddress: session.remoteAddress,
    hostname: delivery.config.hostname,
    // RFC 3848: ESMTPSA (TLS and AUTH) or ESMTPA (AUTH on loopback without TLS).
    protocol: delivery.tls ? 'ESMTPSA' : 'ESMTPA',
    tls: delivery.tls,
    id: delivery.transactionId,
    recipients: delivery.recipients.map((recipient) => recipient.address),
    utf8: session.envelope.smtpUtf8 === true,
    date: new Date(),
  });
}
