/**
 * LIST (RFC 3501 6.3.8, with the basics of RFC 5258 LIST-EXTENDED, RFC 6154 SPECIAL-USE and
 * RFC 5819 LIST-STATUS), LSUB (RFC 3501 6.3.9) and Gmail's XLIST.
 *
 * - The reference and the pattern are joined and matched on the full (decoded) name, as Dovecot
 *   does; `%` does not cross the "/" delimiter, INBOX matches in any case.
 * - Every LIST answer carries \HasChildren / \HasNoChildren and the special-use attributes
 *   (RFC 5258 and RFC 6154 allow them without being asked); \Noselect marks the placeholders the
 *   store keeps for deleted parents. \Subscribed only with RETURN (SUBSCRIBED) or the SUBSCRIBED
 *   selection option.
 * - REMOTE selects nothing more (there are no remote mailboxes); MYRIGHTS is ignored (no ACL).
 */
import type { CommandHandler, ImapContext } from '../context.ts';
import type { ResponseBuilder } from '../encoder/index.ts';
import { bad } from '../errors.ts';
import { compilePatterns, MAX_PATTERN_BYTES, type MailboxMatcher } from '../mailbox/pattern.ts';
import { buildHierarchy, type Hierarchy } from '../mailbox/hierarchy.ts';
import { appendStatusResponse, noteCondstoreUse, statusValues } from '../mailbox/status-items.ts';
import { tryMailboxFromWire } from '../names.ts';
import type { ListCommand, LsubCommand, StatusItem } from '../parser/index.ts';
import { MAILBOX_DELIMITER, type Mailbox, type SpecialUse } from '../../store/types.ts';

type Keyword = 'LIST' | 'LSUB' | 'XLIST';

/** Gmail's names for the special uses that XLIST spells differently. */
const XLIST_ATTRIBUTES: Partial<Record<SpecialUse, string>> = { '\\Junk': '\\Spam' };

/** Responses are written in chunks of about this size, so a huge listing respects backpressure. */
const WRITE_CHUNK_BYTES = 32 * 1024;

const DELIMITER = `"${MAILBOX_DELIMITER}"`;

interface ListRequest {
  keyword: 'LIST' | 'XLIST';
  matches: MailboxMatcher;
  selectSubscribed: boolean;
  selectSpecialUse: boolean;
  /** RECURSIVEMATCH with SUBSCRIBED: parents of subscribed mailboxes hidden by the pattern. */
  recursiveMatch: boolean;
  showSubscribed: boolean;
  status: StatusItem[] | null;
}

/** A response builder that hands its bytes to the connection whenever enough has piled up. */
class ChunkedWriter {
  private builder: ResponseBuilder;

  constructor(private readonly ctx: ImapContext) {
    this.builder = ctx.builder();
  }

  get current(): ResponseBuilder {
    return this.builder;
  }

  async maybeFlush(): Promise<void> {
    if (this.builder.byteLength >= WRITE_CHUNK_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.builder.byteLength === 0) return;
    const full = this.builder;
    this.builder = this.ctx.builder();
    await this.ctx.write(full);
  }
}

/** Work done between two turns of the event loop while listing, so other sessions are not held up. */
const SLICE_MS = 10;

/**
 * The full pattern: reference and pattern joined, then decoded from modified UTF-7 (the wildcards
 * are plain ASCII, so they survive the decoding untouched). A longer one than any mailbox name
 * could need is refused before any work (mailbox names are at most 1,000 bytes). Null when it is
 * not valid modified UTF-7 (`AT&T*`): every name we send is, so such a pattern matches nothing, and
 * LIST answers OK with no entries, as Dovecot does.
 */
function fullPattern(ctx: ImapContext, reference: string, pattern: string): string | null {
  const joined = reference + pattern;
  if (Buffer.byteLength(joined, 'utf8') > MAX_PATTERN_BYTES) {
    throw bad(`Mailbox pattern too long (at most ${MAX_PATTERN_BYTES} bytes)`, 'LIMIT');
  }
  return tryMailboxFromWire(ctx, joined);
}

/** Lets the event loop run when this command has had it for SLICE_MS (thousands of mailboxes). */
class Slicer {
  private since = performance.now();

  async maybeYield(): Promise<void> {
    if (performance.now() - this.since < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

/** `* LIST (attributes) "/" name [extended data]` */
function appendListLine(
  builder: ResponseBuilder,
  keyword: Keyword,
  attributes: readonly string[],
  name: string,
  childInfo = false,
): void {
  builder
    .untagged()
    .text(`${keyword} (${attributes.join(' ')}) ${DELIMITER} `)
    .mailbox(name);
  if (childInfo) builder.text(' ("CHILDINFO" ("SUBSCRIBED"))');
  builder.crlf();
}

/**
 * The answer to an empty pattern (RFC 3501 6.3.8): the delimiter and the root of the reference,
 * which is always "" in our single personal namespace.
 */
function writeDelimiter(ctx: ImapContext, keyword: Keyword): Promise<void> {
  const builder = ctx.builder();
  appendListLine(builder, keyword, ['\\Noselect'], '');
  return ctx.write(builder);
}

/**
 * The user's mailboxes and subscribed names. Subscriptions are a list of their own (RFC 3501
 * 6.3.6): a subscribed name need not be a mailbox (any more).
 */
interface Listing {
  mailboxes: Mailbox[];
  subscriptions: ReadonlySet<string>;
  tree: Hierarchy;
}

async function readListing(ctx: ImapContext): Promise<Listing> {
  const userId = ctx.session.user!.id;
  const { store } = ctx.services;
  const [mailboxes, names] = await Promise.all([
    store.listMailboxes(userId),
    store.listSubscriptions(userId),
  ]);
  const subscriptions = new Set(names);
  return { mailboxes, subscriptions, tree: buildHierarchy(mailboxes, subscriptions) };
}

/** Subscribed names that no mailbox has, in path order. */
function nonexistentSubscriptions(listing: Listing): string[] {
  const paths = new Set(listing.mailboxes.map((mailbox) => mailbox.path));
  return [...listing.subscriptions].filter((path) => !paths.has(path)).sort();
}

function listAttributes(mailbox: Mailbox, listing: Listing, request: ListRequest): string[] {
  const { tree } = listing;
  const attributes: string[] = [];
  if (request.showSubscribed && listing.subscriptions.has(mailbox.path)) attributes.push('\\Subscribed');
  if (!mailbox.selectable) attributes.push('\\Noselect');
  attributes.push(tree.hasChildren(mailbox.path) ? '\\HasChildren' : '\\HasNoChildren');
  if (request.keyword === 'XLIST' && mailbox.path === 'INBOX') attributes.push('\\Inbox');
  if (mailbox.specialUse) {
    const xlistName = request.keyword === 'XLIST' ? XLIST_ATTRIBUTES[mailbox.specialUse] : undefined;
    attributes.push(xlistName ?? mailbox.specialUse);
  }
  return attributes;
}

function satisfiesSelection(mailbox: Mailbox, listing: Listing, request: ListRequest): boolean {
  if (request.selectSubscribed && !listing.subscriptions.has(mailbox.path)) return false;
  if (request.selectSpecialUse && mailbox.specialUse === null) return false;
  return true;
}

/**
 * What to say about one mailbox, or null to leave it out. With RECURSIVEMATCH a mailbox that is
 * not itself selected is still returned (with CHILDINFO) when a subscribed descendant of it is
 * hidden by the pattern (RFC 5258 3.5); a selected one gets CHILDINFO whenever it has subscribed
 * descendants, as in RFC 5258's examples.
 */
function listEntry(
  mailbox: Mailbox,
  listing: Listing,
  request: ListRequest,
): { attributes: string[]; childInfo: boolean } | null {
  if (!request.matches(mailbox.path)) return null;
  const selected = satisfiesSelection(mailbox, listing, request);
  const subscribedBelow = request.recursiveMatch ? listing.tree.subscribedBelow(mailbox.path) : [];
  const childInfo = subscribedBelow.length > 0;
  if (!selected && !subscribedBelow.some((path) => !request.matches(path))) return null;
  return { attributes: listAttributes(mailbox, listing, request), childInfo };
}

async function runList(ctx: ImapContext, request: ListRequest): Promise<void> {
  const listing = await readListing(ctx);
  const writer = new ChunkedWriter(ctx);
  const slicer = new Slicer();
  for (const mailbox of listing.mailboxes) {
    await slicer.maybeYield();
    const entry = listEntry(mailbox, listing, request);
    if (!entry) continue;
    appendListLine(writer.current, request.keyword, entry.attributes, mailbox.path, entry.childInfo);
    // RFC 5819: the STATUS follows its LIST response, and only for mailboxes that can be selected.
    if (request.status && mailbox.selectable) {
      const values = await statusValues(ctx, mailbox, request.status);
      appendStatusResponse(writer.current, mailbox.path, values);
    }
    await writer.maybeFlush();
  }
  // LIST (SUBSCRIBED) also names subscriptions whose mailbox is gone (RFC 5258 3.1), as Dovecot does.
  if (request.selectSubscribed && !request.selectSpecialUse) {
    for (const path of nonexistentSubscriptions(listing)) {
      if (request.matches(path))
        appendListLine(writer.current, request.keyword, NONEXISTENT_SUBSCRIBED, path);
    }
  }
  await writer.flush();
}

const NONEXISTENT_SUBSCRIBED = ['\\NonExistent', '\\Subscribed'];

function isOnlyEmptyPattern(patterns: readonly string[]): boolean {
  return patterns.length === 1 && patterns[0] === '';
}

export const list: CommandHandler<ListCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const { selectOptions: select, returnOptions: ret } = command;
    // REMOTE filters nothing here (there are no remote mailboxes), so it keeps the special case.
    const filtering = select.subscribed || select.specialUse;
    if (isOnlyEmptyPattern(command.patterns) && !filtering) return writeDelimiter(ctx, 'LIST');
    if (ret.status) await noteCondstoreUse(ctx, ret.status);
    const patterns = command.patterns.map((pattern) => fullPattern(ctx, command.reference, pattern));
    await runList(ctx, {
      keyword: 'LIST',
      matches: compilePatterns(patterns.filter((pattern) => pattern !== null && pattern !== '') as string[]),
      selectSubscribed: select.subscribed,
      selectSpecialUse: select.specialUse,
      recursiveMatch: select.recursiveMatch && select.subscribed,
      showSubscribed: ret.subscribed || select.subscribed,
      status: ret.status,
    });
  },
};

/**
 * LSUB: the subscribed names that match, whether or not a mailbox has them (RFC 3501 6.3.9; Dovecot
 * lists a subscribed name whose mailbox was deleted too). When the pattern ends with `%`, an
 * unsubscribed mailbox with subscribed children is returned as \Noselect (RFC 3501 6.3.9: `LSUB "" %`
 * with only "foo/bar" subscribed answers "foo"); Dovecot limits this to patterns ending with `%` too.
 */
async function runLsub(ctx: ImapContext, pattern: string): Promise<void> {
  const listing = await readListing(ctx);
  const matches = compilePatterns([pattern]);
  const showParents = pattern.endsWith('%');
  const writer = new ChunkedWriter(ctx);
  const slicer = new Slicer();
  for (const mailbox of listing.mailboxes) {
    await slicer.maybeYield();
    if (!matches(mailbox.path)) continue;
    if (listing.subscriptions.has(mailbox.path)) {
      appendListLine(writer.current, 'LSUB', mailbox.selectable ? [] : ['\\Noselect'], mailbox.path);
    } else if (showParents && listing.tree.subscribedBelow(mailbox.path).length > 0) {
      appendListLine(writer.current, 'LSUB', ['\\Noselect'], mailbox.path);
    } else {
      continue;
    }
    await writer.maybeFlush();
  }
  for (const path of nonexistentSubscriptions(listing)) {
    if (matches(path)) appendListLine(writer.current, 'LSUB', [], path);
  }
  await writer.flush();
}

/** LSUB and XLIST share a parsed form (reference and one pattern); registry.ts maps both here. */
export const lsub: CommandHandler<LsubCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const pattern = fullPattern(ctx, command.reference, command.pattern);
    if (pattern === null) return;
    // An empty LSUB pattern matches nothing (RFC 3501 gives it no special meaning; Dovecot agrees).
    if (command.name === 'LSUB') return runLsub(ctx, pattern);
    if (command.pattern === '') return writeDelimiter(ctx, 'XLIST');
    await runList(ctx, {
      keyword: 'XLIST',
      matches: compilePatterns([pattern]),
      selectSubscribed: false,
      selectSpecialUse: false,
      recursiveMatch: false,
      showSubscribed: false,
      status: null,
    });
  },
};
