/**
 * The bytes an IMAP URL names, read from the store: the message (`;UID=`), a section of it
 * (`;SECTION=`, the BODY[section] bytes as stored, no decoding) and a range of those (`;PARTIAL=`).
 *
 * Whose mailbox the URL may name is the caller's decision (`owner`): CATENATE resolves the
 * session's own URLs; URLAUTH resolves the owner the URL names once its token checked out. Any
 * failure is a UrlError whose message says why (the caller answers BADURL or NIL with it).
 */
import { extractSection, findSectionPart, parseSectionSpec, type MimeIndex } from '../../mime/index.ts';
import { isStoreError } from '../../store/errors.ts';
import type { Mailbox, Store, User } from '../../store/types.ts';
import { UrlError, type ImapUrl } from './parse.ts';

export interface UrlTarget {
  mailbox: Mailbox;
  uid: number;
  raw: Buffer;
}

/** The mailbox a URL names: `selected` for a relative URL, else the owner's mailbox of that name. */
export async function urlMailbox(
  store: Store,
  url: ImapUrl,
  owner: User,
  selected: Mailbox | null,
): Promise<Mailbox> {
  let mailbox: Mailbox | null;
  if (url.mailbox === null) {
    if (selected === null) throw new UrlError('A relative URL needs a selected mailbox');
    mailbox = selected;
  } else {
    mailbox = await store.getMailbox(owner.id, url.mailbox);
  }
  if (mailbox === null || !mailbox.selectable) throw new UrlError('No such mailbox');
  if (url.uidValidity !== null && url.uidValidity !== mailbox.uidValidity) {
    throw new UrlError('The mailbox has another UIDVALIDITY');
  }
  return mailbox;
}

/** The bytes a URL names in `mailbox` (section and partial applied). */
export async function urlBytes(store: Store, url: ImapUrl, mailbox: Mailbox): Promise<Buffer> {
  const message = await urlMessage(store, url, mailbox, url.section !== null);
  const data =
    url.section === null ? message.raw : extractUrlSection(message.raw, message.index!, url.section);
  return urlPartial(data, url);
}

/** The stored message a URL names, with its MIME index when `withIndex`. */
export async function urlMessage(
  store: Store,
  url: ImapUrl,
  mailbox: Mailbox,
  withIndex: boolean,
): Promise<{ raw: Buffer; index: MimeIndex | null }> {
  const message = await store.getMessage(mailbox.id, url.uid);
  if (message === null) throw new UrlError(`No message with UID ${url.uid}`);
  try {
    const raw = await store.readBlob(message.blobId);
    return { raw, index: withIndex ? await store.readMimeIndex(message.blobId) : null };
  } catch (error) {
    // The message went with an expunge between the lookups.
    if (isStoreError(error, 'NONEXISTENT')) throw new UrlError(`No message with UID ${url.uid}`);
    throw error;
  }
}

/** `;PARTIAL=offset.length` (RFC 5550) applied to the bytes of a URL. */
export function urlPartial(data: Buffer, url: ImapUrl): Buffer {
  if (url.partial === null) return data;
  const { offset, length } = url.partial;
  return data.subarray(offset, length === null ? undefined : offset + length);
}

export function extractUrlSection(raw: Buffer, index: MimeIndex, text: string): Buffer {
  const section = parseSectionSpec(text);
  if (section === null) throw new UrlError(`Invalid section "${text}"`);
  if (section.part.length > 0 && findSectionPart(index.root, section.part) === null) {
    throw new UrlError(`The message has no part ${section.part.join('.')}`);
  }
  return extractSection(raw, index, section);
}
