import { describe, expect, it } from 'vitest';
import { ParseError } from './errors.ts';
import { frameAll } from './framer.ts';
import { tokenize, type ImapToken } from './tokenizer.ts';

const atom = (value: string): ImapToken => ({ type: 'atom', value });
const str = (value: string, literal = false): ImapToken => ({
  type: 'string',
  value: Buffer.from(value),
  literal,
});

describe('tokenize', () => {
  it.each<[string, ImapToken[]]>([
    [
      '* 1 FETCH (FLAGS (\\Seen))',
      [
        atom('*'),
        atom('1'),
        atom('FETCH'),
        { type: 'list', items: [atom('FLAGS'), { type: 'list', items: [atom('\\Seen')] }] },
      ],
    ],
    ['a NIL "x\\"y" ()', [atom('a'), { type: 'nil' }, str('x"y'), { type: 'list', items: [] }]],
    [
      '* OK [UIDNEXT 5] hi',
      [
        atom('*'),
        atom('OK'),
        { type: 'list', items: [atom('UIDNEXT'), atom('5')], bracket: true },
        atom('hi'),
      ],
    ],
    [
      'BODY[HEADER.FIELDS (A B)]<0>',
      [
        {
          type: 'atom',
          value: 'BODY',
          section: [atom('HEADER.FIELDS'), { type: 'list', items: [atom('A'), atom('B')] }],
          partial: '0',
        },
      ],
    ],
    ['BODY[]', [{ type: 'atom', value: 'BODY', section: [] }]],
  ])('%j', (input, expected) => {
    expect(tokenize(input)).toEqual(expected);
  });

  it('reads literals from a framed command', () => {
    const framed = frameAll('* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n')[0]!;
    expect(tokenize(framed as never)).toEqual([
      atom('*'),
      atom('1'),
      atom('FETCH'),
      { type: 'list', items: [{ type: 'atom', value: 'BODY', section: [] }, str('ab\r\nc', true)] },
    ]);
  });

  it.each(['(a', 'a)', '"abc', 'a  b', '[a', '<0>', 'a\0'])('rejects %j', (input) => {
    expect(tokenize(input)).toBeInstanceOf(ParseError);
  });
});
