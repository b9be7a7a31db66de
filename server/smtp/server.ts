/**
 * SMTP on `smtp.port` (25): Mallard as the MX of its own domains. Mail is accepted only for
 * recipients the store resolves (550 5.1.1 for an unknown user of a domain we serve, 550 5.7.1 for
 * any other domain: no relaying), checked at RCPT; SIZE is advertised and enforced; STARTTLS is
 * offered; there is no AUTH (this is not a submission server). A Received header goes on top of
 * every accepted message, and one reply after DATA covers all recipients (see `singleReply`).
 */
import type { TlsProvider } from '../tls/context.ts';
import { startMailService, type DeliveryServices, type MailService } from './engine.ts';
import { domainOf, LocalDomains } from './local-domains.ts';
import { receivedHeader } from './received.ts';
import { relayDenied, replyError, replyText, singleReply, unknownUser } from './replies.ts';

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
      async deliver({ session, message, recipients, transactionId, deliverEach, state }) {
        const cipher = session.tlsOptions || null;
        const header = receivedHeader({
          helo: session.hostNameAppearsAs || '',
          reverseName: session.clientHostname.startsWith('[') ? '' : session.clientHostname,
          remoteAddress: session.remoteAddress,
          hostname: config.hostname,
          protocol: session.transmissionType,
          tls: cipher ? { version: cipher.version, cipher: cipher.standardName || cipher.name } : null,
          id: transactionId,
          recipients: recipients.map((recipient) => recipient.address),
          utf8: session.envelope.smtpUtf8 === true,
          date: new Date(),
        });
        const outcomes = await deliverEach(Buffer.concat([header, message]));
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
