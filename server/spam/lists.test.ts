import { describe, expect, it } from 'vitest';
import type { SpamListEntry } from '../store/spam.ts';
import { listDecision, sendersOf } from './lists.ts';

const entry = (list: 'allow' | 'block', pattern: string): SpamListEntry => ({
  userId: '1',
  list,
  pattern,
  createdAt: new Date(0),
});

describe('listDecision', () => {
  it.each([
    ['an address matches only itself', [entry('block', 'a@x.test')], ['b@x.test'], null],
    ['a domain covers its subdomains', [entry('block', 'x.test')], ['a@mail.x.test'], 'block x.test'],
    ['a domain is not a suffix of another name', [entry('block', 'x.test')], ['a@notx.test'], null],
    [
      'an address beats its domain',
      [entry('block', 'x.test'), entry('allow', 'boss@x.test')],
      ['boss@x.test'],
      'allow boss@x.test',
    ],
    [
      'a subdomain beats its parent',
      [entry('allow', 'x.test'), entry('block', 'bulk.x.test')],
      ['a@bulk.x.test'],
      'block bulk.x.test',
    ],
    [
      'allow wins a tie between senders',
      [entry('block', 'bounce.test'), entry('allow', 'x.test')],
      ['list@bounce.test', 'a@x.test'],
      'allow x.test',
    ],
  ])('%s', (_name, entries, senders, expected) => {
    const decision = listDecision(entries, senders);
    expect(decision ? `${decision.list} ${decision.pattern}` : null).toBe(expected);
  });
});

describe('sendersOf', () => {
  it('takes MAIL FROM and every From address, lower-cased, once each', () => {
    const message = Buffer.from(
      'From: "Boss" <Boss@X.test>, other@y.test\r\nSubject: s\r\n\r\nFrom: not@header.test\r\n',
    );
    expect(sendersOf('Bounce@List.test', message)).toEqual([
      'bounce@list.test',
      'boss@x.test',
      'other@y.test',
    ]);
    expect(sendersOf('', Buffer.from('Subject: none\r\n\r\n'))).toEqual([]);
  });
});
