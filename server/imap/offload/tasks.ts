/**
 * The work a parse worker does, as plain functions: the pool runs them on a worker thread for big
 * messages, and the callers run the same functions inline for small ones (or when there is no pool),
 * so both paths give the same answers.
 */
import { decodeTransfer, type MimeIndex } from '../../mime/index.ts';
import { MessageText } from '../search/content.ts';
import { evaluate, type ContentNode, type SearchSubject } from '../search/evaluate.ts';
import { RawText } from '../search/raw-filter.ts';

/**
 * The verdict of each content key on one message: first the raw-bytes filter (which rules most
 * needles out without decoding anything), then the decoded text. Null where the text is needed and
 * the message has no index (its data went with an expunge).
 */
export function matchContent(
  raw: Buffer,
  index: MimeIndex | null,
  nodes: readonly ContentNode[],
): Array<boolean | null> {
  const subject: SearchSubject = {
    seq: 0,
    uid: 0,
    flags: [],
    recent: false,
    modseq: 0,
    summary: null,
    index,
    raw: new RawText(raw),
    text: null,
  };
  const verdicts = nodes.map((node) => evaluate(node, subject));
  if (index !== null && verdicts.includes(null)) {
    subject.text = new MessageText(raw, index);
    verdicts.forEach((verdict, i) => {
      if (verdict === null) verdicts[i] = evaluate(nodes[i]!, subject);
    });
  }
  return verdicts;
}

/** One part's bytes with their transfer encoding undone. */
export function decodePart(raw: Buffer, start: number, end: number, encoding: string): Buffer {
  return decodeTransfer(raw.subarray(start, end), encoding);
}
