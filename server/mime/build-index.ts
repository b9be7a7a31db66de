/**
 * Assembles a MimeIndex from the parsed tree. Separate from index.ts so that tests can call it
 * without the safety net there, and see any exception a malformed message would cause.
 */
import { buildBodyStructure } from './bodystructure.ts';
import { displayString } from './bytes.ts';
import { parseDate } from './date.ts';
import { decodeHeaderValue } from './encoded-word.ts';
import { buildEnvelope } from './envelope.ts';
import { lastValue } from './header.ts';
import { parseMessage } from './parser.ts';
import type { MimeIndex } from './types.ts';

/** Format version of MimeIndex; bump it when the stored shape or its meaning changes. */
export const MIME_INDEX_VERSION = 1;

export function buildIndex(raw: Buffer): MimeIndex {
  const { root, extras } = parseMessage(raw);
  const fields = extras.get(root)?.fields ?? [];
  const header = (key: string): string | null => lastValue(raw, fields, key);
  const messageId = header('message-id');
  return {
    version: MIME_INDEX_VERSION,
    root,
    envelope: buildEnvelope(raw, fields),
    bodyStructure: buildBodyStructure(root, extras, raw, 'extensible'),
    body: buildBodyStructure(root, extras, raw, 'basic'),
    subject: decodeHeaderValue(header('subject') ?? ''),
    from: decodeHeaderValue(header('from') ?? ''),
    date: parseDate(header('date')),
    messageId: messageId === null ? null : displayString(messageId).trim(),
    references: header('references'),
  };
}
