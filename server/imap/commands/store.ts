/**
 * STORE and UID STORE (RFC 3501 6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162 3.1.3).
 *
 * - Every matched message is answered with `* n FETCH (FLAGS (...))`, changed or not (as Dovecot
 *   does), unless .SILENT; UID STORE adds UID, CONDSTORE adds MODSEQ.
 * - With .SILENT and CONDSTORE on, changed messages still get `FETCH (MODSEQ (m))` so the client
 *   learns their new MODSEQ (RFC 7162 3.1.3 example).
 * - UNCHANGEDSINCE leaves messages with a higher MODSEQ alone and lists them in `OK [MODIFIED set]`
 *   (sequence numbers for STORE, UIDs for UID STORE); it turns CONDSTORE on for the session.
 * - \Recent cannot be stored (it is session state, RFC 3501 2.3.2): refused with BAD, as Dovecot
 *   does, like other unknown system flags (RFC 3501 reserves `\word` flags for future standards).
 */
import { enableCondstore } from '../condstore.ts';
import type { FlagUpdate } from '../../store/types.ts';
import type { CommandHandler, ImapContext } from '../context.ts';
import { ResponseCodes } from '../encoder/index.ts';
import { bad, no } from '../errors.ts';
import type { MailboxView } from '../mailbox-view.ts';
import { checkKeywordLimit } from '../mailbox/keyword-limit.ts';
import type { StoreCommand } from '../parser/index.ts';
import { SYSTEM_FLAGS, announceKeywordsOf, sessionFlags } from '../updates.ts';
import { fetchPrefix } from '../uidonly.ts';
import { selectedUids } from './message-set.ts';

/** FETCH responses per write: big STOREs go out in pieces, with socket backpressure. */
const RESPONSES_PER_WRITE = 500;

const STORABLE_SYSTEM_FLAGS = new Set(SYSTEM_FLAGS);

/**
 * The flags to store: \Recent and unknown system flags refused, and keywords spelled as the
 * mailbox knows them (keywords are case-insensitive: `work` and `Work` are one keyword).
 */
function storableFlags(flags: readonly string[], view: MailboxView): string[] {
  const spellings = new Map(view.keywordList.map((keyword) => [keyword.toLowerCase(), keyword]));
  const result: string[] = [];
  for (const flag of flags) {
    if (!flag.startsWith('\\')) result.push(spellings.get(flag.toLowerCase()) ?? flag);
    else if (STORABLE_SYSTEM_FLAGS.has(flag)) result.push(flag);
    else throw bad(`Invalid system flag ${flag}`);
  }
  return result;
}

interface StoreOutcome {
  command: StoreCommand;
  /** Matched UIDs in sequence order. */
  uids: number[];
  /** UIDs whose flags this STORE changed. */
  updated: Set<number>;
  modified: Set<number>;
}

/** Applies the store result to the view, so the journal echo of this change is not reported again. */
function recordOwnChanges(view: MailboxView, updated: Iterable<FlagUpdate>): void {
  for (const update of updated) view.applyOwnFlags(update.uid, update.flags, update.modseq);
}

/**
 * One untagged FETCH for a message the STORE matched, or null when nothing is to be said of it.
 * Flags and MODSEQ come from the view, which by now holds this change and any newer one made
 * meanwhile by another session (so an older state is never reported last).
 */
function fetchLine(ctx: ImapContext, view: MailboxView, outcome: StoreOutcome, uid: number): Buffer | null {
  const { command } = outcome;
  const seq = view.seqOf(uid);
  if (seq === 0 || outcome.modified.has(uid)) return null;
  const condstore = ctx.session.enabled.has('CONDSTORE');
  if (command.silent && !(condstore && outcome.updated.has(uid))) return null;
  const builder = ctx.builder();
  const flags = sessionFlags(view, uid);
  if (!command.silent) announceKeywordsOf(builder, view, flags);
  builder.untagged().text(fetchPrefix(ctx.session, seq, uid));
  let separator = '';
  if (!command.silent) {
    builder.text('FLAGS ').flags(flags);
    separator = ' ';
  }
  if (command.uid) {
    builder.text(`${separator}UID ${uid}`);
    separator = ' ';
  }
  if (condstore) builder.text(`${separator}MODSEQ (${view.modseqOf(uid)})`);
  return builder.text(')').crlf().toBuffer();
}

async function writeFetchResponses(
  ctx: ImapContext,
  view: MailboxView,
  outcome: StoreOutcome,
): Promise<void> {
  let pending: Buffer[] = [];
  for (const uid of outcome.uids) {
    const line = fetchLine(ctx, view, outcome, uid);
    if (line) pending.push(line);
    if (pending.length >= RESPONSES_PER_WRITE) {
      await ctx.write(Buffer.concat(pending));
      pending = [];
    }
  }
  if (pending.length > 0) await ctx.write(Buffer.concat(pending));
}

/** The tagged OK: `[MODIFIED set]` when UNCHANGEDSINCE held some messages back. */
function taggedOutcome(view: MailboxView, outcome: StoreOutcome) {
  const name = outcome.command.uid ? 'UID STORE' : 'STORE';
  if (outcome.modified.size === 0) return { text: `${name} completed` };
  const numbers = outcome.command.uid
    ? [...outcome.modified]
    : [...outcome.modified].map((uid) => view.seqOf(uid)).filter((seq) => seq > 0);
  return { code: ResponseCodes.modified(numbers), text: 'Conditional STORE failed' };
}

export const storeFlags: CommandHandler<StoreCommand> = {
  states: ['selected'],
  allowsExpunge: (command) => command.uid,
  async run(ctx, command) {
    const view = ctx.session.view!;
    const flags = storableFlags(command.flags, view);
    const uids = selectedUids(view, command.sequence, command.uid);
    if (view.readOnly) throw no('READ-ONLY', 'Mailbox is read-only (EXAMINE): flags cannot be changed');
    if (command.operation !== 'remove' && uids.length > 0) {
      await checkKeywordLimit(ctx, view.mailbox.id, flags, view.keywordList);
    }
    if (command.unchangedSince !== null) await enableCondstore(ctx);
    const result =
      uids.length === 0
        ? { updated: [], modified: [] }
        : await ctx.services.store.storeFlags(
            view.mailbox.id,
            uids,
            command.operation,
            flags,
            command.unchangedSince ?? undefined,
          );
    recordOwnChanges(view, result.updated);
    // New keywords change FLAGS and PERMANENTFLAGS: report those before FETCHes that use them.
    await ctx.flushUpdates(false);
    const outcome: StoreOutcome = {
      command,
      uids,
      updated: new Set(result.updated.map((update) => update.uid)),
      modified: new Set(result.modified),
    };
    await writeFetchResponses(ctx, view, outcome);
    return taggedOutcome(view, outcome);
  },
};
