/**
 * GETMETADATA and SETMETADATA (RFC 5464 section 5):
 *
 *   getmetadata  = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries
 *   getmetadata-options = "(" getmetadata-option *(SP getmetadata-option) ")"
 *   maxsize-opt  = "MAXSIZE" SP number
 *   scope-opt    = "DEPTH" SP ("0" / "1" / "infinity")
 *   entries      = entry / "(" entry *(SP entry) ")"
 *   setmetadata  = "SETMETADATA" SP mailbox SP entry-values
 *   entry-values = "(" entry-value *(SP entry-value) ")"
 *   entry-value  = entry SP value        ; value = nstring / literal8
 *
 * Entry names are read as astrings here; whether they are valid names is the command's business,
 * so that it can say which one is wrong.
 */
import { fail } from './errors.ts';
import { LPAREN, MAX_UINT32, type Reader } from './reader.ts';
import type { GetMetadataCommand, MetadataDepth, SetMetadataCommand } from './types.ts';

const DEPTHS: Readonly<Record<string, MetadataDepth>> = { '0': 0, '1': 1, INFINITY: 'infinity' };

function readEntry(r: Reader): string {
  return r.readAstring('entry name');
}

function readOptions(r: Reader): { maxSize: number | null; depth: MetadataDepth | null } {
  let maxSize: number | null = null;
  let depth: MetadataDepth | null = null;
  r.readList('GETMETADATA options', () => {
    const option = r.readAtom('GETMETADATA option').toUpperCase();
    r.sp(`${option} value`);
    if (option === 'MAXSIZE') {
      if (maxSize !== null) fail('MAXSIZE given twice');
      maxSize = r.readNumber('MAXSIZE', MAX_UINT32);
    } else if (option === 'DEPTH') {
      if (depth !== null) fail('DEPTH given twice');
      const value = DEPTHS[r.readAtom('DEPTH').toUpperCase()];
      if (value === undefined) fail('DEPTH must be 0, 1 or infinity');
      depth = value;
    } else {
      fail(`Unknown GETMETADATA option ${option}`);
    }
  });
  return { maxSize, depth };
}

function startsOptions(r: Reader): boolean {
  const next = r.peekAt(1);
  return r.peek() === LPAREN && ((next >= 0x41 && next <= 0x5a) || (next >= 0x61 && next <= 0x7a));
}

export function parseGetMetadata(r: Reader, tag: string): GetMetadataCommand {
  r.sp('mailbox name');
  let options: { maxSize: number | null; depth: MetadataDepth | null } = { maxSize: null, depth: null };
  if (r.peek() === LPAREN) {
    options = readOptions(r);
    r.sp('mailbox name');
  }
  const mailbox = r.readMailbox();
  r.sp('entry names');
  // RFC 5464's examples put the options after the mailbox name (its grammar before): both are
  // taken. An entry list starts with a name ("/…", quoted or literal), options with a letter.
  if (options.maxSize === null && options.depth === null && startsOptions(r)) {
    options = readOptions(r);
    r.sp('entry names');
  }
  const entries = r.peek() === LPAREN ? r.readList('entry list', () => readEntry(r)) : [readEntry(r)];
  r.end();
  return { tag, name: 'GETMETADATA', mailbox, entries, maxSize: options.maxSize, depth: options.depth ?? 0 };
}

export function parseSetMetadata(r: Reader, tag: string): SetMetadataCommand {
  r.sp('mailbox name');
  const mailbox = r.readMailbox();
  r.sp('entry values');
  const values = r.readList('entry values', () => {
    const entry = readEntry(r);
    r.sp('entry value');
    if (r.tryNil()) return { entry, value: null };
    const value = r.atLiteral() ? r.readLiteral(true).data : r.readStringBytes('entry value');
    return { entry, value };
  });
  r.end();
  return { tag, name: 'SETMETADATA', mailbox, values };
}
