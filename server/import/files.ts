/**
 * Imports mbox and Maildir files (see file-tree.ts for the layouts read) into a user's mailboxes
 * through the store's append, with flags and internal dates kept: the From line's date (mbox) or
 * the file's mtime (Maildir, as Dovecot takes it), else the Date field. A tar (our export, or any
 * tar of such a tree) or a zip (zip.ts) is unpacked to a temporary directory first. Folders named like special ones
 * (Sent Items, Deleted Messages, Spam…) land in ours. Nothing arrives twice: a message is skipped
 * when the target mailbox holds the same bytes, or a message with the same Message-ID and the
 * same body (the part after the header, which mail stores leave alone when they add fields).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { x as extractTar } from 'tar';
import { isStoreError } from '../store/errors.ts';
import type { Flag, Id, Mailbox, SpecialUse, Store } from '../store/types.ts';
import { DEFAULT_BATCH_BYTES, sizedBatches } from '../store/walk.ts';
import { flagsOfFileName, parseKeywordsFile } from '../export/maildir.ts';
import { findFolders, type SourceFolder } from './file-tree.ts';
import { readMbox } from './mbox-reader.ts';
import { Progress } from './progress.ts';
import { extractZip, looksLikeZip } from './zip.ts';

export interface FileImportOptions {
  userId: Id;
  /** A file, a directory, a .tar (.tar.gz) or a .zip of them. */
  source: string;
  /** Import into this mailbox (one source folder) or below it (a tree). */
  mailbox?: string;
  maxMessageSize: number;
  print: (line: string) => void;
  /** Where a tar is unpacked (default: the system's temp dir). */
  spoolDir?: string;
  /** Where the counts go, when the caller reads them while the import runs (a job). */
  progress?: Progress;
  /** Stops the import between two messages (a job cancelled from the panel). */
  signal?: AbortSignal;
}

/** Top-level folder names of mail programs, in lower case, and the special folder each is. */
const SPECIAL_NAMES: Record<string, SpecialUse> = {
  sent: '\\Sent',
  'sent items': '\\Sent',
  'sent messages': '\\Sent',
  'sent mail': '\\Sent',
  drafts: '\\Drafts',
  draft: '\\Drafts',
  trash: '\\Trash',
  'deleted items': '\\Trash',
  'deleted messages': '\\Trash',
  bin: '\\Trash',
  junk: '\\Junk',
  'junk e-mail': '\\Junk',
  'junk email': '\\Junk',
  spam: '\\Junk',
  archive: '\\Archive',
  archives: '\\Archive',
};

/** Where a source folder goes: a path here and, for a special folder, its special use. */
export function targetOf(
  levels: string[],
  into: string | undefined,
  single: boolean,
): { path: string; specialUse: SpecialUse | null } {
  const clean = levels.map((level) => level.replaceAll('/', '_'));
  if (into !== undefined) return { path: single ? into : [into, ...clean].join('/'), specialUse: null };
  if (clean.length === 0) return { path: 'INBOX', specialUse: null };
  if (clean.length === 1) {
    const name = clean[0]!.toLowerCase();
    if (name === 'inbox') return { path: 'INBOX', specialUse: null };
    const special = SPECIAL_NAMES[name];
    if (special) return { path: clean[0]!, specialUse: special };
  }
  return { path: clean.join('/'), specialUse: null };
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Message-ID and a hash of the body: the same message with other header fields added. */
function contentKey(raw: Buffer): string | null {
  const end = raw.indexOf(HEADER_END);
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  const id = /^Message-ID:[ \t]*(?:\r\n[ \t]+)?(<[^>\r\n]+>)/im.exec(head)?.[1];
  if (!id) return null;
  const body = end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4);
  return `${id}\0${createHash('sha256').update(body).digest('hex')}`;
}

/** The Date field, for a message that came without another date. */
function dateField(raw: Buffer): Date | null {
  const end = raw.indexOf(HEADER_END);
  const head = raw.subarray(0, end < 0 ? Math.min(raw.length, 65536) : end).toString('latin1');
  const value = /^Date:[ \t]*([^\r\n]+(?:\r\n[ \t][^\r\n]*)*)/im.exec(head)?.[1];
  if (!value) return null;
  const date = new Date(
    value
      .replace(/\r\n/g, '')
      .replace(/\([^)]*\)/g, '')
      .trim(),
  );
  return Number.isNaN(date.getTime()) ? null : date;
}

/** What a target mailbox already holds, to know a duplicate: exact bytes and Message-ID + body. */
class Known {
  readonly blobs = new Set<string>();
  readonly contents = new Set<string>();

  static async of(store: Store, mailbox: Mailbox): Promise<Known> {
    const known = new Known();
    const messages = await store.listMessages(mailbox.id);
    for (const message of messages) known.blobs.add(message.blobId);
    for (const batch of sizedBatches(messages, DEFAULT_BATCH_BYTES, (message) => message.size)) {
      const bodies = await store.readBlobs(batch.map((message) => message.blobId));
      for (const raw of bodies.values()) {
        const key = contentKey(raw);
        if (key) known.contents.add(key);
      }
    }
    return known;
  }
}

interface Candidate {
  raw: Buffer;
  flags: Flag[];
  date: Date | null;
  /** Where it came from, for the report. */
  item: string;
}

class FileImport {
  readonly progress: Progress;

  constructor(
    private readonly store: Store,
    private readonly options: FileImportOptions,
  ) {
    this.progress = options.progress ?? new Progress(options.print);
  }

  private async target(folder: SourceFolder, single: boolean): Promise<Mailbox> {
    const { path: target, specialUse } = targetOf(folder.levels, this.options.mailbox, single);
    const { store, options } = this;
    if (specialUse) {
      const special = (await store.listMailboxes(options.userId)).find(
        (mailbox) => mailbox.specialUse === specialUse,
      );
      if (special) return special;
    }
    const existing = await store.getMailbox(options.userId, target);
    if (existing?.selectable) return existing;
    return store.createMailbox(options.userId, target, specialUse);
  }

  async run(root: string): Promise<void> {
    const { folders, skipped } = findFolders(root);
    for (const reason of skipped) this.progress.skip({ folder: reason.split(':')[0]!, uid: null, reason });
    for (const folder of folders) {
      const mailbox = await this.target(folder, folders.length === 1);
      this.options.print(`${folder.levels.join('/') || 'INBOX'} -> ${mailbox.path}`);
      const known = await Known.of(this.store, mailbox);
      const items = folder.kind === 'mbox' ? this.mboxItems(folder.file) : this.maildirItems(folder.dir);
      for await (const candidate of items) {
        this.options.signal?.throwIfAborted();
        await this.add(mailbox, known, folder.levels.join('/') || 'INBOX', candidate);
      }
    }
    this.progress.printLine();
  }

  private async *mboxItems(file: string): AsyncGenerator<Candidate | { tooBig: number; item: string }> {
    let index = 0;
    for await (const entry of readMbox(file, this.options.maxMessageSize)) {
      index += 1;
      const item = `message ${index}`;
      if (entry.kind === 'too-big') {
        yield { tooBig: entry.size, item };
        continue;
      }
      if (entry.raw.length === 0) {
        this.progress.skip({
          folder: path.basename(file),
          uid: null,
          reason: `${item}: empty (a From line and nothing else)`,
        });
        continue;
      }
      if (entry.expunged) {
        this.progress.skip({
          folder: path.basename(file),
          uid: null,
          reason: `${item}: deleted in Thunderbird, not yet compacted away`,
        });
        continue;
      }
      yield { raw: entry.raw, flags: entry.flags, date: entry.fromDate, item };
    }
  }

  private async *maildirItems(dir: string): AsyncGenerator<Candidate | { tooBig: number; item: string }> {
    const keywordFile = path.join(dir, 'dovecot-keywords');
    const keywords = fs.existsSync(keywordFile)
      ? parseKeywordsFile(await fsp.readFile(keywordFile, 'utf8'))
      : new Map<number, string>();
    for (const sub of ['cur', 'new']) {
      const subdir = path.join(dir, sub);
      if (!fs.existsSync(subdir)) continue;
      // Maildir names start with the delivery time: sorted by name is (about) the order of arrival.
      for (const name of (await fsp.readdir(subdir)).sort()) {
        const file = path.join(subdir, name);
        const stat = await fsp.stat(file);
        if (!stat.isFile()) continue;
        if (stat.size > this.options.maxMessageSize) {
          yield { tooBig: stat.size, item: name };
          continue;
        }
        const flags = sub === 'cur' ? flagsOfFileName(name, keywords) : [];
        yield { raw: await fsp.readFile(file), flags, date: stat.mtime, item: name };
      }
    }
  }

  private async add(
    mailbox: Mailbox,
    known: Known,
    folder: string,
    candidate: Candidate | { tooBig: number; item: string },
  ): Promise<void> {
    const { progress } = this;
    if ('tooBig' in candidate) {
      progress.expect(1, candidate.tooBig);
      progress.skip({
        folder,
        uid: null,
        reason: `${candidate.item}: too big (${candidate.tooBig} > ${this.options.maxMessageSize} bytes)`,
      });
      progress.done(candidate.tooBig, 'skipped');
      return;
    }
    const { raw } = candidate;
    progress.expect(1, raw.length);
    const hash = createHash('sha256').update(raw).digest('hex');
    const key = contentKey(raw);
    if (known.blobs.has(hash) || (key !== null && known.contents.has(key))) {
      progress.done(raw.length, 'duplicate');
      return;
    }
    const internalDate = candidate.date ?? dateField(raw) ?? new Date();
    try {
      await this.store.append(mailbox.id, raw, { flags: candidate.flags, internalDate });
    } catch (error) {
      if (isStoreError(error, 'OVERQUOTA') || isStoreError(error, 'INVALID')) {
        progress.skip({ folder, uid: null, reason: `${candidate.item}: ${(error as Error).message}` });
        progress.done(raw.length, 'skipped');
        return;
      }
      throw error;
    }
    known.blobs.add(hash);
    if (key !== null) known.contents.add(key);
    progress.done(raw.length, 'imported');
  }
}

/**
 * The directory an archive holds its mail in: its one top directory, else where it was unpacked.
 * A top directory that is itself a folder (Apple's `Name.mbox/`, Thunderbird's `Name.sbd/`) is
 * kept, so that its name names the folder.
 */
function unpackedRoot(dir: string): string {
  const entries = fs.readdirSync(dir);
  const only = entries.length === 1 ? entries[0]! : null;
  if (only && !/\.(mbox|sbd)$/i.test(only) && fs.statSync(path.join(dir, only)).isDirectory())
    return path.join(dir, only);
  return dir;
}

function isTar(file: string): boolean {
  if (/\.(tar|tar\.gz|tgz)$/i.test(file)) return true;
  const fd = fs.openSync(file, 'r');
  try {
    const block = Buffer.alloc(512);
    const read = fs.readSync(fd, block, 0, 512, 0);
    return read === 512 && block.toString('latin1', 257, 262) === 'ustar';
  } finally {
    fs.closeSync(fd);
  }
}

/** A tar or a zip by its name or its first bytes; null for anything else (an mbox file). */
function archiveKind(file: string): 'tar' | 'zip' | null {
  if (/\.zip$/i.test(file) || looksLikeZip(file)) return 'zip';
  return isTar(file) ? 'tar' : null;
}

/** Runs the import; the progress's report lists what was skipped and why. */
export async function importFiles(store: Store, options: FileImportOptions): Promise<Progress> {
  const stat = fs.statSync(options.source, { throwIfNoEntry: false });
  if (!stat) throw new Error(`no such file or directory: ${options.source}`);
  const importer = new FileImport(store, options);
  const archive = stat.isFile() ? archiveKind(options.source) : null;
  if (archive) {
    const spool = await fsp.mkdtemp(path.join(options.spoolDir ?? os.tmpdir(), 'mallard-import-'));
    try {
      // node-tar and extractZip refuse absolute paths and "..": nothing lands outside the spool.
      if (archive === 'zip') await extractZip(options.source, spool);
      else await extractTar({ file: options.source, cwd: spool, strict: true, preserveOwner: false });
      await importer.run(unpackedRoot(spool));
    } finally {
      await fsp.rm(spool, { recursive: true, force: true });
    }
  } else await importer.run(options.source);
  return importer.progress;
}
