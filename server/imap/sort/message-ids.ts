/**
 * Message-IDs as THREAD=REFERENCES reads them (RFC 5256 3, step 1): each `<...>` in Message-ID,
 * References and In-Reply-To, with white space inside removed (folded long ids), compared exactly.
 */
import type { SortEntry } from './keys.ts';

const MSG_ID = /<([^<>]*)>/g;

export function parseMessageIds(value: string | null | undefined): string[] {
  if (!value) return [];
  const ids: string[] = [];
  for (const match of value.matchAll(MSG_ID)) {
    const id = match[1]!.replace(/[ \t\r\n]+/g, '');
    if (id !== '') ids.push(id);
  }
  return ids;
}

/** The message's own id: the first id of its Message-ID header, or null. */
export function ownMessageId(message: SortEntry): string | null {
  if (message.lazy.ownId === undefined) message.lazy.ownId = parseMessageIds(message.messageId)[0] ?? null;
  return message.lazy.ownId;
}

/**
 * The message's parents, oldest first: its References, or when it has none, the first id of its
 * In-Reply-To.
 */
export function parentIds(message: SortEntry, references: string | undefined): string[] {
  const refs = parseMessageIds(references);
  if (refs.length > 0) return refs;
  return parseMessageIds(message.inReplyTo).slice(0, 1);
}
