/**
 * LMTP (RFC 2033) on `lmtp.port` (24, loopback by default), so an MTA such as Postfix can hand mail
 * to Mallard: LHLO, recipients checked at RCPT, and after DATA one reply per accepted recipient
 * (250 with the UID, 552 5.2.2 mailbox full, 451 4.3.0 try again later, ...). Each recipient's copy
 * is the message as received with our trace header fields on top (Return-Path from MAIL FROM,
 * Delivered-To, Received: see engine.ts), as Dovecot's LMTP stores it. No authentication.
 */
import { startMailService, type DeliveryServices, type MailService } from '../smtp/engine.ts';
import { replyError, replyText, reply, unknownUser } from '../smtp/replies.ts';
import type { TlsProvider } from '../tls/context.ts';

export type LmtpService = MailService;

export function startLmtp(
  services: DeliveryServices,
  tls: TlsProvider,
  /** 0 disables the listener; -1 lets the OS choose a free port (tests). */
  ports: { port: number },
): Promise<LmtpService> {
  return startMailService(
    services,
    tls,
    {
      protocol: 'lmtp',
      unknownRecipient: (address) => Promise.resolve(unknownUser(address)),
      async deliver({ deliverEach }) {
        const outcomes = await deliverEach();
        return outcomes.map((outcome) =>
          outcome.ok
            ? replyText(reply(250, '2.0.0', `<${outcome.address}> Saved as UID ${outcome.uid}`))
            : replyError(outcome.reply),
        );
      },
    },
    { host: services.config.lmtp.host, port: ports.port },
  );
}
