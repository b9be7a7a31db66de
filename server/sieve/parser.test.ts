import { describe, expect, it } from 'vitest';
import { checkScript, compileScript } from './script.ts';
import { parseScript } from './parser.ts';

describe('Sieve lexer and parser', () => {
  it('reads multi-line strings with dot-stuffing, comments and quantifiers', () => {
    const [command] = parseScript(
      '# a comment\nreject text: # after text:\r\nline one\r\n..dotted\r\n.\r\n;\n/* x */ ',
    );
    expect(command?.name).toBe('reject');
    expect(command?.arguments[0]).toMatchObject({ kind: 'string', value: 'line one\r\n.dotted\r\n' });
    const [size] = parseScript('if size :over 2K { }')[0]?.tests ?? [];
    expect(size?.arguments[1]).toMatchObject({ kind: 'number', value: 2048 });
  });

  it('unescapes quoted strings and keeps other backslashes as the escaped character', () => {
    const [command] = parseScript('keep "a\\"b\\\\c\\d";');
    expect(command?.arguments[0]).toMatchObject({ value: 'a"b\\cd' });
  });

  it('decodes encoded characters only when the script requires them (RFC 5228 2.4.2.4)', () => {
    const on = compileScript(
      'require ["encoded-character", "fileinto"]; fileinto "${hex:46 6F}${unicode:263A}";',
    );
    expect(on.commands[1]?.arguments[0]).toMatchObject({ value: 'Fo\u263a' });
    const off = compileScript('require "fileinto"; fileinto "${hex:46}";');
    expect(off.commands[1]?.arguments[0]).toMatchObject({ value: '${hex:46}' });
  });

  it.each([
    [
      'if header :is "a" "b" {\n  keep;\n',
      'line 3, column 1: expected a command or "}", found end of script',
    ],
    ['keep', 'line 1, column 5: expected ";" or "{", found end of script'],
    ['keep;\n  "x";', 'line 2, column 3: expected a command, found string "x"'],
    ['keep "unterminated;', 'line 1, column 6: unterminated string'],
    ['/* open', 'line 1, column 1: unterminated comment'],
    ['reject text:\nno end\n', 'line 1, column 8: unterminated multi-line string'],
    ['fileinto "x";', 'line 1, column 1: command "fileinto" used without require "fileinto"'],
    ['keep;\nrequire "fileinto";', 'line 2, column 1: require must come before every other command'],
    ['require "nope";', 'line 1, column 9: unsupported extension "nope"'],
    ['if size :over "1" { }', 'line 1, column 15: argument 1 of size must be a number'],
    ['if header :is :contains "a" "b" { }', 'line 1, column 15: :contains cannot be combined with :is'],
    [
      'if header :regex "a" "b" { }',
      'line 1, column 11: unknown tagged argument :regex for header (needs require "regex")',
    ],
    ['require "regex"; if header :regex "s" "(" { }', 'line 1, column 21: invalid regular expression "("'],
    ['else { }', 'line 1, column 1: else without a preceding if'],
    ['if true;', 'line 1, column 1: if needs a block'],
    ['stop { }', 'line 1, column 1: stop takes no block (expected ";")'],
    ['if exists { }', 'line 1, column 4: exists takes 1 positional argument(s), found 0'],
    ['if header :comparator "i;nope" "a" "b" { }', 'line 1, column 23: unknown comparator "i;nope"'],
    ['redirect "not an address";', 'line 1, column 10: invalid redirect address "not an address"'],
    ['keep; @', 'line 1, column 7: unexpected character "@"'],
  ])('refuses %j with its position', (source, message) => {
    expect(checkScript(source)?.message).toBe(message);
  });

  it('refuses nesting deeper than the limit without exhausting the stack', () => {
    expect(checkScript('if not '.repeat(10_000) + 'true { }')?.message).toMatch(/nested too deeply/);
    expect(checkScript('if true { '.repeat(10_000))?.message).toMatch(/nested too deeply/);
  });

  it('never throws anything but a compile error on random input', () => {
    const alphabet = [
      'if',
      ' ',
      '"',
      '\\',
      '{',
      '}',
      '(',
      ')',
      '[',
      ']',
      ',',
      ';',
      ':is',
      'text:',
      '\n',
      '.',
      '#',
      '/*',
      '*/',
      '1K',
      'header',
      'true',
    ];
    let seed = 7;
    for (let round = 0; round < 2000; round++) {
      let source = '';
      for (let i = 0; i < 30; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        source += alphabet[seed % alphabet.length];
      }
      expect(() => checkScript(source)).not.toThrow();
    }
  });
});
