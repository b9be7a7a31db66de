/**
 * Property tests: random bytes and mutated valid commands through framer and parser. The parser
 * must return a command or a ParseError (never throw), the framer must respect its limits and give
 * the same result however the input is chunked, and nothing may take long.
 */
import { describe, expect, it } from 'vitest';
import { parseCommand } from './commands.ts';
import { ParseError } from './errors.ts';
import { ImapFramer, type FramerLimits } from './framer.ts';
import { tokenize } from './tokenizer.ts';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LIMITS: FramerLimits = {
  maxLineLength: 200,
  maxLiteralSize: 100,
  maxCommandSize: 400,
  maxDiscardSize: 1000,
  literalMinus: false,
};

interface Outcome {
  log: string[];
  items: number;
}

/**
 * Runs input through a framer in the given chunks; literal requests are accepted or refused
 * by `decide` (deterministic per request index); every command is parsed.
 */
function frameAndParse(chunks: Buffer[], decide: (index: number) => boolean, limits = LIMITS): Outcome {
  const framer = new ImapFramer(limits);
  const log: string[] = [];
  let requests = 0;
  let items = 0;
  for (const chunk of chunks) {
    framer.push(chunk);
    for (;;) {
      const item = framer.next();
      if (!item) break;
      items++;
      if (items > 100_000) throw new Error('framer does not make progress');
      switch (item.type) {
        case 'literal-request':
          expect(item.size).toBeLessThanOrEqual(limits.maxLiteralSize);
          if (decide(requests++)) {
            framer.acceptLiteral();
            log.push(`+${String(item.size)}`);
          } else {
            framer.rejectLiteral();
            log.push(`-${String(item.size)}`);
          }
          break;
        case 'command': {
          const { command } = item;
          expect(command.segments.length).toBe(command.literals.length + 1);
          expect(command.size).toBeLessThanOrEqual(limits.maxCommandSize);
          for (const segment of command.segments)
            expect(segment.length).toBeLessThanOrEqual(limits.maxLineLength);
          for (const literal of command.literals)
            expect(literal.data.length).toBeLessThanOrEqual(limits.maxLiteralSize);
          const result = parseCommand(command);
          if (result instanceof ParseError) {
            expect(result.message).toMatch(/^[\x20-\x7e]{1,200}$/);
            log.push(`E:${result.kind}:${String(result.tag)}:${result.message}`);
          } else {
            expect(typeof result.tag).toBe('string');
            expect(result.tag.length).toBeGreaterThan(0);
            log.push(`C:${result.tag}:${result.name}:${JSON.stringify(result).length}`);
          }
          break;
        }
        case 'error':
          log.push(`F:${item.error.kind}:${String(item.error.tag)}${item.error.fatal ? ':fatal' : ''}`);
          break;
        case 'line':
          throw new Error('unexpected line item');
      }
    }
  }
  return { log, items };
}

function randomChunks(input: Buffer, random: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  let i = 0;
  while (i < input.length) {
    const size = 1 + Math.floor(random() * Math.min(64, input.length - i));
    chunks.push(input.subarray(i, i + size));
    i += size;
  }
  return chunks;
}

const ALPHABET = Buffer.from(' ()[]{}<>"\\*%$:,.+-~0123456789\r\n\0abcABCNILFLAGSUID\xff\x80', 'latin1');

function randomBytes(random: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    out[i] = random() < 0.6 ? ALPHABET[Math.floor(random() * ALPHABET.length)]! : Math.floor(random() * 256);
  }
  return out;
}

const PIECES = [
  'a1 ',
  'b ',
  'FETCH ',
  'UID ',
  'SEARCH ',
  'APPEND ',
  'LOGIN ',
  'LIST ',
  'STORE ',
  'SELECT ',
  'IDLE',
  'DONE',
  '{3}\r\n',
  '{2+}\r\n',
  '~{1}\r\n',
  '{0}\r\n',
  '{150}\r\n',
  '{150+}\r\n',
  '{5000+}\r\n',
  '{99999999999}\r\n',
  '\r\n',
  '\n',
  '\r',
  ' ',
  '(',
  ')',
  '[',
  ']',
  '"x y"',
  '"\\""',
  'BODY[',
  'HEADER.FIELDS (A B)',
  '<0.5>',
  '*',
  '1:*',
  '$',
  'NIL',
  'INBOX',
  '\\Seen',
  'OR ',
  'NOT ',
  'abc',
  'x'.repeat(120),
  '\0',
  '\xff',
];

/** Random sequences of protocol-ish pieces: reaches literal and limit paths far more often. */
function randomPieces(random: () => number, count: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(PIECES[Math.floor(random() * PIECES.length)]!);
  return Buffer.from(parts.join(''), 'latin1');
}

const CORPUS = [
  'a1 LOGIN {5}\r\nalice "se\\"cret"',
  'a2 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:20 500:509)))',
  'a3 UID FETCH 1:* (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100> BINARY[1] MODSEQ) (CHANGEDSINCE 5 VANISHED)',
  'a4 SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR (FROM "x" NOT SEEN) 1:5,* SUBJECT {3+}\r\nabc SINCE 1-Feb-1994',
  'a5 APPEND Drafts (\\Draft) "17-Jul-1996 02:44:25 -0700" {12}\r\nHi\r\n\r\nbody!\r\n (\\Seen) ~{3+}\r\na\0b',
  'a6 STORE 1:3 (UNCHANGEDSINCE 9) +FLAGS.SILENT (\\Deleted $Junk)',
  'a7 LIST (SUBSCRIBED RECURSIVEMATCH) "" (% "Other/*") RETURN (CHILDREN STATUS (MESSAGES UNSEEN))',
  'a8 ID ("name" "x" "version" NIL)',
  'a9 STATUS "Sent Items" (MESSAGES UIDNEXT HIGHESTMODSEQ)',
  'b1 UID MOVE 4,6:8 {5}\r\nTrash',
  'b2 SEARCH MODSEQ "/flags/\\\\draft" all 620162338 YOUNGER 60 HEADER X-Foo "" UID $',
  'b3 SETQUOTA "" (STORAGE 512 MESSAGE 10)',
  'b4 AUTHENTICATE PLAIN AHVzZXIAcGFzcw==',
  'b5 ENABLE QRESYNC UTF8=ACCEPT',
];

function mutate(input: Buffer, random: () => number): Buffer {
  let out = Buffer.from(input);
  const rounds = 1 + Math.floor(random() * 4);
  for (let r = 0; r < rounds; r++) {
    const pos = Math.floor(random() * (out.length + 1));
    const op = Math.floor(random() * 6);
    if (op === 0 && out.length > 0) {
      out[Math.min(pos, out.length - 1)] = ALPHABET[Math.floor(random() * ALPHABET.length)]!;
    } else if (op === 1) {
      out = Buffer.concat([
        out.subarray(0, pos),
        randomBytes(random, 1 + Math.floor(random() * 3)),
        out.subarray(pos),
      ]);
    } else if (op === 2) {
      out = Buffer.concat([out.subarray(0, pos), out.subarray(pos + 1 + Math.floor(random() * 5))]);
    } else if (op === 3) {
      const end = Math.min(out.length, pos + Math.floor(random() * 20));
      out = Buffer.concat([out.subarray(0, end), out.subarray(pos, end), out.subarray(end)]);
    } else if (op === 4) {
      out = out.subarray(0, pos);
    } else {
      const digits = Buffer.from(String(Math.floor(random() * 1e6) * 10 ** Math.floor(random() * 20)));
      out = Buffer.concat([out.subarray(0, pos), digits, out.subarray(pos)]);
    }
  }
  return out;
}

describe('fuzz: framer + parser', () => {
  it('random bytes: no throw, limits respected, chunking-independent', () => {
    const started = Date.now();
    for (let seed = 1; seed <= 400; seed++) {
      const random = rng(seed);
      const input =
        seed % 2 === 0
          ? randomBytes(random, 1 + Math.floor(random() * 600))
          : randomPieces(random, 1 + Math.floor(random() * 80));
      const decide = (i: number): boolean => (seed + i) % 3 !== 0;
      const whole = frameAndParse([input], decide);
      const chunked = frameAndParse(randomChunks(input, random), decide);
      expect(chunked.log, `seed ${String(seed)}`).toEqual(whole.log);
      expect(whole.items).toBeLessThanOrEqual(input.length + 1);
    }
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('mutated valid commands: no throw, chunking-independent', () => {
    for (const text of CORPUS) {
      const valid = Buffer.from(`${text}\r\n`, 'latin1');
      const reference = frameAndParse([valid], () => true);
      expect(
        reference.log.filter((l) => l.startsWith('C:')),
        text,
      ).toHaveLength(1);
    }
    for (let seed = 1; seed <= 3000; seed++) {
      const random = rng(seed * 7919);
      const base = CORPUS[seed % CORPUS.length]!;
      const input = Buffer.concat([
        mutate(Buffer.from(`${base}\r\n`, 'latin1'), random),
        Buffer.from('\r\nz NOOP\r\n'),
      ]);
      const whole = frameAndParse([input], () => true);
      const chunked = frameAndParse(randomChunks(input, random), () => true);
      expect(chunked.log, `seed ${String(seed)}`).toEqual(whole.log);
    }
  });

  it('mutated valid single lines parse without throwing (parser alone)', () => {
    for (let seed = 1; seed <= 5000; seed++) {
      const random = rng(seed * 104729);
      const base = CORPUS[seed % CORPUS.length]!.split('\r\n')[0]!;
      const input = mutate(Buffer.from(base, 'latin1'), random);
      const result = parseCommand(input);
      expect(result).toBeDefined();
      const tokens = tokenize(input);
      expect(tokens).toBeDefined();
    }
  });

  it('pipelined junk never hangs and a fatal error stops everything', () => {
    const framer = new ImapFramer(LIMITS);
    framer.push(Buffer.from('a APPEND x {5000+}\r\n'));
    expect(framer.next()).toMatchObject({ type: 'error', error: { fatal: true } });
    for (let i = 0; i < 100; i++) framer.push(randomBytes(rng(i), 100));
    expect(framer.next()).toBeNull();
    expect(framer.bufferedBytes).toBe(0);
  });

  it('large inputs are framed and parsed in linear time', () => {
    const limits = { ...LIMITS, maxLineLength: 1 << 20, maxLiteralSize: 1 << 22, maxCommandSize: 1 << 23 };
    const search = `a SEARCH ${Array.from({ length: 50_000 }, (_, i) => `OR ${String(i + 1)} SEEN`)
      .join(' ')
      .slice(0, 900_000)}`;
    const literal = Buffer.alloc(4 << 20, 0x61);
    const input = Buffer.concat([
      Buffer.from(`${search}\r\nb APPEND x {${String(literal.length)}+}\r\n`),
      literal,
      Buffer.from('\r\n'),
    ]);
    const started = Date.now();
    const outcome = frameAndParse([input], () => true, limits);
    expect(outcome.log).toHaveLength(2);
    expect(outcome.log[1]).toMatch(/^C:b:APPEND/);
    const oneByOne = new ImapFramer(limits);
    for (let i = 0; i < 200_000; i++) {
      oneByOne.push(Buffer.from(search[i]!));
      if (i % 1000 === 0) expect(oneByOne.next()).toBeNull();
    }
    oneByOne.push(Buffer.from('\n'));
    expect(oneByOne.next()).toMatchObject({ type: 'command' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
