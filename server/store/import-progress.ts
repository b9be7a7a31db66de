/**
 * Where an import from another IMAP server stands (Store.saveImportProgress): per user, source
 * and source folder, the folder's UIDVALIDITY and the highest UID imported. A re-run fetches only
 * what is above it; a changed UIDVALIDITY means the source renumbered the folder.
 */
import { StoreError } from './errors.ts';

export interface ImportProgress {
  /** Names the source account, e.g. "login@imap.example.org:993". */
  source: string;
  /** The folder's name at the source, as the source spells it. */
  folder: string;
  uidValidity: number;
  /** The highest source UID imported (0: nothing yet). */
  lastUid: number;
}

const MAX_IMAP_UID = 0xffffffff;

function invalid(message: string): never {
  throw new StoreError('INVALID', message);
}

export function checkImportSource(source: unknown): string {
  if (typeof source !== 'string' || source === '' || source.length > 1000) invalid('import source is empty');
  return source;
}

export function checkImportProgress(progress: ImportProgress): ImportProgress {
  if (progress === null || typeof progress !== 'object') invalid('import progress must be an object');
  const { folder, uidValidity, lastUid } = progress;
  if (typeof folder !== 'string' || folder === '') invalid('import folder is empty');
  if (!Number.isSafeInteger(uidValidity) || uidValidity < 1 || uidValidity > MAX_IMAP_UID)
    invalid(`UIDVALIDITY must be an integer from 1 to ${MAX_IMAP_UID}`);
  if (!Number.isSafeInteger(lastUid) || lastUid < 0 || lastUid > MAX_IMAP_UID)
    invalid(`last UID must be an integer from 0 to ${MAX_IMAP_UID}`);
  return { source: checkImportSource(progress.source), folder, uidValidity, lastUid };
}
