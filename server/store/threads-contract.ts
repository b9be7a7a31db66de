/**
 * Thread ids' part of the store contract suite (see contract.ts, which runs it for every engine):
 * the rule of server/store/thread-ids.ts as the store applies it when messages are appended,
 * delivered, copied, moved and imported.
 */
import { describe, expect, it } from 'vitest';
import type { Mailbox, Store, User } from './types.ts';

/** A message with these headers (Message-ID without brackets; null: no such header). */
function mail(fields: { id?: string; subject?: string; references?: string[]; inReplyTo?: string }): Buffer {
  const lines = ['From: a@example.com'];
  if (fields.subject !== undefined) lines.push(`Subject: ${fields.subject}`);
  if (fields.id !== undefined) lines.push(`Message-ID: <${fields.id}>`);
  if (fields.references) lines.push(`References: ${fields.references.map((id) => `<${id}>`).join('\r\n ')}`);
  if (fields.inReplyTo !== undefined) lines.push(`In-Reply-To: <${fields.inReplyTo}>`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\nbody of ${fields.id ?? fields.subject ?? ''}\r\n`);
}

export function threadsContract(current: () => Store): void {
  describe('thread ids', () => {
    let counter = 0;
    const newUser = async (): Promise<User> =>
      current().createUser({ username: `threads${++counter}@example.com`, passwordHash: 'x' });
    const inboxOf = async (user: User): Promise<Mailbox> => (await current().getMailbox(user.id, 'INBOX'))!;

    /** Appends and returns the thread id the store gave the message. */
    async function threadOf(box: Mailbox, raw: Buffer): Promise<string> {
      const { uid } = await current().append(box.id, raw);
      const summary = await current().getMessage(box.id, uid);
      expect(summary?.threadId).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
      return summary!.threadId!;
    }

    it('puts a reply in its parent’s thread and an unrelated message in another', async () => {
      const box = await inboxOf(await newUser());
      const root = await threadOf(box, mail({ id: 'a@x', subject: 'Plans' }));
      const reply = await threadOf(box, mail({ id: 'b@x', subject: 'Re: Plans', references: ['a@x'] }));
      const deeper = await threadOf(box, mail({ id: 'c@x', subject: 'changed', references: ['a@x', 'b@x'] }));
      const byInReplyTo = await threadOf(box, mail({ id: 'd@x', subject: 'other', inReplyTo: 'c@x' }));
      const unrelated = await threadOf(box, mail({ id: 'e@x', subject: 'Lunch' }));
      expect([reply, deeper, byInReplyTo]).toEqual([root, root, root]);
      expect(unrelated).not.toBe(root);
    });

    it('lets a parent that arrives after its reply join the reply’s thread', async () => {
      const box = await inboxOf(await newUser());
      const reply = await threadOf(box, mail({ id: 'r@x', subject: 'Re: x', references: ['p@x'] }));
      const parent = await threadOf(box, mail({ id: 'p@x', subject: 'different' }));
      expect(parent).toBe(reply);
    });

    it('groups messages that start a thread by base subject, as THREAD=REFERENCES does', async () => {
      const box = await inboxOf(await newUser());
      const first = await threadOf(box, mail({ id: 's1@x', subject: 'Budget 2027' }));
      const fwd = await threadOf(box, mail({ id: 's2@x', subject: 'Fwd: [team] budget 2027' }));
      const orphan = await threadOf(
        box,
        mail({ id: 's3@x', subject: 'Re: BUDGET 2027', references: ['gone@x'] }),
      );
      // A reply within another thread goes by its references, whatever its subject says.
      const other = await threadOf(box, mail({ id: 'o1@x', subject: 'Other' }));
      const replyInOther = await threadOf(
        box,
        mail({ id: 'o2@x', subject: 'Budget 2027', references: ['o1@x'] }),
      );
      // No subject, no grouping.
      const blank1 = await threadOf(box, mail({ id: 'n1@x', subject: 'Re:' }));
      const blank2 = await threadOf(box, mail({ id: 'n2@x' }));
      expect([fwd, orphan]).toEqual([first, first]);
      expect(replyInOther).toBe(other);
      expect(other).not.toBe(first);
      expect(blank1).not.toBe(blank2);
    });

    it('never changes a thread id: a message that merges two threads joins the first', async () => {
      const box = await inboxOf(await newUser());
      const one = await threadOf(box, mail({ id: 'm1@x', subject: 'One' }));
      const two = await threadOf(box, mail({ id: 'm2@x', subject: 'Two' }));
      const merger = await threadOf(
        box,
        mail({ id: 'm3@x', subject: 'Re: One', references: ['m1@x', 'm2@x'] }),
      );
      expect(two).not.toBe(one);
      expect(merger).toBe(one);
      const listed = await current().listMessages(box.id);
      expect(listed.map((summary) => summary.threadId)).toEqual([one, two, one]);
    });

    it('is per user across mailboxes, and COPY and MOVE keep it', async () => {
      const store = current();
      const user = await newUser();
      const box = await inboxOf(user);
      const archive = await store.createMailbox(user.id, 'Projects');
      const root = await threadOf(box, mail({ id: 'k1@x', subject: 'Keep' }));
      const elsewhere = await threadOf(
        archive,
        mail({ id: 'k2@x', subject: 'Re: Keep', references: ['k1@x'] }),
      );
      expect(elsewhere).toBe(root);
      const copied = await store.copyMessages(box.id, [1], archive.id);
      const moved = await store.moveMessages(archive.id, [1], box.id);
      expect((await store.getMessage(archive.id, copied.uidMap[0]![1]))!.threadId).toBe(root);
      expect((await store.getMessage(box.id, moved.uidMap[0]![1]))!.threadId).toBe(root);
      // Another user's links are their own: the same message starts a thread of theirs.
      const other = await inboxOf(await newUser());
      const theirs = await threadOf(other, mail({ id: 'k3@x', subject: 'Re: Keep', references: ['k1@x'] }));
      expect(theirs).not.toBe(root);
      const intoOther = await store.copyMessages(box.id, [1], other.id);
      expect((await store.getMessage(other.id, intoOther.uidMap[0]![1]))!.threadId).toBe(theirs);
    });

    it('keeps an imported thread id, and later mail of that thread joins it', async () => {
      const store = current();
      const box = await inboxOf(await newUser());
      const [result] = await store.importMessages(box.id, [
        {
          message: { uid: 5, modseq: 5, flags: [], internalDate: new Date(), threadId: 'Tkept0001' },
          raw: mail({ id: 'i1@x', subject: 'Imported' }),
        },
      ]);
      expect(result).toBe('imported');
      expect((await store.getMessage(box.id, 5))!.threadId).toBe('Tkept0001');
      expect(await threadOf(box, mail({ id: 'i2@x', subject: 'Re: x', references: ['i1@x'] }))).toBe(
        'Tkept0001',
      );
      expect(await threadOf(box, mail({ id: 'i3@x', subject: 'imported' }))).toBe('Tkept0001');
      // An id that is no objectid is not kept: the store gives one.
      await store.importMessages(box.id, [
        {
          message: { uid: 9, modseq: 9, flags: [], internalDate: new Date(), threadId: 'not an id' },
          raw: mail({ id: 'i4@x', subject: 'Fresh' }),
        },
      ]);
      const fresh = (await store.getMessage(box.id, 9))!.threadId;
      expect(fresh).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(fresh).not.toBe('Tkept0001');
    });

    it('gives concurrent replies to one unknown parent one thread', async () => {
      const box = await inboxOf(await newUser());
      const threads = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          threadOf(box, mail({ id: `c${i}@x`, subject: `Re: q${i}`, references: ['question@x'] })),
        ),
      );
      expect(new Set(threads).size).toBe(1);
      expect(await threadOf(box, mail({ id: 'question@x', subject: 'q' }))).toBe(threads[0]);
    });
  });
}
