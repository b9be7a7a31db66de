/**
 * GETMETADATA and SETMETADATA (RFC 5464): entries on a mailbox, or on the server for mailbox "".
 * Mailboxes here belong to one user, so /shared entries are kept beside /private ones under their
 * own names and answered as the RFC says; NOPRIVATE is never needed. Entry names are
 * case-insensitive and kept lower-cased. Limits: MAX_VALUE_BYTES per value (`NO [METADATA MAXSIZE
 * n]`) and MAX_ENTRIES per mailbox or for the server (`NO [METADATA TOOMANY]`).
 */
import type { CommandHandler, ImapContext } from '../context.ts';
import type { ResponseBuilder } from '../encoder/index.ts';
import { bad, no } from '../errors.ts';
import { mailboxFromWire } from '../names.ts';
import type { GetMetadataCommand, MetadataDepth, SetMetadataCommand } from '../parser/index.ts';
import { isStoreError } from '../../store/errors.ts';
import { tryNormalizeMailboxPath } from '../../store/normalize.ts';
import { noteOwnChange } from '../notify-own.ts';
import type { MetadataEntry } from '../../store/types.ts';

export const MAX_VALUE_BYTES = 64 * 1024;
export const MAX_ENTRIES = 100;
const MAX_ENTRY_NAME_BYTES = 256;

/**
 * RFC 5464 3.2: names start with /private or /shared, are "/"-separated, never contain "*", "%",
 * "//", a control or non-ASCII character, and never end with "/". A bare "/private" or "/shared"
 * may only be read (with a DEPTH, it lists everything below it).
 */
const ENTRY_NAME = /^\/(?:private|shared)(?:\/[\x21-\x24\x26-\x29\x2b-\x2e\x30-\x7e]+)*$/;

function entryName(wire: string, forWriting: boolean): string {
  const name = wire.toLowerCase();
  if (name.length > MAX_ENTRY_NAME_BYTES) throw bad(`Entry name too long: ${wire.slice(0, 40)}...`);
  if (!ENTRY_NAME.test(name)) throw bad(`Invalid entry name ${wire}: see RFC 5464 section 3.2`);
  if (forWriting && (name === '/private' || name === '/shared')) {
    throw bad(`${wire} is not an entry: name one below it`);
  }
  return name;
}

/** The store's path for a wire mailbox name ("" stays "": the server's entries). */
function storePath(ctx: ImapContext, wire: string): string {
  return wire === '' ? '' : mailboxFromWire(ctx, wire);
}

/** Whether `name` lies below `entry` within `depth` levels. */
function isBelow(name: string, entry: string, depth: MetadataDepth): boolean {
  if (depth === 0 || !name.startsWith(`${entry}/`)) return false;
  return depth === 'infinity' || !name.slice(entry.length + 1).includes('/');
}

/** The entries to answer, in the order asked, each requested entry before what lies below it. */
function selectEntries(
  stored: readonly MetadataEntry[],
  requested: readonly string[],
  depth: MetadataDepth,
): Array<[string, Buffer | null]> {
  const values = new Map(
    stored.map((e) => [e.name, Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength)]),
  );
  const answered = new Map<string, Buffer | null>();
  for (const entry of requested) {
    const own = values.get(entry);
    // A missing entry is answered NIL when asked for alone; with a DEPTH only what exists shows.
    if (own !== undefined || depth === 0) answered.set(entry, own ?? null);
    for (const e of stored) if (isBelow(e.name, entry, depth)) answered.set(e.name, values.get(e.name)!);
  }
  return [...answered];
}

/** A value with NUL bytes as literal8 (RFC 5464's `value = nstring / literal8`), others as strings. */
function writeValue(builder: ResponseBuilder, value: Buffer | null): void {
  if (value === null) builder.nil();
  else if (value.includes(0)) builder.literal(value, true);
  else builder.string(value);
}

export const getMetadata: CommandHandler<GetMetadataCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const requested = command.entries.map((entry) => entryName(entry, false));
    const path = storePath(ctx, command.mailbox);
    const stored = await ctx.services.store.getMetadata(ctx.session.user!.id, path);
    let longest = 0;
    const shown = selectEntries(stored, requested, command.depth).filter(([, value]) => {
      if (value === null || command.maxSize === null || value.length <= command.maxSize) return true;
      longest = Math.max(longest, value.length);
      return false;
    });
    if (shown.length > 0) {
      const builder = ctx.builder().untagged().text('METADATA ').mailbox(path).text(' (');
      shown.forEach(([name, value], i) => {
        if (i > 0) builder.sp();
        builder.astring(name).sp();
        writeValue(builder, value);
      });
      await ctx.write(builder.text(')').crlf());
    }
    // RFC 5464 4.2.1: the size of the biggest value MAXSIZE left out.
    if (longest > 0) return { code: `METADATA LONGENTRIES ${longest}` };
  },
};

export const setMetadata: CommandHandler<SetMetadataCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const changes = command.values.map(({ entry, value }) => ({ name: entryName(entry, true), value }));
    if (changes.some(({ value }) => value !== null && value.length > MAX_VALUE_BYTES)) {
      throw no(`METADATA MAXSIZE ${MAX_VALUE_BYTES}`, `A value may hold at most ${MAX_VALUE_BYTES} bytes`);
    }
    const path = storePath(ctx, command.mailbox);
    try {
      await ctx.services.store.setMetadata(ctx.session.user!.id, path, changes, MAX_ENTRIES);
    } catch (error) {
      if (isStoreError(error) && error.code === 'LIMIT') {
        throw no('METADATA TOOMANY', `At most ${MAX_ENTRIES} entries per mailbox (and for the server)`);
      }
      throw error;
    }
    // The journal names the mailbox as the store spells it.
    noteOwnChange(ctx, {
      kind: 'metadata',
      path: path === '' ? '' : (tryNormalizeMailboxPath(path) ?? path),
    });
  },
};
