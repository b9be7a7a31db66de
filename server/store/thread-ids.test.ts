/**
 * The thread keys of a message header and the choice of a thread from the links found
 * (server/store/thread-ids.ts); the stores' use of them is in threads-contract.ts.
 */
import { describe, expect, it } from 'vitest';
import { chooseThread, lookupKeys, threadKeysOfMessage } from './thread-ids.ts';

const keysOf = (header: string) => threadKeysOfMessage(Buffer.from(`${header}\r\n\r\nbody <not@a.ref>\r\n`));

describe('thread keys', () => {
  it('takes References oldest first (folded ids joined), then the own Message-ID', () => {
    const keys = keysOf(
      'Message-ID: <own@x>\r\nReferences: <a@x>\r\n <b\r\n @x> <a@x>\r\nIn-Reply-To: <ignored@x>\r\nSubject: Re: [list] Fwd: Hello (fwd)',
    );
    expect(keys).toEqual({ ids: ['<a@x>', '<b@x>', '<own@x>'], subject: `subject:${'HELLO'}` });
  });

  it('takes the first id of In-Reply-To only without References, and the last of repeated fields', () => {
    const keys = keysOf('In-Reply-To: <p@x> <q@x>\r\nMessage-ID: <old@x>\r\nMessage-ID: <new@x>');
    expect(keys).toEqual({ ids: ['<p@x>', '<new@x>'], subject: null });
  });

  it('decodes the subject and folds its case as SORT SUBJECT does', () => {
    expect(keysOf('Subject: =?UTF-8?Q?R=C3=A9union?=').subject).toBe(keysOf('Subject: Re: réunion').subject);
    expect(keysOf('Subject: Re:   ').subject).toBeNull();
  });
});

describe('choosing a thread', () => {
  const keys = { ids: ['<a@x>', '<b@x>', '<own@x>'], subject: 'subject:HELLO' };

  it('joins the first linked id, linking the unlinked ids but not the subject', () => {
    const linked = new Map([
      ['<b@x>', 'Tb'],
      ['<a@x>', 'Ta'],
      ['subject:HELLO', 'Ts'],
    ]);
    expect(chooseThread(keys, linked)).toEqual({ threadId: 'Ta', newLinks: ['<own@x>'] });
  });

  it('joins the subject’s thread when no id is linked, else starts one that owns the subject', () => {
    expect(chooseThread(keys, new Map([['subject:HELLO', 'Ts']]))).toEqual({
      threadId: 'Ts',
      newLinks: ['<a@x>', '<b@x>', '<own@x>'],
    });
    const fresh = chooseThread(keys, new Map());
    expect(fresh.threadId).toMatch(/^T[0-9a-f]{16}$/);
    expect(fresh.newLinks).toEqual(lookupKeys(keys));
    expect(chooseThread(keys, new Map()).threadId).not.toBe(fresh.threadId);
  });
});
