import { describe, expect, it } from 'vitest';
import { CommandFramer } from './framer.ts';
import { parseCommand, parseSaslResponse } from './parser.ts';

function framed(input: string) {
  const framer = new CommandFramer();
  framer.push(Buffer.from(input));
  const item = framer.next({ maxLine: 1000, maxLiteral: 1000 });
  if (item?.type !== 'command') throw new Error(`not a command: ${input}`);
  return item;
}

describe('parseCommand', () => {
  it.each([
    ['NOOP\r\n', { name: 'NOOP', args: [] }],
    ['noop "tag"\r\n', { name: 'NOOP', args: [{ type: 'string', value: 'tag' }] }],
    [
      'HAVESPACE "a b" 1234\r\n',
      {
        name: 'HAVESPACE',
        args: [
          { type: 'string', value: 'a b' },
          { type: 'number', value: 1234 },
        ],
      },
    ],
    [
      'PUTSCRIPT "q\\"\\\\" {2+}\r\nhi\r\n',
      {
        name: 'PUTSCRIPT',
        args: [
          { type: 'string', value: 'q"\\' },
          { type: 'string', value: 'hi' },
        ],
      },
    ],
    ['SETACTIVE ""\r\n', { name: 'SETACTIVE', args: [{ type: 'string', value: '' }] }],
    ['GETSCRIPT "été"\r\n', { name: 'GETSCRIPT', args: [{ type: 'string', value: 'été' }] }],
    ['   \r\n', null],
  ])('%j', (input, expected) => {
    expect(parseCommand(framed(input))).toEqual(expected);
  });

  it.each([
    ['"NOOP"\r\n', 'A command starts with its name'],
    ['PUTSCRIPT "a\r\n', 'Unterminated quoted string'],
    ['PUTSCRIPT "\\n"\r\n', 'Only \\" and \\\\ may be escaped in a quoted string'],
    ['GETSCRIPT name\r\n', 'Unexpected name: strings are quoted'],
    ['GETSCRIPT (x)\r\n', 'Unexpected "(x)": strings are quoted or literals'],
    ['HAVESPACE "a" 99999999999999999999\r\n', 'Number too large'],
    ['PUTSCRIPT {x+} "a"\r\n', 'Misplaced literal {x+}'],
  ])('refuses %j', (input, message) => {
    expect(() => parseCommand(framed(input))).toThrow(message);
  });
});

describe('parseSaslResponse', () => {
  it('takes one quoted string or literal', () => {
    expect(parseSaslResponse(framed('"AGEAYg=="\r\n'))).toBe('AGEAYg==');
    expect(parseSaslResponse(framed('{4+}\r\nabcd\r\n'))).toBe('abcd');
  });
  it.each(['"a" "b"\r\n', 'abc\r\n', '12\r\n'])('refuses %j', (input) => {
    expect(() => parseSaslResponse(framed(input))).toThrow('A SASL response is one string');
  });
});
