/**
 * URLAUTH commands (RFC 4467 section 9):
 *
 *   genurlauth = "GENURLAUTH" 1*(SP url-rump SP mechanism)
 *   resetkey   = "RESETKEY" [SP mailbox *(SP mechanism)]
 *   urlfetch   = "URLFETCH" 1*(SP url-fetch-arg)
 *   url-fetch-arg   = url-full / "(" url-full *(SP url-fetch-param) ")"    ; RFC 5524
 *   url-fetch-param = "BODY" / "BINARY" / "BODYPARTSTRUCTURE"
 *
 * URLs are astrings; whether they are valid URLs is the command's business (it answers BADURL or
 * NIL for each one).
 */
import { fail } from './errors.ts';
import type { Reader } from './reader.ts';
import type {
  GenUrlAuthCommand,
  ResetKeyCommand,
  UrlFetchCommand,
  UrlFetchItem,
  UrlFetchWant,
} from './types.ts';

/** `mechanism = "INTERNAL" / 1*(ALPHA / DIGIT / "-" / ".")`, upper-cased. */
function readMechanism(r: Reader): string {
  return r.readChars(isMechanismChar, 'URLAUTH mechanism').toUpperCase();
}

const isMechanismChar = (b: number): boolean =>
  (b >= 0x41 && b <= 0x5a) ||
  (b >= 0x61 && b <= 0x7a) ||
  (b >= 0x30 && b <= 0x39) ||
  b === 0x2d ||
  b === 0x2e;

export function parseGenUrlAuth(r: Reader, tag: string): GenUrlAuthCommand {
  const urls: GenUrlAuthCommand['urls'] = [];
  do {
    r.sp('URL');
    const url = r.readAstring('URL');
    r.sp('URLAUTH mechanism');
    urls.push({ url, mechanism: readMechanism(r) });
  } while (!r.atEnd());
  return { tag, name: 'GENURLAUTH', urls };
}

export function parseResetKey(r: Reader, tag: string): ResetKeyCommand {
  if (r.atEnd()) return { tag, name: 'RESETKEY', mailbox: null, mechanisms: [] };
  r.sp('mailbox name');
  const mailbox = r.readMailbox();
  const mechanisms: string[] = [];
  while (!r.atEnd()) {
    r.sp('URLAUTH mechanism');
    mechanisms.push(readMechanism(r));
  }
  return { tag, name: 'RESETKEY', mailbox, mechanisms };
}

export function parseUrlFetch(r: Reader, tag: string): UrlFetchCommand {
  const urls: UrlFetchItem[] = [];
  do {
    r.sp('URL');
    urls.push(readUrlFetchArg(r));
  } while (!r.atEnd());
  return { tag, name: 'URLFETCH', urls };
}

const LPAREN = 0x28;
const RPAREN = 0x29;
const FETCH_PARAMS = { BODY: 'body', BINARY: 'binary', BODYPARTSTRUCTURE: 'bodyPartStructure' } as const;

/**
 * A URL alone, or RFC 5524's `(url param...)`. A parameter may come once, BODY and BINARY exclude
 * each other (3.1), and `(url)` alone asks for BODY, as Dovecot reads it.
 */
function readUrlFetchArg(r: Reader): UrlFetchItem {
  if (!r.tryByte(LPAREN)) return { url: r.readAstring('URL'), want: null };
  const url = r.readAstring('URL');
  const want: UrlFetchWant = { body: false, binary: false, bodyPartStructure: false };
  while (!r.tryByte(RPAREN)) {
    r.sp('URLFETCH parameter');
    const name = r.readAtom('URLFETCH parameter').toUpperCase();
    const key = Object.hasOwn(FETCH_PARAMS, name) ? FETCH_PARAMS[name as keyof typeof FETCH_PARAMS] : null;
    if (key === null) fail(`Unknown URLFETCH parameter ${name} (BODY, BINARY or BODYPARTSTRUCTURE)`);
    if (want[key]) fail(`URLFETCH parameter ${name} given twice`);
    want[key] = true;
  }
  if (want.body && want.binary) fail('URLFETCH takes BODY or BINARY for a URL, not both');
  if (!want.body && !want.binary && !want.bodyPartStructure) want.body = true;
  return { url, want };
}
