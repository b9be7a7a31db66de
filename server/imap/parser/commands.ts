/**
 * parseCommand: one framed command → a typed ParsedCommand, or a ParseError (never throws on
 * input). Grammar: RFC 3501 section 9 and the extensions named beside each command.
 */
import { parseDateTime } from './dates.ts';
import { ParseError, ParseFailure, fail } from './errors.ts';
import { readFetchItems, readFetchModifiers } from './fetch.ts';
import { parseGetMetadata, parseSetMetadata } from './metadata.ts';
import { parseNotify } from './notify.ts';
import type { FramedCommand } from './framer.ts';
import { DQUOTE, LPAREN, RPAREN, Reader, SP, isAtomChar } from './reader.ts';
import { DEFAULT_MAX_SEARCH_DEPTH, readSearch } from './search.ts';
import { readSortArguments, readThreadArguments } from './sort.ts';
import { parseGenUrlAuth, parseResetKey, parseUrlFetch } from './urlauth.ts';
import type { SequenceSet } from './sequence.ts';
import type {
  AppendMessage,
  CatenatePart,
  ListReturnOptions,
  ListSelectOptions,
  ParseOptions,
  ParsedCommand,
  QresyncParams,
  StatusItem,
} from './types.ts';

type Handler = (r: Reader, tag: string, options: Required<ParseOptions>) => ParsedCommand;

const STATUS_ITEMS: ReadonlySet<string> = new Set<StatusItem>([
  'MESSAGES',
  'RECENT',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'HIGHESTMODSEQ',
  'SIZE',
  'DELETED',
  'APPENDLIMIT',
  'MAILBOXID',
]);

function readStatusItems(r: Reader): StatusItem[] {
  return r.readList('status item list', () => {
    const item = r.readAtom('status item').toUpperCase();
    if (!STATUS_ITEMS.has(item)) fail(`Unknown status item ${item}`);
    return item as StatusItem;
  });
}

function noArgs<N extends ParsedCommand['name']>(name: N): Handler {
  return (r, tag) => {
    r.end();
    return { tag, name } as ParsedCommand;
  };
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const authenticate: Handler = (r, tag) => {
  r.sp('authentication mechanism');
  const mechanism = r.readAtom('authentication mechanism').toUpperCase();
  let initialResponse: string | null = null;
  if (r.trySp()) {
    const text = r.readAtom('initial response');
    if (text === '=') initialResponse = '';
    else if (BASE64_RE.test(text)) initialResponse = text;
    else fail('Invalid base64 in initial response');
  }
  r.end();
  return { tag, name: 'AUTHENTICATE', mechanism, initialResponse };
};

const login: Handler = (r, tag) => {
  r.sp('user name');
  const username = r.readAstring('user name');
  r.sp('password');
  const password = r.readAstring('password');
  r.end();
  return { tag, name: 'LOGIN', username, password };
};

function readQresync(r: Reader): QresyncParams {
  r.sp('QRESYNC parameters');
  r.expect(LPAREN, 'QRESYNC parameters');
  const uidValidity = r.readNzNumber('UIDVALIDITY');
  r.sp('MODSEQ');
  const modSeq = r.readModSeq('MODSEQ');
  let knownUids: QresyncParams['knownUids'] = null;
  let seqMatch: QresyncParams['seqMatch'] = null;
  if (r.trySp()) {
    if (r.peek() !== LPAREN) {
      knownUids = r.readSequenceSet();
      if (knownUids.saved) fail('$ is not allowed in QRESYNC');
      if (r.trySp() && r.peek() !== LPAREN) r.unexpected('sequence match data');
    }
    if (r.peek() === LPAREN) {
      r.pos++;
      const sequences = r.readSequenceSet();
      r.sp('known UIDs');
      const uids = r.readSequenceSet();
      if (sequences.saved || uids.saved) fail('$ is not allowed in QRESYNC');
      r.expect(RPAREN, '")" ending the sequence match data');
      seqMatch = { sequences, uids };
    }
  }
  r.expect(RPAREN, '")" ending the QRESYNC parameters');
  return { uidValidity, modSeq, knownUids, seqMatch };
}

function select(name: 'SELECT' | 'EXAMINE'): Handler {
  return (r, tag) => {
    r.sp('mailbox name');
    const mailbox = r.readMailbox();
    let condstore = false;
    let qresync: QresyncParams | null = null;
    if (r.trySp()) {
      r.readList('select parameters', () => {
        const word = r.readAtom('select parameter').toUpperCase();
        if (word === 'CONDSTORE') {
          if (condstore) fail('CONDSTORE given twice');
          condstore = true;
        } else if (word === 'QRESYNC') {
          if (qresync) fail('QRESYNC given twice');
          qresync = readQresync(r);
        } else {
          fail(`Unknown ${name} parameter ${word}`);
        }
      });
    }
    r.end();
    return { tag, name, mailbox, condstore, qresync };
  };
}

const create: Handler = (r, tag) => {
  r.sp('mailbox name');
  const mailbox = r.readMailbox();
  const specialUse: string[] = [];
  if (r.trySp()) {
    let seen = false;
    r.readList('CREATE parameters', () => {
      const word = r.readAtom('CREATE parameter').toUpperCase();
      if (word !== 'USE') fail(`Unknown CREATE parameter ${word}`);
      if (seen) fail('USE given twice');
      seen = true;
      r.sp('special-use list');
      specialUse.push(...r.readList('special-use list', () => r.readFlag()));
      if (specialUse.some((use) => !use.startsWith('\\'))) fail('Special-use attributes start with \\');
    });
  }
  r.end();
  return { tag, name: 'CREATE', mailbox, specialUse };
};

function mailboxOnly(name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE' | 'GETQUOTAROOT'): Handler {
  return (r, tag) => {
    r.sp('mailbox name');
    const mailbox = r.readMailbox();
    r.end();
    return { tag, name, mailbox };
  };
}

const rename: Handler = (r, tag) => {
  r.sp('mailbox name');
  const from = r.readMailbox();
  r.sp('new mailbox name');
  const to = r.readMailbox('new mailbox name');
  r.end();
  return { tag, name: 'RENAME', from, to };
};

const list: Handler = (r, tag) => {
  const selectOptions: ListSelectOptions = {
    subscribed: false,
    remote: false,
    recursiveMatch: false,
    specialUse: false,
  };
  const returnOptions: ListReturnOptions = {
    subscribed: false,
    children: false,
    specialUse: false,
    myRights: false,
    status: null,
  };
  let extended = false;
  r.sp('reference name');
  if (r.peek() === LPAREN) {
    extended = true;
    r.readList(
      'selection options',
      () => {
        const word = r.readAtom('selection option').toUpperCase();
        if (word === 'SUBSCRIBED') selectOptions.subscribed = true;
        else if (word === 'REMOTE') selectOptions.remote = true;
        else if (word === 'RECURSIVEMATCH') selectOptions.recursiveMatch = true;
        else if (word === 'SPECIAL-USE') selectOptions.specialUse = true;
        else fail(`Unknown LIST selection option ${word}`);
      },
      true,
    );
    if (selectOptions.recursiveMatch && !selectOptions.subscribed && !selectOptions.specialUse) {
      fail('RECURSIVEMATCH needs another selection option');
    }
    r.sp('reference name');
  }
  const reference = r.readAstring('reference name');
  r.sp('mailbox pattern');
  let patterns: string[];
  if (r.peek() === LPAREN) {
    extended = true;
    patterns = r.readList('mailbox pattern list', () => r.readListMailbox());
  } else {
    patterns = [r.readListMailbox()];
  }
  if (r.trySp()) {
    if (!r.tryWord('RETURN')) r.unexpected('RETURN');
    extended = true;
    r.sp('return options');
    r.readList(
      'return options',
      () => {
        const word = r.readAtom('return option').toUpperCase();
        if (word === 'SUBSCRIBED') returnOptions.subscribed = true;
        else if (word === 'CHILDREN') returnOptions.children = true;
        else if (word === 'SPECIAL-USE') returnOptions.specialUse = true;
        else if (word === 'MYRIGHTS') returnOptions.myRights = true;
        else if (word === 'STATUS') {
          if (returnOptions.status) fail('STATUS given twice');
          r.sp('status item list');
          returnOptions.status = readStatusItems(r);
        } else fail(`Unknown LIST return option ${word}`);
      },
      true,
    );
  }
  r.end();
  return { tag, name: 'LIST', reference, patterns, selectOptions, returnOptions, extended };
};

function lsub(name: 'LSUB' | 'XLIST'): Handler {
  return (r, tag) => {
    r.sp('reference name');
    const reference = r.readAstring('reference name');
    r.sp('mailbox pattern');
    const pattern = r.readListMailbox();
    r.end();
    return { tag, name, reference, pattern };
  };
}

const status: Handler = (r, tag) => {
  r.sp('mailbox name');
  const mailbox = r.readMailbox();
  r.sp('status item list');
  const items = readStatusItems(r);
  r.end();
  return { tag, name: 'STATUS', mailbox, items };
};

function readAppendMessage(r: Reader): AppendMessage {
  let flags: string[] = [];
  let internalDate: Date | null = null;
  if (r.peek() === LPAREN) {
    flags = r.readFlagList();
    r.sp('message literal');
  }
  if (r.peek() === DQUOTE) {
    const text = r.readString('date-time');
    internalDate = parseDateTime(text);
    if (!internalDate) fail('Invalid date-time (expected e.g. "17-Jul-1996 02:44:25 -0700")');
    r.sp('message literal');
  }
  if (r.tryWord('CATENATE')) {
    r.sp('CATENATE parts');
    const catenate = r.readList('CATENATE parts', () => readCatenatePart(r));
    return { flags, internalDate, data: Buffer.alloc(0), binary: false, utf8: false, catenate };
  }
  if (r.tryWord('UTF8')) {
    r.sp('UTF8 message');
    r.expect(LPAREN, '"(" before the UTF8 message');
    if (!r.atLiteral()) r.unexpected('message literal');
    const { data } = r.readLiteral(true);
    r.expect(RPAREN, '")" after the UTF8 message');
    return { flags, internalDate, data, binary: true, utf8: true };
  }
  if (!r.atLiteral()) r.unexpected('message literal');
  const { data, binary } = r.readLiteral(true);
  return { flags, internalDate, data, binary, utf8: false };
}

/** `TEXT literal` / `TEXT literal8` / `URL astring` (RFC 4469 5). */
function readCatenatePart(r: Reader): CatenatePart {
  if (r.tryWord('TEXT')) {
    r.sp('TEXT literal');
    if (!r.atLiteral()) r.unexpected('TEXT literal');
    const { data, binary } = r.readLiteral(true);
    return { kind: 'text', data, binary };
  }
  if (r.tryWord('URL')) {
    r.sp('URL');
    return { kind: 'url', url: r.readAstring('URL') };
  }
  return r.unexpected('TEXT or URL');
}

const append: Handler = (r, tag) => {
  r.sp('mailbox name');
  const mailbox = r.readMailbox();
  const messages: AppendMessage[] = [];
  do {
    r.sp('message');
    messages.push(readAppendMessage(r));
  } while (!r.atEnd());
  return { tag, name: 'APPEND', mailbox, messages };
};

function replace(uid: boolean): Handler {
  return (r, tag) => {
    r.sp(uid ? 'UID' : 'sequence number');
    const target = r.readNzNumber(uid ? 'UID' : 'sequence number');
    r.sp('mailbox name');
    const mailbox = r.readMailbox();
    r.sp('message');
    const message = readAppendMessage(r);
    r.end();
    return { tag, name: 'REPLACE', uid, target, mailbox, message };
  };
}

function expunge(uid: boolean): Handler {
  return (r, tag) => {
    if (!uid) {
      r.end();
      return { tag, name: 'EXPUNGE', uid, sequence: null };
    }
    r.sp('UID set');
    const sequence = r.readSequenceSet();
    r.end();
    return { tag, name: 'EXPUNGE', uid, sequence };
  };
}

function search(uid: boolean): Handler {
  return (r, tag, options) => {
    r.sp('search criteria');
    const { charset, returnOptions, partial, criteria } = readSearch(r, options.maxSearchDepth);
    return { tag, name: 'SEARCH', uid, charset, returnOptions, partial, criteria };
  };
}

function sort(uid: boolean): Handler {
  return (r, tag, options) => {
    r.sp('sort criteria');
    return { tag, name: 'SORT', uid, ...readSortArguments(r, options.maxSearchDepth) };
  };
}

function thread(uid: boolean): Handler {
  return (r, tag, options) => {
    r.sp('thread algorithm');
    return { tag, name: 'THREAD', uid, ...readThreadArguments(r, options.maxSearchDepth) };
  };
}

function fetch(uid: boolean): Handler {
  return (r, tag) => {
    r.sp('sequence set');
    const sequence = r.readSequenceSet();
    r.sp('fetch attributes');
    const { items, macro } = readFetchItems(r);
    const modifiers = r.trySp() ? readFetchModifiers(r, uid) : {};
    r.end();
    return { tag, name: 'FETCH', uid, sequence, items, macro, modifiers };
  };
}

function store(uid: boolean): Handler {
  return (r, tag) => {
    r.sp('sequence set');
    const sequence = r.readSequenceSet();
    r.sp('store item');
    let unchangedSince: number | null = null;
    if (r.peek() === LPAREN) {
      r.readList('store modifiers', () => {
        const word = r.readAtom('store modifier').toUpperCase();
        if (word !== 'UNCHANGEDSINCE') fail(`Unknown STORE modifier ${word}`);
        if (unchangedSince !== null) fail('UNCHANGEDSINCE given twice');
        r.sp('UNCHANGEDSINCE value');
        unchangedSince = r.readModSeq('UNCHANGEDSINCE value');
      });
      r.sp('store item');
    }
    const item = r.readAtom('store item').toUpperCase();
    const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
    if (!m) fail(`Unknown store item ${item} (expected FLAGS, +FLAGS or -FLAGS)`);
    const operation = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set';
    r.sp('flags');
    let flags: string[];
    if (r.peek() === LPAREN) {
      flags = r.readFlagList();
    } else {
      flags = [r.readFlag()];
      while (r.trySp()) flags.push(r.readFlag());
    }
    r.end();
    return { tag, name: 'STORE', uid, sequence, operation, silent: !!m[2], flags, unchangedSince };
  };
}

function copy(name: 'COPY' | 'MOVE', uid: boolean): Handler {
  return (r, tag) => {
    r.sp('sequence set');
    const sequence = r.readSequenceSet();
    r.sp('mailbox name');
    const mailbox = r.readMailbox();
    r.end();
    return { tag, name, uid, sequence, mailbox };
  };
}

const MAX_ID_PAIRS = 30;

const id: Handler = (r, tag) => {
  r.sp('ID parameters');
  if (r.tryNil()) {
    r.end();
    return { tag, name: 'ID', params: null };
  }
  const params: Array<[string, string | null]> = [];
  r.readList(
    'ID parameter list',
    () => {
      if (params.length >= MAX_ID_PAIRS) fail(`Too many ID fields (at most ${String(MAX_ID_PAIRS)})`);
      const key = r.readString('ID field name');
      r.sp('ID field value');
      params.push([key, r.readNstring('ID field value')]);
    },
    true,
  );
  r.end();
  return { tag, name: 'ID', params };
};

const enable: Handler = (r, tag) => {
  const capabilities: string[] = [];
  r.sp('capability');
  do capabilities.push(r.readAtom('capability').toUpperCase());
  while (r.trySp());
  r.end();
  return { tag, name: 'ENABLE', capabilities };
};

const cancelUpdate: Handler = (r, tag) => {
  const tags: string[] = [];
  r.sp('search tag');
  do tags.push(r.readQuotedBytes().toString('utf8'));
  while (r.trySp());
  r.end();
  return { tag, name: 'CANCELUPDATE', tags };
};

const getQuota: Handler = (r, tag) => {
  r.sp('quota root');
  const root = r.readAstring('quota root');
  r.end();
  return { tag, name: 'GETQUOTA', root };
};

const setQuota: Handler = (r, tag) => {
  r.sp('quota root');
  const root = r.readAstring('quota root');
  r.sp('quota limits');
  const limits = r.readList(
    'quota limit list',
    () => {
      const resource = r.readAtom('quota resource').toUpperCase();
      r.sp('quota limit');
      return { resource, limit: r.readNumber('quota limit', Number.MAX_SAFE_INTEGER) };
    },
    true,
  );
  r.end();
  return { tag, name: 'SETQUOTA', root, limits };
};

const compress: Handler = (r, tag) => {
  r.sp('compression mechanism');
  const mechanism = r.readAtom('compression mechanism').toUpperCase();
  r.end();
  return { tag, name: 'COMPRESS', mechanism };
};

const COMMANDS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['CAPABILITY', noArgs('CAPABILITY')],
  ['NOOP', noArgs('NOOP')],
  ['LOGOUT', noArgs('LOGOUT')],
  ['STARTTLS', noArgs('STARTTLS')],
  ['CHECK', noArgs('CHECK')],
  ['CLOSE', noArgs('CLOSE')],
  ['UNSELECT', noArgs('UNSELECT')],
  ['UNAUTHENTICATE', noArgs('UNAUTHENTICATE')],
  ['IDLE', noArgs('IDLE')],
  ['NAMESPACE', noArgs('NAMESPACE')],
  ['AUTHENTICATE', authenticate],
  ['LOGIN', login],
  ['SELECT', select('SELECT')],
  ['EXAMINE', select('EXAMINE')],
  ['CREATE', create],
  ['DELETE', mailboxOnly('DELETE')],
  ['RENAME', rename],
  ['SUBSCRIBE', mailboxOnly('SUBSCRIBE')],
  ['UNSUBSCRIBE', mailboxOnly('UNSUBSCRIBE')],
  ['LIST', list],
  ['LSUB', lsub('LSUB')],
  ['XLIST', lsub('XLIST')],
  ['STATUS', status],
  ['APPEND', append],
  ['REPLACE', replace(false)],
  ['EXPUNGE', expunge(false)],
  ['SEARCH', search(false)],
  ['SORT', sort(false)],
  ['THREAD', thread(false)],
  ['FETCH', fetch(false)],
  ['STORE', store(false)],
  ['COPY', copy('COPY', false)],
  ['MOVE', copy('MOVE', false)],
  ['ID', id],
  ['ENABLE', enable],
  ['CANCELUPDATE', cancelUpdate],
  ['GETQUOTA', getQuota],
  ['GETQUOTAROOT', mailboxOnly('GETQUOTAROOT')],
  ['SETQUOTA', setQuota],
  ['COMPRESS', compress],
  ['GETMETADATA', parseGetMetadata],
  ['SETMETADATA', parseSetMetadata],
  ['NOTIFY', parseNotify],
  ['GENURLAUTH', parseGenUrlAuth],
  ['RESETKEY', parseResetKey],
  ['URLFETCH', parseUrlFetch],
]);

const UID_COMMANDS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['FETCH', fetch(true)],
  ['STORE', store(true)],
  ['COPY', copy('COPY', true)],
  ['MOVE', copy('MOVE', true)],
  ['SEARCH', search(true)],
  ['SORT', sort(true)],
  ['THREAD', thread(true)],
  ['EXPUNGE', expunge(true)],
  ['REPLACE', replace(true)],
]);

/** The command names parseCommand knows (without the UID forms). */
export const KNOWN_COMMANDS: readonly string[] = [...COMMANDS.keys()];

function toFramed(input: FramedCommand | string | Buffer): FramedCommand {
  if (typeof input === 'string') {
    const buf = Buffer.from(input, 'utf8');
    return { segments: [buf], literals: [], size: buf.length };
  }
  if (Buffer.isBuffer(input)) return { segments: [input], literals: [], size: input.length };
  return input;
}

/** Makes a message safe for a response line: printable ASCII, bounded length. */
function safeMessage(message: string): string {
  const clean = message.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 197)}...` : clean;
}

/**
 * Parses one command. A string or Buffer is a single line without literals; framed commands come
 * from ImapFramer.
 */
export function parseCommand(
  input: FramedCommand | string | Buffer,
  options: ParseOptions = {},
): ParsedCommand | ParseError {
  const opts: Required<ParseOptions> = { maxSearchDepth: options.maxSearchDepth ?? DEFAULT_MAX_SEARCH_DEPTH };
  let tag: string | null = null;
  let command: string | null = null;
  try {
    const r = new Reader(toFramed(input));
    if (r.atEnd()) return new ParseError('empty', null, null, 'Empty command line');
    const maybeTag = r.readTag();
    // Only a tag followed by a space (or ending the line) counts; `a<NUL>b` has no readable tag.
    if (r.peek() !== SP) {
      if (r.atEnd()) {
        tag = maybeTag;
        fail('Missing command');
      }
      r.unexpected('a space after the tag');
    }
    tag = maybeTag;
    r.pos++;
    const readName = (what: string): string => {
      const word = r.readAtom(what).toUpperCase();
      if (r.peek() !== SP && !r.atEnd()) r.unexpected(`a space after the ${what}`);
      return word;
    };
    const name = readName('command name');
    command = name;
    let handler = COMMANDS.get(name);
    if (name === 'UID') {
      r.sp('UID command');
      const sub = readName('UID command');
      command = `UID ${sub}`;
      handler = UID_COMMANDS.get(sub);
    }
    if (!handler)
      return new ParseError('unknown-command', tag, command, safeMessage(`Unknown command ${command}`));
    return handler(r, tag, opts);
  } catch (error) {
    if (error instanceof ParseFailure) {
      return new ParseError(error.kind, tag, command, safeMessage(error.message), error.charset);
    }
    throw error;
  }
}

/** Parses a sequence set on its own (`1:3,5,*`, `$`), e.g. from configuration or tests. */
export function parseSequenceSet(text: string): SequenceSet | ParseError {
  try {
    const r = new Reader(toFramed(text));
    const set = r.readSequenceSet();
    r.end();
    return set;
  } catch (error) {
    if (error instanceof ParseFailure)
      return new ParseError(error.kind, null, null, safeMessage(error.message));
    throw error;
  }
}

/** True when `text` can be sent as an atom. */
export function isAtom(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isAtomChar(text.charCodeAt(i))) return false;
  return true;
}
