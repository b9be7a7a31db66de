/** What the spam tests share: sending over raw SMTP, test messages, reading back where mail went. */
import crypto from 'node:crypto';
import { SmtpLineClient } from '../delivery/clients.ts';
import type { TestServer } from '../helpers/server.ts';
import { GTUBE } from '../../server/spam/score.ts';

export { GTUBE };

/** A plain message with enough words for a Bayes classifier to learn from. */
export function testMessage(
  from: string,
  subject: string,
  body = 'Hello, here are the notes from our meeting about the garden project and the schedule for next week.',
  extra = '',
): Buffer {
  return Buffer.from(
    `From: ${from}\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n` +
      `Date: Fri, 04 Dec 2026 18:00:00 +0000\r\nMessage-ID: <${crypto.randomUUID()}@client.test>\r\n${extra}` +
      `MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n${body}\r\n`,
    'latin1',
  );
}

export interface SmtpExchange {
  /** The reply to each RCPT, in order. */
  rcpt: string[];
  /** The reply after the message (or to DATA when no recipient was accepted). */
  data: string;
}

/** One transaction over raw SMTP. */
export async function sendSmtp(
  port: number,
  mailFrom: string,
  rcpts: string[],
  raw: Buffer,
): Promise<SmtpExchange> {
  const { client } = await SmtpLineClient.connect(port);
  try {
    if (!/^250/.test(await client.command('EHLO client.test'))) throw new Error('EHLO refused');
    const from = await client.command(`MAIL FROM:<${mailFrom}>`);
    if (!/^250 /.test(from)) throw new Error(`MAIL FROM refused: ${from}`);
    const rcpt: string[] = [];
    for (const address of rcpts) rcpt.push(await client.command(`RCPT TO:<${address}>`));
    if (!rcpt.some((reply) => reply.startsWith('250'))) return { rcpt, data: '' };
    const [data] = await client.data(raw);
    return { rcpt, data: data! };
  } finally {
    client.close();
  }
}

/** The messages of a user's INBOX or Junk (the \Junk mailbox), as stored. */
export async function storedIn(
  server: TestServer,
  userId: string,
  where: 'INBOX' | 'Junk',
): Promise<Buffer[]> {
  const store = server.server.store;
  const mailboxes = await store.listMailboxes(userId);
  const mailbox = mailboxes.find((candidate) =>
    where === 'Junk' ? candidate.specialUse === '\\Junk' : candidate.path === 'INBOX',
  );
  if (!mailbox) return [];
  const messages = await store.listMessages(mailbox.id);
  return Promise.all(messages.map((message) => store.readBlob(message.blobId)));
}

/** Whether a stored copy is the message with this Subject. */
export function hasSubject(stored: Buffer, subject: string): boolean {
  return stored.toString('latin1').includes(`\r\nSubject: ${subject}\r\n`);
}

/** The header section of a stored copy, unfolded. */
export function headerOf(stored: Buffer): string {
  return stored
    .toString('latin1')
    .split('\r\n\r\n')[0]!
    .replace(/\r\n[ \t]+/g, ' ');
}
