/**
 * The reads answered on the event loop itself, not by a store thread: a mailbox's row and its
 * counters (getMailbox, getMailboxById, mailboxCounts, mailboxStatus: STATUS, SELECT's first look,
 * LIST's STATUS). Each is one or two lookups on a primary key or unique index, a few microseconds,
 * so the round trip to the reader thread (two thread wake-ups, a structured clone each way) cost
 * many times the work, and more when the machine is busy. Nothing here grows with the mailbox.
 *
 * Its own connection, in WAL mode: it never waits for the writer, and each statement sees every
 * write already committed, as the reader thread's does. Everything else, and anything that reads
 * messages or bodies, stays on the threads.
 */
import { parseId, requireId } from '../ids.ts';
import type { Id, Mailbox, MailboxCounts, MailboxStatus } from '../types.ts';
import { openReadConnection, type Sql } from './database.ts';
import { guard } from './guard.ts';
import * as reads from './mailbox-reads.ts';

export class InlineReads {
  private constructor(private readonly sql: Sql) {}

  static open(dataDir: string): InlineReads {
    return new InlineReads(guard(() => openReadConnection(dataDir)));
  }

  getMailbox(userId: Id, mailboxPath: string): Promise<Mailbox | null> {
    const id = parseId(userId);
    return this.read((sql) => (id === null ? null : reads.getMailbox(sql, id, mailboxPath)));
  }

  getMailboxById(mailboxId: Id): Promise<Mailbox | null> {
    const id = parseId(mailboxId);
    return this.read((sql) => (id === null ? null : reads.getMailboxById(sql, id)));
  }

  mailboxCounts(mailboxId: Id): Promise<MailboxCounts> {
    return this.read((sql) => reads.mailboxCounts(sql, requireId(mailboxId, 'mailbox')));
  }

  mailboxStatus(userId: Id, mailboxPath: string): Promise<MailboxStatus | null> {
    const id = parseId(userId);
    return this.read((sql) => (id === null ? null : reads.mailboxStatus(sql, id, mailboxPath)));
  }

  close(): void {
    this.sql.db.close();
  }

  private read<T>(fn: (sql: Sql) => T): Promise<T> {
    try {
      return Promise.resolve(guard(() => fn(this.sql)));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
}
