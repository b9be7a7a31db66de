/**
 * URLAUTH commands (RFC 4467 section 9):
 *
 *   genurlauth = "GENURLAUTH" 1*(SP url-rump SP mechanism)
 *   resetkey   = "RESETKEY" [SP mailbox *(SP mechanism)]
 *   urlfetch   = "URLFETCH" 1*(SP url-full)
 *
 * URLs are astrings; whether they are valid URLs is the command's business (it answers BADURL or
 * NIL for each one).
 */
import type { Reader } from './reader.ts';
import type { GenUrlAuthCommand, ResetKeyCommand, UrlFetchCommand } from './types.ts';

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
  const urls: string[] = [];
  do {
    r.sp('URL');
    urls.push(r.readAstring('URL'));
  } while (!r.atEnd());
  return { tag, name: 'URLFETCH', urls };
}
