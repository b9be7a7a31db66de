/**
 * Base subject extraction (RFC 5256 2.1), which SORT SUBJECT and both subject-based THREAD
 * algorithms compare on: encoded words decoded, white space collapsed, then repeatedly the
 * "(fwd)" trailers, "Re:" / "Fw:" / "Fwd:" leaders (with optional "[blob]"s before and inside),
 * a leading "[blob]" when text remains after it, and a "[Fwd: ...]" wrapper are removed.
 * Whether any reply or forward marker was removed is reported too: THREAD=REFERENCES prefers a
 * message without one as the head of a subject group (RFC 5256 3, step 5).
 */
import { decodeHeaderValue } from '../../mime/encoded-word.ts';

export interface BaseSubject {
  /** The base subject (not yet case-folded). */
  text: string;
  /** A "Re:", "Fwd:", "(fwd)" or "[Fwd: ...]" was removed. */
  replyOrForward: boolean;
}

/** subj-blob: "[" *BLOBCHAR "]" *WSP (BLOBCHAR: anything but brackets). */
const BLOB = /^\[[^[\]]*\] */;
/** subj-refwd preceded by any subj-blobs: *subj-blob ("re" / "fw" ["d"]) *WSP [subj-blob] ":". */
const REFWD_LEADER = /^(?:\[[^[\]]*\] *)*(?:re|fwd?) *(?:\[[^[\]]*\] *)?:/i;
/** subj-trailer: "(fwd)" / WSP, at the end. */
const TRAILER = /(?:\(fwd\)| )$/i;

/** Removes leaders (step 3) and a leading blob (step 4) until neither applies (step 5). */
function stripLeaders(subject: string, found: { replyOrForward: boolean }): string {
  let text = subject;
  for (;;) {
    const before = text;
    // Step 3: subj-leader = (*subj-blob subj-refwd) / WSP, repeated.
    for (;;) {
      if (text.startsWith(' ')) {
        text = text.slice(1);
        continue;
      }
      const leader = REFWD_LEADER.exec(text);
      if (leader === null) break;
      text = text.slice(leader[0].length);
      found.replyOrForward = true;
    }
    // Step 4: a leading blob goes, unless nothing would be left of the base.
    const blob = BLOB.exec(text);
    if (blob !== null && text.length > blob[0].length) text = text.slice(blob[0].length);
    if (text === before) return text;
  }
}

/** The base subject of a Subject header value (raw: encoded words not yet decoded). */
export function baseSubject(raw: string | null): BaseSubject {
  const found = { replyOrForward: false };
  // Step 1: decode, and every run of white space (folding included) becomes one space.
  let text = decodeHeaderValue(raw ?? '').replace(/[ \t\r\n]+/g, ' ');
  for (;;) {
    // Step 2: trailers.
    for (;;) {
      const trailer = TRAILER.exec(text);
      if (trailer === null) break;
      if (trailer[0] !== ' ') found.replyOrForward = true;
      text = text.slice(0, -trailer[0].length);
    }
    text = stripLeaders(text, found);
    // Step 6: "[fwd:" ... "]" around the rest: remove and start over from step 2.
    if (text.length >= 6 && text.slice(0, 5).toLowerCase() === '[fwd:' && text.endsWith(']')) {
      text = text.slice(5, -1);
      found.replyOrForward = true;
      continue;
    }
    return { text, replyOrForward: found.replyOrForward };
  }
}
