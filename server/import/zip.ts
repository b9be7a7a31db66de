/**
 * Unpacks a .zip (how Thunderbird and Apple Mail exports often arrive) into a directory, for the
 * file import to read the mbox or Maildir tree inside. Read from the central directory at the end
 * (the names, sizes and offsets the archive vouches for), each entry inflated with node:zlib and
 * checked against its CRC-32 and size. Refused with a clear error: not a zip, zip64 (archives
 * over 4 GB or 65,535 entries), encryption, compression other than stored or deflate, a name
 * reaching outside the directory, and data that does not match what the directory says.
 * macOS's `__MACOSX/` metadata and symbolic links are passed over.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
/** The end record (22 bytes) plus the longest comment it may carry. */
const TAIL_BYTES = 22 + 0xffff;
const STORED = 0;
const DEFLATED = 8;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

export class ZipError extends Error {
  constructor(message: string) {
    super(`bad zip archive: ${message}`);
    this.name = 'ZipError';
  }
}

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  isDirectory: boolean;
  isSymlink: boolean;
}

/** Whether the file starts as a zip does (a local header, or the end record of an empty zip). */
export function looksLikeZip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const start = Buffer.alloc(4);
    if (fs.readSync(fd, start, 0, 4, 0) < 4) return false;
    const signature = start.readUInt32LE(0);
    return signature === LOCAL_HEADER || signature === END_OF_DIRECTORY;
  } finally {
    fs.closeSync(fd);
  }
}

async function readAt(handle: fsp.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  if (bytesRead < length) throw new ZipError('truncated (a record runs past the end of the file)');
  return buffer;
}

/** The end-of-central-directory record: where the directory is and how many entries it has. */
async function endRecord(handle: fsp.FileHandle, fileSize: number) {
  const tailStart = Math.max(0, fileSize - TAIL_BYTES);
  const tail = await readAt(handle, tailStart, fileSize - tailStart);
  for (let at = tail.length - 22; at >= 0; at--) {
    if (tail.readUInt32LE(at) !== END_OF_DIRECTORY) continue;
    if (at + 22 + tail.readUInt16LE(at + 20) !== tail.length) continue; // not the record: its comment does not end the file
    const entries = tail.readUInt16LE(at + 10);
    const directorySize = tail.readUInt32LE(at + 12);
    const directoryOffset = tail.readUInt32LE(at + 16);
    const zip64 =
      (at >= 20 && tail.readUInt32LE(at - 20) === ZIP64_LOCATOR) ||
      entries === 0xffff ||
      directorySize === 0xffffffff ||
      directoryOffset === 0xffffffff;
    if (zip64)
      throw new ZipError('zip64 archives (over 4 GB or 65,535 files) are not supported; unzip it first');
    if (directoryOffset + directorySize > tailStart + at)
      throw new ZipError('the central directory lies outside the file');
    return { entries, directorySize, directoryOffset };
  }
  throw new ZipError('no end of central directory record (not a zip, or cut short)');
}

/** A name as the archive spells it: UTF-8 when flagged so, else code page 437 (its ASCII is enough here). */
function entryName(bytes: Buffer, flags: number): string {
  return flags & 0x800 ? bytes.toString('utf8') : bytes.toString('latin1');
}

/** The central directory's entries, in archive order. */
export async function readZipDirectory(file: string): Promise<ZipEntry[]> {
  const handle = await fsp.open(file, 'r');
  try {
    const { size: fileSize } = await handle.stat();
    const end = await endRecord(handle, fileSize);
    const directory = await readAt(handle, end.directoryOffset, end.directorySize);
    const entries: ZipEntry[] = [];
    let at = 0;
    for (let index = 0; index < end.entries; index++) {
      if (at + 46 > directory.length || directory.readUInt32LE(at) !== DIRECTORY_ENTRY)
        throw new ZipError(`central directory entry ${index + 1} is damaged`);
      const flags = directory.readUInt16LE(at + 8);
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      const name = entryName(directory.subarray(at + 46, at + 46 + nameLength), flags);
      const mode = directory.readUInt32LE(at + 38) >>> 16;
      const entry: ZipEntry = {
        name,
        method: directory.readUInt16LE(at + 10),
        flags,
        crc: directory.readUInt32LE(at + 16),
        compressedSize: directory.readUInt32LE(at + 20),
        size: directory.readUInt32LE(at + 24),
        localOffset: directory.readUInt32LE(at + 42),
        isDirectory: name.endsWith('/'),
        isSymlink: (mode & S_IFMT) === S_IFLNK,
      };
      if ([entry.compressedSize, entry.size, entry.localOffset].includes(0xffffffff))
        throw new ZipError(`${name}: zip64 entries (files over 4 GB) are not supported; unzip it first`);
      if (entry.localOffset + 30 + entry.compressedSize > end.directoryOffset)
        throw new ZipError(`${name}: its data lies outside the file`);
      entries.push(entry);
      at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    await handle.close();
  }
}

/** Where an entry goes below `root`, or null for what is passed over; a name escaping `root` is refused. */
function destination(root: string, entry: ZipEntry): string | null {
  const name = entry.name.replaceAll('\\', '/');
  if (name.startsWith('__MACOSX/') || entry.isSymlink) return null;
  if (name.startsWith('/') || /^[a-z]:/i.test(name) || name.split('/').includes('..') || name.includes('\0'))
    throw new ZipError(`${entry.name}: a name reaching outside the archive's folder`);
  const target = path.join(root, name);
  if (target !== root && !target.startsWith(root + path.sep))
    throw new ZipError(`${entry.name}: a name reaching outside the archive's folder`);
  return target;
}

/** Counts and checksums the bytes going through, refusing more than the directory promised. */
class Checked extends Transform {
  private crc = 0;
  private bytes = 0;

  constructor(private readonly entry: ZipEntry) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.entry.size)
      return done(new ZipError(`${this.entry.name}: longer than its stated size`));
    this.crc = zlib.crc32(chunk, this.crc);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.bytes !== this.entry.size)
      return done(new ZipError(`${this.entry.name}: shorter than its stated size`));
    if (this.crc >>> 0 !== this.entry.crc) return done(new ZipError(`${this.entry.name}: CRC-32 mismatch`));
    done();
  }
}

async function extractEntry(
  file: string,
  handle: fsp.FileHandle,
  entry: ZipEntry,
  target: string,
): Promise<void> {
  if (entry.flags & 0x1) throw new ZipError(`${entry.name}: encrypted entries are not supported`);
  if (entry.method !== STORED && entry.method !== DEFLATED)
    throw new ZipError(
      `${entry.name}: compression method ${entry.method} is not supported (only stored and deflate)`,
    );
  const local = await readAt(handle, entry.localOffset, 30);
  if (local.readUInt32LE(0) !== LOCAL_HEADER)
    throw new ZipError(`${entry.name}: its local header is missing`);
  const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const source =
    entry.compressedSize === 0
      ? Readable.from([])
      : fs.createReadStream(file, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
  const checked = new Checked(entry);
  const output = fs.createWriteStream(target, { flags: 'wx' });
  try {
    if (entry.method === DEFLATED) await pipeline(source, zlib.createInflateRaw(), checked, output);
    else await pipeline(source, checked, output);
  } catch (error) {
    if (error instanceof ZipError) throw error;
    throw new ZipError(`${entry.name}: ${(error as Error).message}`);
  }
}

/** Unpacks `file` into the (empty) directory `root`; returns how many files were written. */
export async function extractZip(file: string, root: string): Promise<number> {
  const entries = await readZipDirectory(file);
  const handle = await fsp.open(file, 'r');
  let written = 0;
  try {
    for (const entry of entries) {
      const target = destination(path.resolve(root), entry);
      if (target === null) continue;
      if (entry.isDirectory) await fsp.mkdir(target, { recursive: true });
      else {
        await extractEntry(file, handle, entry, target);
        written += 1;
      }
    }
  } finally {
    await handle.close();
  }
  return written;
}
