/**
 * SMTP on `smtp.port` (25): Mallard as the MX of its own domains. Mail is accepted only for
 * recipients the store resolves (550 5.1.1 for an unknown user of a domain we serve, 550 5.7.1 for
 * any other domain: no relaying), checked at RCPT; SIZE is advertised and enforced; STARTTLS is
 * offered; there is no AUTH (this is not a submission server). Each recipient's copy gets the trace
 * header fields (see engine.ts), and one reply after DATA covers all recipients (see `singleReply`).
 */
import type { TlsProvider } from '../tls/context.ts';
import { startMailService, type DeliveryServices, type MailService } from './engine.ts';
import { domainOf, LocalDomains } from './local-domains.ts';
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
      async deliver({ transactionId, deliverEach, state }) {
        const outcomes = await deliverEach();
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
