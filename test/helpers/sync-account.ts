/**
 * A two-way sync scenario shared by the mbsync and offlineimap tests: a 1,000-message account seeded
 * in Mallard across INBOX, Sent, Archive and a nested Projects/2026 (varied sizes and MIME shapes,
 * some 8-bit, every message CRLF so byte comparison is meaningful), a local Maildir as the sync
 * tools write it, changes on both sides (flags, deletes, moves, new mail), and an independent model
 * of what both sides must hold afterwards: per folder the set of Message-IDs and their flags, and
 * every message's bytes.
 *
 * The tools store LF line ends in the Maildir and send CRLF to the server (Maildir is a Unix format),
 * so Maildir bytes are compared with CRLF line ends restored; the seeded messages have no bare CR
 * or LF, which makes that exact.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { expect } from 'vitest';
import type { Store } from '../../server/store/types.ts';
import type { TestServer } from './server.ts';

export const FOLDERS = ['INBOX', 'Sent', 'Archive', 'Projects/2026'] as const;
export type Folder = string;

/** IMAP system flags a Maildir can carry, by Maildir info letter (letters sorted, as the spec asks). */
const LETTER_TO_FLAG: Record<string, string> = {
  D: '\\Draft',
  F: '\\Flagged',
  R: '\\Answered',
  S: '\\Seen',
  T: '\\Deleted',
};
const FLAG_TO_LETTER = Object.fromEntries(Object.entries(LETTER_TO_FLAG).map(([l, f]) => [f, l]));
const SYNCED_FLAGS = new Set(Object.values(LETTER_TO_FLAG));

/** A deterministic PRNG (mulberry32), so every run seeds the same account. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

/**
 * Takes out one header line `name: value` that a sync tool inserted into the header (mbsync's
 * X-TUID, offlineimap's X-OfflineIMAP); bytes without one come back as they are.
 */
export function stripAddedHeader(name: string, value: RegExp): (bytes: Buffer) => Buffer {
  return (bytes) => {
    const text = bytes.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    const header = end < 0 ? text : text.slice(0, end + 2);
    const line = new RegExp(`(^|\\r\\n)${name}: ${value.source}\\r\\n`, 'i').exec(header);
    if (!line) return bytes;
    const start = line.index + line[1]!.length;
    return Buffer.from(text.slice(0, start) + text.slice(start + line[0].length - line[1]!.length), 'latin1');
  };
}

/** Base64 in 76-character lines, CRLF. */
function base64Lines(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

const WORDS = 'alpha beta gamma delta report meeting budget invoice draft review summary agenda'.split(' ');
const UTF8_LINES = [
  'Grüße aus München',
  'Ça va très bien, merci',
  'Привет, мир',
  '日本語のテキスト',
  'Smörgåsbord 🍣',
];

/**
 * Message `n` of the seed: one of six shapes, sizes from a few hundred bytes to ~120 KB. The
 * Message-ID carries `n`, so the two sides can be matched without UIDs.
 */
export function seedMessage(n: number, tag = 'seed'): Buffer {
  const random = prng(n * 7919 + tag.length);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const words = (count: number) => Array.from({ length: count }, () => pick(WORDS)).join(' ');
  const date = new Date(Date.UTC(2025, 0, 1) + n * 3_600_000 * 7);
  const headers = [
    `From: ${pick(['Alice <alice@example.org>', 'bob@example.net', '"Carol, C." <carol@example.com>'])}`,
    `To: ${pick(['team@example.org', 'Dave <dave@example.net>', 'eve@example.com, frank@example.com'])}`,
    `Subject: ${n % 11 === 0 ? `=?UTF-8?Q?Gr=C3=BC=C3=9Fe_${n}?=` : `${words(4)} #${n}`}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${tag}-${n}@mallard.test>`,
  ];
  const shape = n % 6;
  let body: string;
  if (shape === 0) {
    headers.push('Content-Type: text/plain; charset=us-ascii');
    body = Array.from({ length: 1 + Math.floor(random() * 40) }, () => words(10)).join('\r\n') + '\r\n';
  } else if (shape === 1) {
    headers.push(
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
    );
    body =
      Array.from({ length: 2 + Math.floor(random() * 20) }, () => pick(UTF8_LINES)).join('\r\n') + '\r\n';
  } else if (shape === 2) {
    headers.push('MIME-Version: 1.0', `Content-Type: multipart/alternative; boundary="alt-${n}"`);
    const text = words(30);
    body =
      `--alt-${n}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n` +
      `${text} Gr=C3=BC=C3=9Fe\r\n` +
      `--alt-${n}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>${text}</p>\r\n` +
      `--alt-${n}--\r\n`;
  } else if (shape === 3) {
    const size =
      random() < 0.05 ? 80_000 + Math.floor(random() * 40_000) : 500 + Math.floor(random() * 12_000);
    const attachment = Buffer.alloc(size);
    for (let i = 0; i < size; i++) attachment[i] = Math.floor(random() * 256);
    headers.push('MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="mix-${n}"`);
    body =
      `This is a multi-part message in MIME format.\r\n--mix-${n}\r\n` +
      `Content-Type: text/plain; charset=us-ascii\r\n\r\nSee the attached file.\r\n` +
      `--mix-${n}\r\nContent-Type: application/octet-stream; name="file-${n}.bin"\r\n` +
      `Content-Disposition: attachment; filename="file-${n}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
      `${base64Lines(attachment)}\r\n--mix-${n}--\r\n`;
  } else if (shape === 4) {
    headers.push('MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="fwd-${n}"`);
    body =
      `--fwd-${n}\r\nContent-Type: text/plain\r\n\r\nForwarded below.\r\n` +
      `--fwd-${n}\r\nContent-Type: message/rfc822\r\n\r\n` +
      `From: inner@example.org\r\nSubject: inner ${n}\r\nMessage-ID: <inner-${n}@example.org>\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n` +
      `${pick(UTF8_LINES)}\r\n` +
      `--fwd-${n}--\r\n`;
  } else {
    headers.push('Content-Type: text/plain; charset=us-ascii');
    const lines = 50 + Math.floor(random() * 400);
    body = Array.from({ length: lines }, (_, i) => `${i}: ${words(12)}`).join('\r\n') + '\r\n';
  }
  return Buffer.from(headers.join('\r\n') + '\r\n\r\n' + body, 'utf8');
}

/** Seed flags of message `n`. */
function seedFlags(n: number): string[] {
  const random = prng(n * 104729);
  const flags: string[] = [];
  if (random() < 0.6) flags.push('\\Seen');
  if (random() < 0.1) flags.push('\\Flagged');
  if (random() < 0.1) flags.push('\\Answered');
  if (random() < 0.02) flags.push('\\Draft');
  return flags;
}

export function messageIdOf(raw: Buffer): string | null {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const header = end < 0 ? text : text.slice(0, end);
  return /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(header)?.[1] ?? null;
}

/** What one side holds: folder → Message-ID → flags (sorted) and bytes (CRLF). */
export interface SideState {
  folders: Map<Folder, Map<string, { flags: string[]; bytes: Buffer; where: string }>>;
  /** Message-IDs seen twice in one folder (a sync duplicating mail), and files without one. */
  problems: string[];
}

/** The expected final state, kept as changes are made. */
export class Model {
  readonly folders = new Map<Folder, Map<string, Set<string>>>();
  readonly bytes = new Map<string, Buffer>();

  add(folder: Folder, id: string, flags: Iterable<string>, bytes: Buffer): void {
    if (!this.folders.has(folder)) this.folders.set(folder, new Map());
    this.folders.get(folder)!.set(id, new Set(flags));
    this.bytes.set(id, bytes);
  }

  remove(folder: Folder, id: string): void {
    if (!this.folders.get(folder)?.delete(id)) throw new Error(`model: ${id} not in ${folder}`);
  }

  move(from: Folder, to: Folder, id: string): void {
    const flags = this.folders.get(from)?.get(id);
    if (!flags) throw new Error(`model: ${id} not in ${from}`);
    this.remove(from, id);
    this.add(to, id, flags, this.bytes.get(id)!);
  }

  setFlags(folder: Folder, id: string, flags: Iterable<string>): void {
    if (!this.folders.get(folder)?.has(id)) throw new Error(`model: ${id} not in ${folder}`);
    this.folders.get(folder)!.set(id, new Set(flags));
  }

  flags(folder: Folder, id: string): Set<string> {
    return this.folders.get(folder)!.get(id)!;
  }

  /** Message-IDs of a folder in seed order. */
  ids(folder: Folder): string[] {
    return [...(this.folders.get(folder)?.keys() ?? [])];
  }

  /** A comparable summary: folder → sorted "id flags" lines. */
  summary(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [folder, messages] of [...this.folders].sort(([a], [b]) => a.localeCompare(b))) {
      out[folder] = [...messages].map(([id, flags]) => `${id} ${[...flags].sort().join(' ')}`.trim()).sort();
    }
    return out;
  }
}

export function summarise(state: SideState, folders: Iterable<Folder>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const folder of [...folders].sort((a, b) => a.localeCompare(b))) {
    const messages = state.folders.get(folder) ?? new Map();
    out[folder] = [...messages].map(([id, m]) => `${id} ${m.flags.join(' ')}`.trim()).sort();
  }
  return out;
}

/**
 * Messages whose bytes differ from the model's (by folder and Message-ID). `strip` takes out what
 * the sync tool itself adds (and says so in its test), before comparing.
 */
export function byteMismatches(
  state: SideState,
  model: Model,
  strip: (bytes: Buffer) => Buffer = (b) => b,
): string[] {
  const out: string[] = [];
  for (const [folder, messages] of state.folders) {
    for (const [id, message] of messages) {
      const expected = model.bytes.get(id);
      if (!expected) continue;
      if (!strip(message.bytes).equals(expected)) {
        out.push(
          `${folder} ${id} (${message.where}): ${message.bytes.length} bytes, expected ${expected.length}`,
        );
      }
    }
  }
  return out;
}

const sortedFlags = (flags: Iterable<string>) => [...flags].filter((f) => SYNCED_FLAGS.has(f)).sort();

/** Reads the server side straight from the store. */
export async function readServer(store: Store, userId: string): Promise<SideState> {
  const state: SideState = { folders: new Map(), problems: [] };
  for (const mailbox of await store.listMailboxes(userId)) {
    if (!mailbox.selectable) continue;
    const messages = new Map<string, { flags: string[]; bytes: Buffer; where: string }>();
    for (const summary of await store.listMessages(mailbox.id)) {
      const bytes = await store.readBlob(summary.blobId);
      const id = messageIdOf(bytes);
      if (id === null) state.problems.push(`server ${mailbox.path} UID ${summary.uid}: no Message-ID`);
      else if (messages.has(id)) state.problems.push(`server ${mailbox.path}: ${id} twice`);
      else messages.set(id, { flags: sortedFlags(summary.flags), bytes, where: `UID ${summary.uid}` });
    }
    state.folders.set(mailbox.path, messages);
  }
  return state;
}

export interface MaildirFile {
  folder: Folder;
  /** Absolute path. */
  file: string;
  flags: string[];
}

/** The Maildir files of a tree whose folders are directories named as the IMAP path ("/" nested). */
export function listMaildir(root: string): MaildirFile[] {
  const out: MaildirFile[] = [];
  const visit = (dir: string) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    if (entries.some((e) => e.isDirectory() && e.name === 'cur')) {
      const folder = path.relative(root, dir).split(path.sep).join('/');
      for (const sub of ['cur', 'new']) {
        const subdir = path.join(dir, sub);
        if (!fs.existsSync(subdir)) continue;
        for (const name of fs.readdirSync(subdir)) {
          if (name.startsWith('.')) continue;
          out.push({ folder, file: path.join(subdir, name), flags: flagsOfName(name) });
        }
      }
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !['cur', 'new', 'tmp'].includes(entry.name) && !entry.name.startsWith('.')) {
        visit(path.join(dir, entry.name));
      }
    }
  };
  visit(root);
  return out;
}

function flagsOfName(name: string): string[] {
  const info = /:2,([A-Za-z]*)$/.exec(name)?.[1] ?? '';
  return [...info]
    .map((letter) => LETTER_TO_FLAG[letter])
    .filter((f): f is string => f !== undefined)
    .sort();
}

export function readMaildir(root: string): SideState {
  const state: SideState = { folders: new Map(), problems: [] };
  for (const file of listMaildir(root)) {
    if (!state.folders.has(file.folder)) state.folders.set(file.folder, new Map());
    const messages = state.folders.get(file.folder)!;
    const raw = fs.readFileSync(file.file);
    const id = messageIdOf(raw);
    if (id === null) state.problems.push(`maildir ${file.file}: no Message-ID`);
    else if (messages.has(id)) state.problems.push(`maildir ${file.folder}: ${id} twice`);
    else
      messages.set(id, {
        flags: file.flags,
        bytes: Buffer.from(crlf(raw.toString('latin1')), 'latin1'),
        where: file.file,
      });
  }
  return state;
}

/** Maildir info letters of IMAP flags, sorted. */
function letters(flags: Iterable<string>): string {
  return [...flags]
    .map((f) => FLAG_TO_LETTER[f])
    .filter(Boolean)
    .sort()
    .join('');
}

let uniqueCounter = 0;

/** Changes on the Maildir side, as a mail program working on the Maildir would make them. */
export class MaildirEditor {
  constructor(
    private readonly root: string,
    private readonly model: Model,
  ) {}

  private find(folder: Folder, id: string): MaildirFile {
    for (const file of listMaildir(this.root)) {
      if (file.folder === folder && messageIdOf(fs.readFileSync(file.file)) === id) return file;
    }
    throw new Error(`maildir: ${id} not in ${folder}`);
  }

  /** The file name without its info; tool bookkeeping (,U=… ,FMD5=…) removed when asked. */
  private static baseName(file: string, stripToolFields: boolean): string {
    let base = path.basename(file).replace(/:2,[A-Za-z]*$/, '');
    if (stripToolFields) base = base.replace(/,U=\d+/, '').replace(/,FMD5=[0-9a-f]+/, '');
    return base;
  }

  setFlags(folder: Folder, id: string, flags: string[]): void {
    const file = this.find(folder, id);
    const target = path.join(
      this.root,
      ...folder.split('/'),
      'cur',
      `${MaildirEditor.baseName(file.file, false)}:2,${letters(flags)}`,
    );
    fs.renameSync(file.file, target);
    this.model.setFlags(folder, id, flags);
  }

  delete(folder: Folder, id: string): void {
    fs.unlinkSync(this.find(folder, id).file);
    this.model.remove(folder, id);
  }

  /**
   * Moves a file to another folder. Its tool bookkeeping goes (a UID of the old folder means
   * nothing in the new one: mbsync's manual says to strip ",U=" when moving by hand).
   */
  move(from: Folder, to: Folder, id: string): void {
    const file = this.find(from, id);
    const flags = this.model.flags(from, id);
    const target = path.join(
      this.root,
      ...to.split('/'),
      'cur',
      `${MaildirEditor.baseName(file.file, true)}:2,${letters(flags)}`,
    );
    fs.renameSync(file.file, target);
    this.model.move(from, to, id);
  }

  /** A new message written as a local program would: LF line ends, in new/ or cur/. */
  add(folder: Folder, raw: Buffer, flags: string[]): void {
    const lf = Buffer.from(raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    const unique = `${Math.floor(Date.now() / 1000)}.M${++uniqueCounter}P${process.pid}R${crypto.randomBytes(4).toString('hex')}.localhost`;
    const dir = path.join(this.root, ...folder.split('/'));
    const target =
      flags.length > 0
        ? path.join(dir, 'cur', `${unique}:2,${letters(flags)}`)
        : path.join(dir, 'new', unique);
    const tmp = path.join(dir, 'tmp', unique);
    fs.mkdirSync(path.dirname(tmp), { recursive: true });
    fs.writeFileSync(tmp, lf);
    fs.renameSync(tmp, target);
    this.model.add(folder, messageIdOf(raw)!, flags, raw);
  }
}

/** The seeded account and its model. */
export interface SeededAccount {
  userId: string;
  username: string;
  password: string;
  model: Model;
}

/** How many of the 1,000 seeded messages go to each folder. */
const SEED_COUNTS: Array<[Folder, number]> = [
  ['INBOX', 450],
  ['Sent', 200],
  ['Archive', 250],
  ['Projects/2026', 100],
];

export async function seedAccount(
  server: TestServer,
  username: string,
  password: string,
): Promise<SeededAccount> {
  const { store } = server.server;
  const userId = await server.addUser(username, password);
  const model = new Model();
  let n = 0;
  for (const [folder, count] of SEED_COUNTS) {
    const mailbox = (await store.getMailbox(userId, folder)) ?? (await store.createMailbox(userId, folder));
    for (let i = 0; i < count; i++) {
      n++;
      const raw = seedMessage(n);
      const flags = seedFlags(n);
      await store.append(mailbox.id, raw, {
        flags,
        internalDate: new Date(Date.UTC(2025, 0, 1) + n * 60_000),
      });
      model.add(folder, messageIdOf(raw)!, flags, raw);
    }
  }
  for (const mailbox of await store.listMailboxes(userId)) {
    if (!model.folders.has(mailbox.path) && mailbox.selectable) model.folders.set(mailbox.path, new Map());
  }
  return { userId, username, password, model };
}

/**
 * The local changes between the first and second sync: flags set and cleared, files deleted, files
 * moved between folders, new messages. Each touches messages no server change touches.
 */
export function changeMaildir(editor: MaildirEditor, model: Model): void {
  const inbox = model.ids('INBOX');
  const sent = model.ids('Sent');
  const archive = model.ids('Archive');
  for (const id of inbox.slice(0, 20)) {
    editor.setFlags('INBOX', id, [...new Set([...model.flags('INBOX', id), '\\Seen', '\\Flagged'])]);
  }
  for (const [i, id] of sent.slice(0, 10).entries()) {
    const flags = [...model.flags('Sent', id)].filter((f) => f !== '\\Seen');
    editor.setFlags('Sent', id, i < 5 ? [...flags.filter((f) => f !== '\\Answered'), '\\Answered'] : flags);
  }
  for (const id of inbox.slice(20, 30)) editor.delete('INBOX', id);
  for (const id of archive.slice(0, 5)) editor.delete('Archive', id);
  for (const id of inbox.slice(30, 40)) editor.move('INBOX', 'Archive', id);
  for (const id of archive.slice(5, 10)) editor.move('Archive', 'Projects/2026', id);
  let n = 0;
  for (const [folder, count, flags] of [
    ['INBOX', 10, []],
    ['Projects/2026', 5, ['\\Seen']],
    ['Sent', 3, ['\\Seen', '\\Answered']],
  ] as Array<[Folder, number, string[]]>) {
    for (let i = 0; i < count; i++) editor.add(folder, seedMessage(5000 + ++n, 'local'), flags);
  }
}

/**
 * The server changes between the first and second sync, made over IMAP with imapflow: flags,
 * deletes (STORE \Deleted + EXPUNGE), MOVEs and APPENDs.
 */
export async function changeServer(server: TestServer, account: SeededAccount): Promise<void> {
  const { model } = account;
  const { store } = server.server;
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: server.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user: account.username, pass: account.password },
    logger: false,
    disableAutoIdle: true,
  });
  await client.connect();
  const uidsOf = async (folder: Folder, ids: string[]): Promise<number[]> => {
    const mailbox = (await store.getMailbox(account.userId, folder))!;
    const byId = new Map<string, number>();
    for (const summary of await store.listMessages(mailbox.id)) {
      byId.set(messageIdOf(await store.readBlob(summary.blobId))!, summary.uid);
    }
    return ids.map((id) => {
      const uid = byId.get(id);
      if (uid === undefined) throw new Error(`server: ${id} not in ${folder}`);
      return uid;
    });
  };
  try {
    const inbox = model.ids('INBOX');
    const sent = model.ids('Sent');
    const archive = model.ids('Archive');

    await client.mailboxOpen('INBOX');
    const answered = inbox.slice(100, 120);
    await client.messageFlagsAdd((await uidsOf('INBOX', answered)).join(','), ['\\Answered'], { uid: true });
    for (const id of answered) model.setFlags('INBOX', id, [...model.flags('INBOX', id), '\\Answered']);
    const deleted = inbox.slice(120, 130);
    await client.messageDelete((await uidsOf('INBOX', deleted)).join(','), { uid: true });
    for (const id of deleted) model.remove('INBOX', id);
    const toProjects = inbox.slice(130, 135);
    await client.messageMove((await uidsOf('INBOX', toProjects)).join(','), 'Projects/2026', { uid: true });
    for (const id of toProjects) model.move('INBOX', 'Projects/2026', id);

    await client.mailboxOpen('Archive');
    const unread = archive.slice(100, 110);
    await client.messageFlagsSet((await uidsOf('Archive', unread)).join(','), ['\\Flagged'], { uid: true });
    for (const id of unread) model.setFlags('Archive', id, ['\\Flagged']);
    const toInbox = archive.slice(110, 120);
    await client.messageMove((await uidsOf('Archive', toInbox)).join(','), 'INBOX', { uid: true });
    for (const id of toInbox) model.move('Archive', 'INBOX', id);

    await client.mailboxOpen('Sent');
    const toArchive = sent.slice(100, 105);
    await client.messageMove((await uidsOf('Sent', toArchive)).join(','), 'Archive', { uid: true });
    for (const id of toArchive) model.move('Sent', 'Archive', id);
    await client.mailboxClose();

    let n = 0;
    for (const [folder, count, flags] of [
      ['Sent', 5, ['\\Seen']],
      ['Archive', 3, []],
    ] as Array<[Folder, number, string[]]>) {
      for (let i = 0; i < count; i++) {
        const raw = seedMessage(7000 + ++n, 'remote');
        await client.append(folder, raw, flags);
        model.add(folder, messageIdOf(raw)!, flags, raw);
      }
    }
  } finally {
    await client.logout();
  }
}

/**
 * Both sides of a sync (the server's store and the local Maildir) hold exactly the model's
 * messages per folder, with its flags and bytes. `normalise` takes off what a client adds.
 */
export async function expectBothSidesMatchModel(
  server: TestServer,
  account: SeededAccount,
  maildir: string,
  normalise?: (bytes: Buffer) => Buffer,
): Promise<void> {
  const folders = new Set(account.model.folders.keys());
  const remote = await readServer(server.server.store, account.userId);
  const local = readMaildir(maildir);
  for (const folder of [...remote.folders.keys(), ...local.folders.keys()]) folders.add(folder);
  expect(remote.problems, 'server: duplicates or messages without Message-ID').toEqual([]);
  expect(local.problems, 'maildir: duplicates or messages without Message-ID').toEqual([]);
  const expected = account.model.summary();
  for (const folder of folders) expected[folder] ??= [];
  expect(summarise(remote, folders), 'server: messages and flags per folder').toEqual(expected);
  expect(summarise(local, folders), 'maildir: messages and flags per folder').toEqual(expected);
  expect(byteMismatches(remote, account.model, normalise), 'server: bytes').toEqual([]);
  expect(byteMismatches(local, account.model, normalise), 'maildir: bytes (LF restored to CRLF)').toEqual([]);
}
