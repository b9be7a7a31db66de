/**
 * Small fixtures for IMAP transcript tests: a logged-in line client, a fresh mailbox filled with
 * messages straight through the store, and an imapflow client.
 */
import { ImapFlow } from 'imapflow';
import { expect } from 'vitest';
import type { Mailbox } from '../../server/store/types.ts';
import { LineClient, type TestServer } from './server.ts';

export interface Account {
  server: TestServer;
  userId: string;
  username: string;
  password: string;
}

let accounts = 0;

/** A new user of its own, so tests do not see each other's mail. */
export async function newAccount(server: TestServer, quotaBytes?: number): Promise<Account> {
  const username = `user${++accounts}-${process.pid}@example.test`;
  const password = 'secret pass';
  const userId = await server.addUser(username, password, quotaBytes);
  return { server, userId, username, password };
}

const openClients = new Set<{ close(): unknown }>();

/** Closes the clients a test left open (a failed assertion skips its own close). */
export function closeClients(): void {
  for (const client of openClients) client.close();
  openClients.clear();
}

export async function loggedIn(account: Account): Promise<LineClient> {
  const client = await LineClient.connect(account.server.imapPort);
  openClients.add(client);
  await client.readUntil(/^\* OK/);
  expect(await client.command('L', `LOGIN ${account.username} "${account.password}"`)).toMatch(/^L OK /m);
  return client;
}

/** A raw message with a subject, `size` bytes of body at least. */
export function rawMessage(subject: string, size = 0): Buffer {
  return Buffer.from(`From: a@example.test\r\nSubject: ${subject}\r\n\r\nbody ${'x'.repeat(size)}\r\n`);
}

/**
 * Creates `path` (INBOX exists already) and appends one message per entry, with those flags. The
 * messages are not \Recent (as if an earlier session had seen them) unless `recent` is set.
 */
export async function mailboxWith(
  account: Account,
  path: string,
  flags: string[][],
  { recent = false } = {},
): Promise<Mailbox> {
  const { store } = account.server.server;
  const mailbox =
    (await store.getMailbox(account.userId, path)) ?? (await store.createMailbox(account.userId, path));
  for (const [index, messageFlags] of flags.entries()) {
    await store.append(mailbox.id, rawMessage(`message ${index + 1}`), { flags: messageFlags });
  }
  if (!recent) await store.claimRecent(mailbox.id);
  return (await store.getMailboxById(mailbox.id))!;
}

/** The stored flags of each message of a mailbox, by UID. */
export async function storedFlags(account: Account, mailboxId: string): Promise<Record<number, string[]>> {
  const messages = await account.server.server.store.listMessages(mailboxId);
  return Object.fromEntries(messages.map((message) => [message.uid, message.flags]));
}

export async function imapflowClient(account: Account): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: account.server.imapPort,
    secure: false,
    auth: { user: account.username, pass: account.password },
    logger: false,
    disableAutoIdle: true,
    tls: { rejectUnauthorized: false },
  });
  await client.connect();
  openClients.add(client);
  return client;
}
