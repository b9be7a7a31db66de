/**
 * Line ends as stored: RFC 5322 2.1 lines end in CRLF, and IMAP and POP3 serve messages with CRLF
 * (RFC 3501 2.3.1, RFC 1939 3). Messages written by Unix tools often end lines with a bare LF (and a
 * message that passed our own delivery may mix our CRLF `Received:` with LF below). Such a message
 * is stored with every bare LF made CRLF, once, at ingest: then sizes, partial fetches, BODY[]
 * offsets and POP3's octet counts all describe the bytes that are sent, the same over IMAP and POP3,
 * as Dovecot does. A message that already uses CRLF is kept byte for byte (the same Buffer).
 */
const LF = 0x0a;
const CR = 0x0d;

/** Whether some line of `raw` ends in an LF without its CR. */
export function hasBareLineFeed(raw: Buffer): boolean {
  for (let at = raw.indexOf(LF); at >= 0; at = raw.indexOf(LF, at + 1)) {
    if (at === 0 || raw[at - 1] !== CR) return true;
  }
  return false;
}

/** The message with each LF not preceded by CR turned into CRLF; `raw` itself when there is none. */
export function withCrlfLineEnds(raw: Buffer): Buffer {
  let bare = 0;
  for (let at = raw.indexOf(LF); at >= 0; at = raw.indexOf(LF, at + 1)) {
    if (at === 0 || raw[at - 1] !== CR) bare++;
  }
  if (bare === 0) return raw;
  const out = Buffer.allocUnsafe(raw.length + bare);
  let written = 0;
  let from = 0;
  for (let at = raw.indexOf(LF); at >= 0; at = raw.indexOf(LF, at + 1)) {
    if (at > 0 && raw[at - 1] === CR) continue;
    written += raw.copy(out, written, from, at);
    out[written++] = CR;
    from = at; // the LF itself is copied with the next run
  }
  written += raw.copy(out, written, from);
  return out;
}
