/**
 * FETCH data items (RFC 3501 6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ) and modifiers.
 */
import { fail } from './errors.ts';
import { DOT, GT, LBRACKET, LPAREN, LT, RBRACKET, isAtomChar, isDigit, type Reader } from './reader.ts';
import { parsePartialRange } from './search.ts';
import type { BodySection, FetchAttributeName, FetchItem, FetchModifiers, FetchPartial } from './types.ts';

const SIMPLE: ReadonlySet<string> = new Set<FetchAttributeName>([
  'FLAGS',
  'UID',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODY',
  'BODYSTRUCTURE',
  'MODSEQ',
  'SAVEDATE',
  'EMAILID',
  'THREADID',
]);

const attr = (name: FetchAttributeName): FetchItem => ({ kind: 'attribute', name });

export const FETCH_MACROS: Readonly<Record<'ALL' | 'FAST' | 'FULL', readonly FetchAttributeName[]>> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const isNameChar = (b: number): boolean =>
  (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || isDigit(b) || b === DOT || b === 0x2d;

const isSectionWordChar = (b: number): boolean =>
  (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === DOT;

/** A header field name: printable US-ASCII except colon (RFC 5322 ftext). */
const FIELD_NAME_RE = /^[\x21-\x39\x3b-\x7e]+$/;

/** A field name for the response: an atom when possible, else a quoted string. */
function echoFieldName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    if (!isAtomChar(name.charCodeAt(i))) return `"${name.replace(/[\\"]/g, '\\$&')}"`;
  }
  return name;
}

/** The section spec inside the brackets, normalised: `1.2.HEADER.FIELDS (FROM TO)`. */
export function formatSection(section: BodySection): string {
  let s = section.part.join('.');
  if (section.text) s += (s ? '.' : '') + section.text;
  if (section.fields) s += ` (${section.fields.map(echoFieldName).join(' ')})`;
  return s;
}

function readPartNumbers(r: Reader): number[] {
  const part: number[] = [];
  while (isDigit(r.peek())) {
    part.push(r.readNzNumber('part number'));
    if (r.peek() === DOT && isDigit(r.peekAt(1))) r.pos++;
    else break;
  }
  return part;
}

function readSection(r: Reader): BodySection {
  r.expect(LBRACKET, '"["');
  const part = readPartNumbers(r);
  let text: BodySection['text'] = null;
  let fields: string[] | undefined;
  if (part.length === 0 || r.tryByte(DOT)) {
    const word = r.readWhile(isSectionWordChar).toUpperCase();
    if (word === '' && part.length === 0) {
      // BODY[]
    } else if (word === 'HEADER' || word === 'TEXT' || (word === 'MIME' && part.length > 0)) {
      text = word;
    } else if (word === 'HEADER.FIELDS' || word === 'HEADER.FIELDS.NOT') {
      text = word;
      r.sp('header field list');
      fields = r.readList('header field list', () => {
        const name = r.readAstring('header field name');
        if (!FIELD_NAME_RE.test(name))
          fail(`Invalid header field name "${name.replace(/[^\x20-\x7e]/g, '?')}"`);
        return name.toUpperCase();
      });
    } else if (word === 'MIME') {
      fail('MIME needs a part number (e.g. 1.MIME)');
    } else {
      fail(`Invalid section "${word || String.fromCharCode(Math.max(r.peek(), 0x20))}"`);
    }
  }
  if (r.peek() !== RBRACKET) r.unexpected('"]" ending the section');
  r.pos++;
  return fields ? { part, text, fields } : { part, text };
}

function readBinarySection(r: Reader): number[] {
  r.expect(LBRACKET, '"["');
  const part = readPartNumbers(r);
  if (r.peek() !== RBRACKET) r.unexpected('part number or "]"');
  r.pos++;
  return part;
}

function readPartial(r: Reader): FetchPartial | undefined {
  if (!r.tryByte(LT)) return undefined;
  const offset = r.readNumber('partial offset');
  r.expect(DOT, '"." in partial');
  const length = r.readNzNumber('partial length');
  r.expect(GT, '">" ending the partial');
  return { offset, length };
}

function readItem(r: Reader): FetchItem {
  const start = r.pos;
  const name = r.readWhile(isNameChar).toUpperCase();
  if (name === '') r.unexpected('fetch attribute');
  switch (name) {
    case 'BODY':
    case 'BODY.PEEK': {
      if (r.peek() !== LBRACKET) {
        if (name === 'BODY.PEEK') fail('BODY.PEEK needs a section, e.g. BODY.PEEK[]');
        return attr('BODY');
      }
      const section = readSection(r);
      const partial = readPartial(r);
      const responseName = `BODY[${formatSection(section)}]${partial ? `<${String(partial.offset)}>` : ''}`;
      const item: FetchItem = {
        kind: 'body',
        name: 'BODY',
        peek: name === 'BODY.PEEK',
        section,
        responseName,
      };
      if (partial) item.partial = partial;
      return item;
    }
    case 'PREVIEW': {
      // RFC 8970 `PREVIEW (LAZY)`: LAZY lets a server answer NIL; ours always has the preview.
      const before = r.pos;
      if (r.trySp() && r.peek() === LPAREN) {
        r.readList('preview modifier list', () => {
          const modifier = r.readAtom('preview modifier').toUpperCase();
          if (modifier !== 'LAZY') fail(`Unknown preview modifier ${modifier}`);
        });
      } else r.pos = before;
      return attr('PREVIEW');
    }
    case 'BINARY':
    case 'BINARY.PEEK':
    case 'BINARY.SIZE': {
      if (r.peek() !== LBRACKET) fail(`${name} needs a section, e.g. ${name}[1]`);
      const part = readBinarySection(r);
      if (name === 'BINARY.SIZE') {
        return { kind: 'binary-size', part, responseName: `BINARY.SIZE[${part.join('.')}]` };
      }
      const partial = readPartial(r);
      const responseName = `BINARY[${part.join('.')}]${partial ? `<${String(partial.offset)}>` : ''}`;
      const item: FetchItem = { kind: 'binary', peek: name === 'BINARY.PEEK', part, responseName };
      if (partial) item.partial = partial;
      return item;
    }
    case 'RFC822':
      return {
        kind: 'body',
        name: 'RFC822',
        peek: false,
        section: { part: [], text: null },
        responseName: name,
      };
    case 'RFC822.HEADER':
      return {
        kind: 'body',
        name: 'RFC822.HEADER',
        peek: true,
        section: { part: [], text: 'HEADER' },
        responseName: name,
      };
    case 'RFC822.TEXT':
      return {
        kind: 'body',
        name: 'RFC822.TEXT',
        peek: false,
        section: { part: [], text: 'TEXT' },
        responseName: name,
      };
    default:
      if (SIMPLE.has(name)) return attr(name as FetchAttributeName);
      r.pos = start;
      return fail(`Unknown fetch attribute ${name}`);
  }
}

/** The items argument: a macro, one item, or a parenthesised list. */
export function readFetchItems(r: Reader): { items: FetchItem[]; macro: 'ALL' | 'FAST' | 'FULL' | null } {
  if (r.peek() === LPAREN) {
    return { items: r.readList('fetch attribute list', () => readItem(r)), macro: null };
  }
  for (const macro of ['ALL', 'FAST', 'FULL'] as const) {
    if (r.tryWord(macro)) return { items: FETCH_MACROS[macro].map(attr), macro };
  }
  return { items: [readItem(r)], macro: null };
}

/** `(CHANGEDSINCE n VANISHED PARTIAL -1:-50)` (RFC 7162, RFC 9394 / RFC 4466 fetch-modifiers). */
export function readFetchModifiers(r: Reader, uid: boolean): FetchModifiers {
  const modifiers: FetchModifiers = {};
  r.readList('fetch modifier list', () => {
    const word = r.readAtom('fetch modifier').toUpperCase();
    if (word === 'CHANGEDSINCE') {
      if (modifiers.changedSince !== undefined) fail('CHANGEDSINCE given twice');
      r.sp('CHANGEDSINCE value');
      modifiers.changedSince = r.readModSeq('CHANGEDSINCE value');
    } else if (word === 'VANISHED') {
      if (modifiers.vanished) fail('VANISHED given twice');
      modifiers.vanished = true;
    } else if (word === 'PARTIAL') {
      if (modifiers.partial !== undefined) fail('PARTIAL given twice');
      r.sp('PARTIAL range');
      modifiers.partial = parsePartialRange(r.readAtom('PARTIAL range'));
    } else {
      fail(`Unknown fetch modifier ${word}`);
    }
  });
  if (modifiers.vanished) {
    if (!uid) fail('VANISHED is only allowed with UID FETCH');
    if (modifiers.changedSince === undefined) fail('VANISHED needs CHANGEDSINCE');
  }
  return modifiers;
}
