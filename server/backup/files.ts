/**
 * Backup files on disk: written under a temporary name, fsynced, then renamed into place (and the
 * folder fsynced), so a backup killed half-way (kill -9, a full disk, a pulled cable) leaves a
 * `.partial` file behind and never a damaged backup under a real name; the last good backup is
 * never replaced by a broken one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import zlib from 'node:zlib';
import { Decrypter, Encrypter } from 'age-encryption';
import {
  BACKUP_SUFFIX,
  BackupFormatError,
  FORMAT_VERSION,
  MAGIC,
  READABLE_VERSIONS,
  type BackupHeader,
} from './format.ts';

const PARTIAL_SUFFIX = '.partial';
/** The plain-text start of a file (magic line and header) is at most this long. */
const MAX_PREAMBLE = 64 * 1024;

/** A backup's file name: its UTC time, sortable (mallard-20261206T030000Z.mbk). */
export function backupFileName(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `mallard-${stamp}${BACKUP_SUFFIX}`;
}

/**
 * Writes `chunks` (the records) as a backup file in `destination`: gzip, then age with the
 * passphrase when there is one. Returns the final path; on any failure the temporary file is
 * removed and the error rethrown.
 */
export async function writeBackupFile(
  destination: string,
  header: BackupHeader,
  chunks: AsyncIterable<Buffer>,
  passphrase: string | null,
): Promise<{ file: string; bytes: number }> {
  fs.mkdirSync(destination, { recursive: true });
  const file = path.join(destination, backupFileName(new Date(header.createdAt)));
  const partial = `${file}${PARTIAL_SUFFIX}`;
  const out = fs.createWriteStream(partial, { flags: 'wx' });
  try {
    out.write(`${MAGIC} ${FORMAT_VERSION}\n${JSON.stringify(header)}\n`);
    const gzip = zlib.createGzip({ level: 6 });
    if (passphrase === null) {
      await pipeline(Readable.from(chunks), gzip, out);
    } else {
      const encrypted = await encryptStream(Readable.from(chunks).pipe(gzip), passphrase);
      await pipeline(encrypted, out);
    }
    const fd = fs.openSync(partial, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(partial, file);
    syncFolder(destination);
    return { file, bytes: fs.statSync(file).size };
  } catch (error) {
    out.destroy();
    fs.rmSync(partial, { force: true });
    throw error;
  }
}

async function encryptStream(plain: Readable | Transform, passphrase: string): Promise<Readable> {
  const encrypter = new Encrypter();
  encrypter.setPassphrase(passphrase);
  const web = Readable.toWeb(plain) as unknown as ReadableStream<Uint8Array>;
  const encrypted = await encrypter.encrypt(web);
  return Readable.fromWeb(encrypted as unknown as WebReadableStream<Uint8Array>);
}

/** The rename is durable only once the folder's entry is on disk. */
function syncFolder(folder: string): void {
  try {
    const fd = fs.openSync(folder, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some filesystems (a NAS share) refuse to fsync a folder: the rename is as durable as they allow.
  }
}

/** Reads a backup's magic line and header; `offset` is where the payload starts. */
export function readHeader(file: string): { header: BackupHeader; offset: number } {
  const fd = fs.openSync(file, 'r');
  let preamble: Buffer;
  try {
    const buffer = Buffer.alloc(MAX_PREAMBLE);
    preamble = buffer.subarray(0, fs.readSync(fd, buffer, 0, MAX_PREAMBLE, 0));
  } finally {
    fs.closeSync(fd);
  }
  const first = preamble.indexOf(10);
  const second = first < 0 ? -1 : preamble.indexOf(10, first + 1);
  const magic = preamble.subarray(0, Math.max(first, 0)).toString('latin1');
  if (second < 0 || !magic.startsWith(`${MAGIC} `)) {
    throw new BackupFormatError(`${file} is not a Mallard backup`);
  }
  const version = Number(magic.slice(MAGIC.length + 1));
  if (!READABLE_VERSIONS.includes(version)) {
    throw new BackupFormatError(
      `${file} is a backup of format ${magic.slice(MAGIC.length + 1)}; this version reads ${READABLE_VERSIONS.join(', ')}`,
    );
  }
  let header: BackupHeader;
  try {
    header = JSON.parse(preamble.subarray(first + 1, second).toString('utf8')) as BackupHeader;
  } catch {
    throw new BackupFormatError(`${file}: the header is damaged`);
  }
  return { header, offset: second + 1 };
}

/**
 * The decompressed payload of a backup, as a stream of chunks. An encrypted backup needs its
 * passphrase (a clear error without it, or with a wrong one).
 */
export async function openPayload(
  file: string,
  passphrase: string | null,
): Promise<{ header: BackupHeader; chunks: AsyncIterable<Buffer> }> {
  const { header, offset } = readHeader(file);
  let raw: Readable = fs.createReadStream(file, { start: offset });
  if (header.encrypted) {
    if (passphrase === null) {
      throw new BackupFormatError(
        `${path.basename(file)} is encrypted: give its passphrase (backup.passphrase_file or --passphrase-file)`,
      );
    }
    const decrypter = new Decrypter();
    decrypter.addPassphrase(passphrase);
    const web = Readable.toWeb(raw) as unknown as ReadableStream<Uint8Array>;
    let plain: ReadableStream<Uint8Array>;
    try {
      plain = await decrypter.decrypt(web);
    } catch (error) {
      throw new BackupFormatError(
        `${path.basename(file)}: cannot decrypt (${(error as Error).message}); wrong passphrase?`,
      );
    }
    raw = Readable.fromWeb(plain as unknown as WebReadableStream<Uint8Array>);
  }
  const gunzip = zlib.createGunzip();
  raw.on('error', (error) => gunzip.destroy(error));
  return { header, chunks: raw.pipe(gunzip) };
}

export interface BackupListing {
  file: string;
  name: string;
  bytes: number;
  header: BackupHeader | null;
  /** Why the header could not be read (a file that is no backup, or damaged). */
  problem: string | null;
}

/** The backups in a folder, newest first; `.partial` leftovers are not backups. */
export function listBackups(destination: string): BackupListing[] {
  // An unplugged disk, or a file where the folder was: no backups to show (the run says why).
  if (!fs.statSync(destination, { throwIfNoEntry: false })?.isDirectory()) return [];
  const names = fs
    .readdirSync(destination)
    .filter((name) => name.startsWith('mallard-') && name.endsWith(BACKUP_SUFFIX))
    .sort()
    .reverse();
  return names.map((name) => {
    const file = path.join(destination, name);
    const bytes = fs.statSync(file).size;
    try {
      return { file, name, bytes, header: readHeader(file).header, problem: null };
    } catch (error) {
      return { file, name, bytes, header: null, problem: (error as Error).message };
    }
  });
}

/** Removes `.partial` files left by interrupted runs (call only while holding the backup lease). */
export function removePartials(destination: string): string[] {
  if (!fs.existsSync(destination)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(destination)) {
    if (name.startsWith('mallard-') && name.endsWith(`${BACKUP_SUFFIX}${PARTIAL_SUFFIX}`)) {
      fs.rmSync(path.join(destination, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}
