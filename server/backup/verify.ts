/**
 * `verify`: reads a whole backup back and checks it: every body against its SHA-256, every
 * mailbox's count, bytes and digest against its end record and the manifest, and that the
 * manifest is there (a backup without it was cut short); that Sieve scripts, METADATA entries,
 * import records and save dates are well formed and as many as the manifest says. The reading
 * itself checks gzip's CRC and, for an encrypted backup, age's authentication of every chunk.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { checkImportProgress } from '../store/import-progress.ts';
import { checkSieveContent, checkSieveName } from '../store/sieve.ts';
import { isThreadId } from '../store/thread-ids.ts';
import {
  BackupFormatError,
  type BackupMetadata,
  type UserRecord,
  readRecords,
  type BackupHeader,
  type EndRecord,
  type ManifestMailbox,
} from './format.ts';
import { openPayload } from './files.ts';

export interface VerifyReport {
  file: string;
  header: BackupHeader;
  bytesOnDisk: number;
  ok: boolean;
  problems: string[];
  users: number;
  mailboxes: ManifestMailbox[];
  messages: number;
  /** Bytes of message bodies. */
  bytes: number;
}

export async function verifyBackup(file: string, passphrase: string | null): Promise<VerifyReport> {
  const { header, chunks } = await openPayload(file, passphrase);
  const report: VerifyReport = {
    file,
    header,
    bytesOnDisk: fs.statSync(file).size,
    ok: false,
    problems: [],
    users: 0,
    mailboxes: [],
    messages: 0,
    bytes: 0,
  };
  const problems = report.problems;
  let current: {
    user: string;
    path: string;
    messages: number;
    bytes: number;
    digest: ReturnType<typeof createHash>;
  } | null = null;
  const seen: ManifestMailbox[] = [];
  let user: string | null = null;
  let end: EndRecord | null = null;
  let outbound = 0;
  const settings = { sieveScripts: 0, metadata: 0, imports: 0, sieveMemory: 0 };
  try {
    for await (const item of readRecords(chunks)) {
      const { record } = item;
      if (end) throw new BackupFormatError('records after the manifest');
      switch (record.t) {
        case 'user':
          user = record.username;
          report.users++;
          problems.push(...userProblems(record));
          settings.sieveScripts += record.sieve?.length ?? 0;
          settings.metadata += record.metadata?.length ?? 0;
          settings.imports += record.imports?.length ?? 0;
          settings.sieveMemory += record.sieveMemory?.length ?? 0;
          break;
        case 'mailbox':
          if (record.user !== user) problems.push(`mailbox ${record.path} outside its user`);
          current = {
            user: record.user,
            path: record.path,
            messages: 0,
            bytes: 0,
            digest: createHash('sha256'),
          };
          seen.push({
            user: record.user,
            path: record.path,
            uidValidity: record.uidValidity,
            uidNext: record.uidNext,
            highestModseq: record.highestModseq,
            messages: 0,
            bytes: 0,
            digest: '',
          });
          problems.push(...metadataProblems(`${record.user} ${record.path}`, record.metadata));
          settings.metadata += record.metadata?.length ?? 0;
          break;
        case 'outbound': {
          if (!('body' in item)) throw new BackupFormatError('an outbound record without its message');
          const sha256 = createHash('sha256').update(item.body).digest('hex');
          if (sha256 !== record.sha256)
            problems.push(`outbound mail from ${record.sender}: does not match its SHA-256`);
          outbound++;
          break;
        }
        case 'message': {
          if (!current || !('body' in item)) throw new BackupFormatError('a message outside a mailbox');
          const sha256 = createHash('sha256').update(item.body).digest('hex');
          if (sha256 !== record.sha256)
            problems.push(
              `${current.user} ${current.path} UID ${record.uid}: body does not match its SHA-256`,
            );
          if (record.savedAt !== undefined && Number.isNaN(Date.parse(record.savedAt)))
            problems.push(`${current.user} ${current.path} UID ${record.uid}: the save date is not a date`);
          if (record.threadId !== undefined && !isThreadId(record.threadId))
            problems.push(
              `${current.user} ${current.path} UID ${record.uid}: the thread id is not an objectid`,
            );
          current.digest.update(`${record.uid} ${record.sha256}\n`);
          current.messages++;
          current.bytes += item.body.length;
          report.messages++;
          report.bytes += item.body.length;
          break;
        }
        case 'mailbox-end': {
          if (!current) throw new BackupFormatError('a mailbox end without a mailbox');
          const entry = seen.at(-1)!;
          Object.assign(entry, {
            messages: current.messages,
            bytes: current.bytes,
            digest: current.digest.digest('hex'),
          });
          if (record.messages !== current.messages || record.bytes !== current.bytes) {
            problems.push(
              `${current.user} ${current.path}: ${current.messages} messages read, ${record.messages} written`,
            );
          }
          current = null;
          break;
        }
        case 'end':
          end = record;
          break;
        case 'domain':
        case 'rules':
        case 'history':
        case 'sieve-before':
          break;
      }
    }
  } catch (error) {
    problems.push(readProblem(error));
  }
  if (!end) {
    if (!problems.some((p) => p.includes('cut short')))
      problems.push('the backup is incomplete: no manifest (cut short)');
  } else {
    compareManifest(end, seen, report, problems, outbound);
    for (const what of ['sieveScripts', 'metadata', 'imports', 'sieveMemory'] as const) {
      const written = end[what];
      if (written !== undefined && written !== settings[what])
        problems.push(`manifest: ${written} ${what}, ${settings[what]} read`);
    }
  }
  report.mailboxes = seen;
  report.ok = problems.length === 0;
  return report;
}

/** A user's Sieve scripts, METADATA and import records as a restore would have to take them. */
function userProblems(record: UserRecord): string[] {
  const problems: string[] = [];
  const who = record.username;
  const scripts = record.sieve ?? [];
  for (const script of scripts) {
    try {
      checkSieveName(script.name);
      checkSieveContent(script.content);
    } catch (error) {
      problems.push(`${who}: Sieve script: ${(error as Error).message}`);
    }
  }
  if (scripts.filter((s) => s.active).length > 1) problems.push(`${who}: more than one active Sieve script`);
  for (const progress of record.imports ?? []) {
    try {
      checkImportProgress(progress);
    } catch (error) {
      problems.push(`${who}: import record: ${(error as Error).message}`);
    }
  }
  problems.push(...metadataProblems(who, record.metadata));
  for (const entry of record.sieveMemory ?? []) {
    if (typeof entry.key !== 'string' || entry.key === '' || Number.isNaN(Date.parse(entry.expiresAt))) {
      problems.push(`${who}: a Sieve memory entry is malformed`);
    }
  }
  return problems;
}

function metadataProblems(where: string, entries: BackupMetadata[] | undefined): string[] {
  return (entries ?? [])
    .filter((e) => !/^\/(private|shared)\//.test(e.name) || typeof e.value !== 'string')
    .map((e) => `${where}: METADATA entry ${JSON.stringify(e.name)} is malformed`);
}

function compareManifest(
  end: EndRecord,
  seen: ManifestMailbox[],
  report: VerifyReport,
  problems: string[],
  outbound: number,
): void {
  if (end.outbound !== outbound)
    problems.push(`manifest: ${end.outbound} outbound messages, ${outbound} read`);
  if (end.users !== report.users) problems.push(`manifest: ${end.users} users, ${report.users} read`);
  if (end.messages !== report.messages)
    problems.push(`manifest: ${end.messages} messages, ${report.messages} read`);
  const key = (m: { user: string; path: string }) => `${m.user}\n${m.path}`;
  const read = new Map(seen.map((m) => [key(m), m]));
  for (const want of end.mailboxes) {
    const got = read.get(key(want));
    if (!got) problems.push(`manifest: ${want.user} ${want.path} missing`);
    else if (got.digest !== want.digest || got.messages !== want.messages) {
      problems.push(`${want.user} ${want.path}: messages differ from the manifest`);
    }
  }
  if (end.mailboxes.length !== seen.length)
    problems.push(`manifest: ${end.mailboxes.length} mailboxes, ${seen.length} read`);
}

/** What went wrong while reading, in words (zlib and age errors are terse). */
function readProblem(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  if (error instanceof BackupFormatError) return `damaged: ${message}`;
  const code = (error as { code?: string }).code;
  if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(message))
    return 'the backup is cut short (truncated file)';
  if (code?.startsWith('Z_')) return `damaged compressed data (${message})`;
  return `cannot read the backup: ${message}`;
}
