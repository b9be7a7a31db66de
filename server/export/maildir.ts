/**
 * The Maildir++ layout as Dovecot reads it: INBOX is the root (cur/ new/ tmp/), every other folder
 * a directory `.A.B` (levels joined by "."), names in modified UTF-7. A "." inside one name would
 * be a level, so it is written `&AC4-` (its UTF-7 form), which our import reads back (Dovecot
 * shows such a name as it is on disk: it cannot hold a "." in a Maildir++ name). The file
 * name carries the flags after `:2,` (D draft, F flagged, R replied, S seen, T trashed, then
 * letters a–z for keywords, which `dovecot-keywords` in the folder numbers from 0). P (passed) is
 * read as $Forwarded; we write $Forwarded as a keyword, as Dovecot does.
 */
import { decodeModifiedUtf7, encodeModifiedUtf7 } from '../imap/encoder/utf7.ts';
import type { Flag } from '../store/types.ts';

/** System flags and their letters, in the ASCII order the info part must keep. */
const LETTERS: Array<[string, Flag]> = [
  ['D', '\\Draft'],
  ['F', '\\Flagged'],
  ['P', '$Forwarded'],
  ['R', '\\Answered'],
  ['S', '\\Seen'],
  ['T', '\\Deleted'],
];

/** Dovecot numbers at most 26 keywords per folder (a–z). */
export const MAX_KEYWORDS = 26;

/** A "." inside one name, in UTF-7 form (not canonical UTF-7, so decoded apart). */
const DOT = '&AC4-';

/** The directory of a folder below the Maildir root ('' for INBOX). */
export function folderDirectory(path: string): string {
  if (path.toUpperCase() === 'INBOX') return '';
  const levels = path.split('/').map((level) => encodeModifiedUtf7(level).replaceAll('.', DOT));
  return `.${levels.join('.')}`;
}

/** The folder of a Maildir++ directory name (`.A.B` → `A/B`, '' or '.' → INBOX). */
export function folderOfDirectory(name: string): string {
  if (name === '' || name === '.') return 'INBOX';
  const levels = name.replace(/^\./, '').split('.');
  return levels
    .map((level) =>
      level
        .split(DOT)
        .map((part) => {
          try {
            return decodeModifiedUtf7(part);
          } catch {
            return part;
          }
        })
        .join('.'),
    )
    .join('/');
}

/** The `:2,` info of a message; `keywordIndex` numbers this folder's keywords (added as met). */
export function infoFlags(
  flags: readonly Flag[],
  keywordIndex: Map<string, number>,
): { info: string; dropped: string[] } {
  const lower = new Set(flags.map((flag) => flag.toLowerCase()));
  let info = '';
  // P is written as the keyword $Forwarded instead: Dovecot reads P as no flag at all.
  for (const [letter, flag] of LETTERS) if (letter !== 'P' && lower.has(flag.toLowerCase())) info += letter;
  const letters: string[] = [];
  const dropped: string[] = [];
  for (const flag of flags) {
    if (flag.startsWith('\\')) continue;
    let index = keywordIndex.get(flag);
    if (index === undefined && keywordIndex.size < MAX_KEYWORDS) {
      index = keywordIndex.size;
      keywordIndex.set(flag, index);
    }
    if (index === undefined) dropped.push(flag);
    else letters.push(String.fromCharCode(97 + index));
  }
  return { info: info + letters.sort().join(''), dropped };
}

/** The `dovecot-keywords` file of a folder. */
export function keywordsFile(keywordIndex: Map<string, number>): string {
  return [...keywordIndex].map(([keyword, index]) => `${index} ${keyword}\n`).join('');
}

/** Reads a `dovecot-keywords` file: index → keyword. */
export function parseKeywordsFile(text: string): Map<number, string> {
  const keywords = new Map<number, string>();
  for (const line of text.split('\n')) {
    const match = /^(\d+) (\S+)$/.exec(line.trim());
    if (match) keywords.set(Number(match[1]), match[2]!);
  }
  return keywords;
}

/** The flags of a Maildir file name (`…:2,FS` or Dovecot on Windows' `…;2,FS`); none in new/. */
export function flagsOfFileName(name: string, keywords: Map<number, string>): Flag[] {
  const match = /[:;!]2,([A-Za-z]*)$/.exec(name);
  if (!match) return [];
  const flags: Flag[] = [];
  for (const letter of match[1]!) {
    const system = LETTERS.find(([l]) => l === letter);
    if (system) flags.push(system[1]);
    else if (letter >= 'a' && letter <= 'z') {
      const keyword = keywords.get(letter.charCodeAt(0) - 97);
      if (keyword) flags.push(keyword);
    }
  }
  return flags;
}
