/**
 * The rule that lets a word index narrow a substring search (text-search.ts): a needle's whole
 * words are always words of every body that contains the needle, so looking one up never drops a
 * true match. Checked on what SEARCH itself matches (MessageText over real MIME), not on strings
 * made up to fit.
 */
import { describe, expect, it } from 'vitest';
import { indexMessage, searchableWords } from '../../mime/index.ts';
import { MessageText, foldCase } from '../../imap/search/content.ts';
import { wholeWords } from './text-search.ts';

const MESSAGES = [
  'Subject: Quarterly report\r\nFrom: Ann <ann@example.com>\r\n\r\nThe quarterly report draft is attached.\r\nSee  you\ttomorrow, 2024 figures.\r\n',
  'Subject: =?UTF-8?Q?R=C3=A9sum=C3=A9_of_the_week?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 at 9 am, needle-body here and a long=\r\nword split by soft break\r\n',
  'Subject: parts\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nX-Note: inner header words\r\n\r\nfirst part text\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>second part</p> text\r\n--b--\r\n',
];

describe('text index pre-filter rule', () => {
  it('takes only the words white space bounds on both sides, of ASCII letters and digits', () => {
    expect(wholeWords('needle')).toEqual([]);
    expect(wholeWords('needle-body')).toEqual([]);
    expect(wholeWords('quarterly report draft')).toEqual(['report']);
    expect(wholeWords(' report ')).toEqual(['report']);
    expect(wholeWords('a  b  c')).toEqual(['b']);
    expect(wholeWords('x caf\u00e9 y')).toEqual([]);
    expect(wholeWords('x re-port y')).toEqual([]);
    expect(wholeWords('x 2024 y z')).toEqual(['2024', 'y']);
  });

  it('never drops a message SEARCH matches: every whole word of every matching needle is a listed word', () => {
    let checked = 0;
    for (const text of MESSAGES) {
      const raw = Buffer.from(text);
      const index = indexMessage(raw);
      const words = new Set(searchableWords(raw, index));
      const message = new MessageText(raw, index);
      const haystacks = [message.body(), ...message.headers().map((h) => `${h.name}: ${h.value}`)];
      // Every substring of what BODY/TEXT match against, up to 40 characters, as a needle.
      for (const haystack of haystacks) {
        for (let start = 0; start < haystack.length; start++) {
          for (let end = start + 1; end <= Math.min(haystack.length, start + 40); end++) {
            const needle = foldCase(haystack.slice(start, end));
            expect(message.textContains(needle)).toBe(true);
            for (const word of wholeWords(needle)) {
              expect(words.has(word), `${JSON.stringify(needle)}: ${word}`).toBe(true);
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});
