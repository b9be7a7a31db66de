/**
 * Exports a user's mail, or one mailbox, as a tar of mboxrd files or of a Maildir++ tree (see
 * mboxrd.ts and maildir.ts), written to a stream as it is read: bodies are read in bounded batches
 * and each tar entry waits for the reader, so memory stays the same whatever the account's size.
 * An mbox file's size must be known before its tar header, so each folder's mbox is spooled to a
 * temporary file first (disk, not memory), then copied into the tar.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Header, Pack, ReadEntry } from 'tar';
import { sizedBatches, DEFAULT_BATCH_BYTES } from '../store/walk.ts';
import type { Mailbox, MessageSummary, Store, User } from '../store/types.ts';
import { folderDirectory, infoFlags, keywordsFile } from './maildir.ts';
import { mboxEntry } from './mboxrd.ts';

export type ExportFormat = 'mbox' | 'maildir';

export interface ExportOptions {
  format: ExportFormat;
  /** Only this mailbox (its path); every mailbox when absent. */
  mailbox?: string;
  /** Where mbox files are spooled before they go into the tar (default: the system's temp dir). */
  spoolDir?: string;
}

export interface ExportSummary {
  folders: number;
  messages: number;
  bytes: number;
  /** What could not be carried, e.g. keywords past Maildir's 26 per folder. */
  warnings: string[];
}

/** The root directory inside the tar. */
export const ROOTS: Record<ExportFormat, string> = { mbox: 'mbox', maildir: 'Maildir' };

/** The file name a download is offered under. */
export function exportFileName(username: string, format: ExportFormat, mailbox?: string): string {
  const safe = (text: string) => text.replace(/[^\w.@-]+/g, '_');
  return `${safe(username)}${mailbox ? `-${safe(mailbox)}` : ''}-${format}.tar`;
}

/** The mailboxes to export, or a NONEXISTENT-style error for an unknown one. */
export async function mailboxesToExport(store: Store, user: User, only?: string): Promise<Mailbox[]> {
  const mailboxes = (await store.listMailboxes(user.id)).filter((mailbox) => mailbox.selectable);
  // INBOX first: it is the Maildir's root, which a reader meets before the folders below it.
  const key = (mailbox: Mailbox) => (mailbox.path === 'INBOX' ? '' : mailbox.path);
  if (only === undefined) return mailboxes.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const wanted = mailboxes.find(
    (mailbox) => mailbox.path === only || (only.toUpperCase() === 'INBOX' && mailbox.path === 'INBOX'),
  );
  if (!wanted) throw new ExportError(`no mailbox ${only} for ${user.username}`);
  return [wanted];
}

export class ExportError extends Error {
  override name = 'ExportError';
}

class TarWriter {
  readonly pack = new Pack();

  private async ready(): Promise<void> {
    if (!this.pack.flowing) await once(this.pack, 'drain');
  }

  private entry(name: string, size: number, mtime: Date, type: 'File' | 'Directory' = 'File'): ReadEntry {
    const header = new Header({
      path: name,
      mode: type === 'File' ? 0o644 : 0o755,
      size,
      mtime,
      type,
      uid: 0,
      gid: 0,
    });
    const entry = new ReadEntry(header);
    this.pack.write(entry);
    return entry;
  }

  async file(name: string, body: Buffer, mtime: Date): Promise<void> {
    this.entry(name, body.length, mtime).end(body);
    await this.ready();
  }

  async directory(name: string, mtime: Date): Promise<void> {
    this.entry(`${name}/`, 0, mtime, 'Directory').end();
    await this.ready();
  }

  async fromFile(name: string, file: string, mtime: Date): Promise<void> {
    const { size } = await fsp.stat(file);
    const entry = this.entry(name, size, mtime);
    for await (const chunk of fs.createReadStream(file)) {
      if (!entry.write(chunk as Buffer)) await once(entry, 'drain');
    }
    entry.end();
    await this.ready();
  }
}

/** Every message of a mailbox with its body, in UID order, read in bounded batches. */
async function* messagesWithBodies(
  store: Store,
  mailbox: Mailbox,
): AsyncGenerator<{ message: MessageSummary; raw: Buffer }> {
  const messages = await store.listMessages(mailbox.id);
  for (const batch of sizedBatches(messages, DEFAULT_BATCH_BYTES, (message) => message.size)) {
    const bodies = await store.readBlobs(batch.map((message) => message.blobId));
    for (const message of batch) {
      const raw = bodies.get(message.blobId);
      // Expunged while we read: it is simply not part of the export.
      if (raw) yield { message, raw };
    }
  }
}

async function exportMbox(
  store: Store,
  mailboxes: Mailbox[],
  tar: TarWriter,
  summary: ExportSummary,
  spoolDir: string,
): Promise<void> {
  const spool = await fsp.mkdtemp(path.join(spoolDir, 'mallard-export-'));
  try {
    for (const mailbox of mailboxes) {
      const file = path.join(spool, 'folder.mbox');
      const out = fs.createWriteStream(file);
      for await (const { message, raw } of messagesWithBodies(store, mailbox)) {
        if (!out.write(mboxEntry(raw, message.flags, message.internalDate))) await once(out, 'drain');
        summary.messages += 1;
        summary.bytes += raw.length;
      }
      out.end();
      await once(out, 'close');
      await tar.fromFile(`${ROOTS.mbox}/${mailbox.path}.mbox`, file, new Date());
      summary.folders += 1;
    }
  } finally {
    await fsp.rm(spool, { recursive: true, force: true });
  }
}

async function exportMaildir(
  store: Store,
  mailboxes: Mailbox[],
  tar: TarWriter,
  summary: ExportSummary,
): Promise<void> {
  const now = new Date();
  let sequence = 0;
  for (const mailbox of mailboxes) {
    const directory = [ROOTS.maildir, folderDirectory(mailbox.path)].filter(Boolean).join('/');
    for (const sub of ['', '/cur', '/new', '/tmp']) await tar.directory(`${directory}${sub}`, now);
    // Numbered before any message is written, so that a reader of the tar meets the keyword file first.
    const keywords = new Map<string, number>();
    for (const message of await store.listMessages(mailbox.id)) infoFlags(message.flags, keywords);
    if (keywords.size > 0)
      await tar.file(`${directory}/dovecot-keywords`, Buffer.from(keywordsFile(keywords)), now);
    for await (const { message, raw } of messagesWithBodies(store, mailbox)) {
      const { info, dropped } = infoFlags(message.flags, keywords);
      for (const keyword of dropped)
        summary.warnings.push(
          `${mailbox.path} uid ${message.uid}: keyword ${keyword} left out (Maildir has 26 per folder)`,
        );
      const seconds = Math.floor(message.internalDate.getTime() / 1000);
      const name = `${seconds}.M${++sequence}P${message.uid}.mallard,S=${raw.length}:2,${info}`;
      await tar.file(`${directory}/cur/${name}`, raw, message.internalDate);
      summary.messages += 1;
      summary.bytes += raw.length;
    }
    summary.folders += 1;
  }
}

/** Writes the export to `out` (a file, an HTTP response) and ends it. */
export async function exportMail(
  store: Store,
  user: User,
  options: ExportOptions,
  out: Writable,
): Promise<ExportSummary> {
  const mailboxes = await mailboxesToExport(store, user, options.mailbox);
  const tar = new TarWriter();
  const written = pipeline(tar.pack, out);
  const summary: ExportSummary = { folders: 0, messages: 0, bytes: 0, warnings: [] };
  try {
    if (options.format === 'mbox')
      await exportMbox(store, mailboxes, tar, summary, options.spoolDir ?? os.tmpdir());
    else await exportMaildir(store, mailboxes, tar, summary);
    tar.pack.end();
  } catch (error) {
    tar.pack.destroy(error as Error);
    await written.catch(() => {});
    throw error;
  }
  await written;
  return summary;
}
