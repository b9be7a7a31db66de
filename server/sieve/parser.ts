/**
 * The Sieve grammar (RFC 5228 section 8.2) over the lexer's tokens, giving the syntax tree. Nothing
 * here knows which commands exist: the validator checks names, arguments and extensions next.
 */
import type { Argument, CommandNode, TestNode } from './ast.ts';
import { SieveCompileError } from './errors.ts';
import { tokenize, type Token } from './lexer.ts';

/** Deeper nesting than this is refused, so that hostile scripts cannot exhaust the stack. */
export const MAX_NESTING = 64;

export function parseScript(source: string): CommandNode[] {
  const parser = new Parser(tokenize(source));
  const commands = parser.commands(0);
  parser.expectEnd();
  return commands;
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private take(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private isPunct(value: string): boolean {
    const token = this.peek();
    return token.kind === 'punct' && token.value === value;
  }

  private expectPunct(value: string, what: string): void {
    const token = this.take();
    if (token.kind !== 'punct' || token.value !== value) this.unexpected(token, what);
  }

  private unexpected(token: Token, expected: string): never {
    const found = token.kind === 'end' ? 'end of script' : `${token.kind} ${JSON.stringify(token.value)}`;
    throw new SieveCompileError(`expected ${expected}, found ${found}`, token.position);
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.kind !== 'end') this.unexpected(token, 'a command');
  }

  commands(depth: number): CommandNode[] {
    const commands: CommandNode[] = [];
    while (this.peek().kind === 'identifier') commands.push(this.command(depth));
    return commands;
  }

  private command(depth: number): CommandNode {
    const test = this.test(depth, 'a command');
    if (this.isPunct(';')) {
      this.take();
      return { ...test, block: null };
    }
    if (this.isPunct('{')) {
      if (depth >= MAX_NESTING) throw new SieveCompileError('blocks nested too deeply', this.peek().position);
      this.take();
      const block = this.commands(depth + 1);
      this.expectPunct('}', 'a command or "}"');
      return { ...test, block };
    }
    return this.unexpected(this.peek(), '";" or "{"');
  }

  private test(depth: number, what: string): TestNode {
    const name = this.take();
    if (name.kind !== 'identifier') this.unexpected(name, what);
    const args: Argument[] = [];
    for (;;) {
      const argument = this.argument();
      if (argument === null) break;
      args.push(argument);
    }
    let tests: TestNode[] = [];
    if (this.peek().kind === 'identifier') {
      tests = [this.nestedTest(depth)];
    } else if (this.isPunct('(')) {
      this.take();
      tests.push(this.nestedTest(depth));
      while (this.isPunct(',')) {
        this.take();
        tests.push(this.nestedTest(depth));
      }
      this.expectPunct(')', '"," or ")"');
    }
    return {
      name: name.value,
      arguments: args,
      tests,
      position: name.position,
      tags: new Map(),
      positional: [],
    };
  }

  private nestedTest(depth: number): TestNode {
    if (depth >= MAX_NESTING) throw new SieveCompileError('tests nested too deeply', this.peek().position);
    return this.test(depth + 1, 'a test');
  }

  private argument(): Argument | null {
    const token = this.peek();
    if (token.kind === 'tag') {
      this.take();
      return { kind: 'tag', name: token.value, position: token.position };
    }
    if (token.kind === 'number') {
      this.take();
      return { kind: 'number', value: token.value, position: token.position };
    }
    if (token.kind === 'string') {
      this.take();
      return { kind: 'string', value: token.value, position: token.position };
    }
    if (this.isPunct('[')) {
      this.take();
      const values: string[] = [];
      for (;;) {
        const item = this.take();
        if (item.kind !== 'string') this.unexpected(item, 'a string');
        values.push(item.value);
        if (!this.isPunct(',')) break;
        this.take();
      }
      this.expectPunct(']', '"," or "]"');
      return { kind: 'string-list', values, position: token.position };
    }
    return null;
  }
}
