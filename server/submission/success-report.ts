/**
 * RFC 3461 NOTIFY=SUCCESS for local recipients of a submission: they were stored at once, so the
 * "delivered" report (RFC 3464) is ours to send, straight to the sender's INBOX (the sender is
 * always a local user on submission). Remote recipients get theirs from the outbound worker.
 * The message is in the mailboxes by then: a report that cannot be stored is logged, never turned
 * into a failure of the submission.
 */
import type { Logger } from '../log.ts';
import { buildDsn, type DsnRecipient } from '../outbound/dsn.ts';
import { wantsReport, type MessageDsn, type RecipientDsn } from '../store/outbound.ts';
import type { Store } from '../store/types.ts';

export interface SuccessReport {
  store: Store;
  log: Logger;
  hostname: string;
  sender: string;
  transactionId: string;
  envelope: Partial<MessageDsn>;
  /** The local recipients stored, each with what it asked at RCPT TO. */
  delivered: Array<{ address: string; dsn?: Partial<RecipientDsn> }>;
  message: Buffer;
}

export async function reportLocalSuccess(report: SuccessReport): Promise<void> {
  const recipients: DsnRecipient[] = report.delivered
    .filter(({ dsn }) => wantsReport({ notify: dsn?.notify ?? null, orcpt: null }, 'delivered'))
    .map(({ address, dsn }) => ({
      address,
      status: '2.0.0',
      diagnostic: '250 2.0.0 delivered to the mailbox',
      orcpt: dsn?.orcpt ?? null,
    }));
  if (recipients.length === 0 || report.sender === '') return;
  try {
    const dsn = buildDsn({
      kind: 'delivered',
      hostname: report.hostname,
      to: report.sender,
      queueId: report.transactionId,
      queuedAt: new Date(),
      recipients,
      original: report.message,
      envid: report.envelope.envid ?? null,
    });
    await report.store.deliver(report.sender, Buffer.concat([Buffer.from('Return-Path: <>\r\n'), dsn]));
    report.log.info({ id: report.transactionId, to: report.sender }, 'delivery report sent');
  } catch (error) {
    report.log.warn({ err: error, id: report.transactionId }, 'delivery report could not be stored');
  }
}
