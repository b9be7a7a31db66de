/**
 * SMTP on `smtp.port` (25): Mallard as the MX of its own domains. Mail is accepted only for
 * recipients the store resolves (550 5.1.1 for an unknown user of a domain we serve, 550 5.7.1 for
 * any other domain: no relaying), checked at RCPT; SIZE is advertised and enforced; STARTTLS is
 * offered; there is no AUTH (this is not a submission server). Each recipient's copy gets the trace
 * header fields (see engine.ts), and one reply after DATA covers all recipients (see `singleReply`).
 */
import type { SMTPServerSession } from 'smtp-server';
import { assessMessage } from '../inbound/assess.ts';
import type { InboundMessage, InboundVerdict } from '../inbound/types.ts';
import type { TlsProvider } from '../tls/context.ts';
import {
  originOf,
  startMailService,
  type DeliveryRequest,
  type DeliveryServices,
  type MailService,
} from './engine.ts';
import { domainOf, LocalDomains } from './local-domains.ts';
import { greylisted, relayDenied, replyError, replyText, singleReply, unknownUser } from './replies.ts';

export type SmtpService = MailService;

export function startSmtp(
  services: DeliveryServices,
  tls: TlsProvider,
  /** 0 disables the listener; -1 lets the OS choose a free port (tests). */
  ports: { port: number },
): Promise<SmtpService> {
  const { config } = services;
  const localDomains = new LocalDomains(services.store, config.hostname);
  return startMailService(
    services,
    tls,
    {
      protocol: 'smtp',
      async unknownRecipient(address) {
        const domain = domainOf(address);
        return domain === '' || (await localDomains.has(domain))
          ? unknownUser(address)
          : relayDenied(address);
      },
      async admitRecipient(recipient, session, state) {
        if (!services.greylist) return null;
        const sender = senderOf(session);
        const retryAt = await services.greylist({
          clientIp: session.remoteAddress,
          sender,
          recipient: recipient.address,
          userId: recipient.userId,
        });
        if (!retryAt) return null;
        const seconds = Math.max(1, Math.ceil((retryAt.getTime() - Date.now()) / 1000));
        const refusal = greylisted(seconds);
        const replyLine = `${refusal.code} ${refusal.status} ${refusal.text}`;
        const reasons = [
          `greylisted: ${sender || '<>'} → ${recipient.address} until ${retryAt.toISOString()}`,
        ];
        state.log.info({ rcpt: recipient.address, reply: replyLine, reasons }, 'recipient greylisted');
        state.handle?.refused({
          transactionId: `${session.id}-${session.transaction}`,
          reply: replyLine,
          recipients: [recipient.address],
          reasons,
        });
        return refusal;
      },
      async deliver(request) {
        const { transactionId, deliverEach, state } = request;
        const verdict = await assessMessage(
          services.inboundChecks ?? [],
          inboundMessageOf(request),
          state.log,
        );
        if (verdict.action === 'reject') throw refuse(request, verdict);
        const outcomes = await deliverEach({
          message: verdict.message,
          headers: verdict.prependHeaders,
          junk: junkOf(verdict),
          reasons: verdict.reasons,
        });
        const reply = singleReply(outcomes, transactionId);
        const failed = outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.address);
        if (reply.code < 400 && failed.length > 0) {
          state.log.warn(
            { id: transactionId, failed },
            'message accepted, but not delivered to every recipient',
          );
        }
        if (reply.code >= 400) throw replyError(reply);
        return replyText(reply);
      },
    },
    { host: config.smtp.host, port: ports.port },
  );
}

/** Which copies go to Junk: all of them, or the recipients whose own action is junk. */
function junkOf(verdict: InboundVerdict): boolean | ReadonlySet<string> {
  if (!verdict.recipientActions) return verdict.action === 'junk';
  const junk = [...verdict.recipientActions].filter(([, action]) => action === 'junk');
  return new Set(junk.map(([rcpt]) => rcpt));
}

/** What the inbound checks are told of a message at the end of DATA. */
function inboundMessageOf({ session, message, transactionId }: DeliveryRequest): InboundMessage {
  const origin = originOf(session);
  return {
    clientIp: session.remoteAddress,
    helo: origin.helo,
    reverseName: origin.reverseName,
    mailFrom: senderOf(session),
    rcpts: session.envelope.rcptTo.map((rcpt) => rcpt.address),
    message,
    secure: session.secure,
    transactionId,
  };
}

function senderOf(session: SMTPServerSession): string {
  return session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
}

/** The error that makes smtp-server send the verdict's reply; logged and shown in the admin API. */
function refuse({ state, transactionId, recipients }: DeliveryRequest, verdict: InboundVerdict) {
  const refusal = verdict.reply!;
  const replyLine = `${refusal.code} ${refusal.status} ${refusal.text}`;
  state.log.info({ id: transactionId, reply: replyLine, reasons: verdict.reasons }, 'message refused');
  state.handle?.refused({
    transactionId,
    reply: replyLine,
    recipients: recipients.map((recipient) => recipient.address),
    reasons: verdict.reasons,
  });
  return replyError(refusal);
}
