/**
 * Public API of the IMAP parser: the framer (bytes → commands), the typed command parser, the
 * generic tokenizer and sequence-set helpers.
 */
export {
  DEFAULT_FRAMER_LIMITS,
  ImapFramer,
  LITERAL_MINUS_MAX,
  findLiteralMarker,
  frameAll,
  isFramerError,
  peekTagAndCommand,
} from './framer.ts';
export type {
  FramedCommand,
  FramedLiteral,
  FramerError,
  FramerErrorKind,
  FramerItem,
  FramerLimits,
  LiteralMarker,
} from './framer.ts';
export { KNOWN_COMMANDS, isAtom, parseCommand, parseSequenceSet } from './commands.ts';
export { ParseError, isParseError } from './errors.ts';
export type { ParseErrorKind } from './errors.ts';
export { FETCH_MACROS, formatSection } from './fetch.ts';
export { DEFAULT_MAX_SEARCH_DEPTH, SEARCH_CHARSETS } from './search.ts';
export { MONTHS, parseDateTime, parseSearchDate } from './dates.ts';
export { DEFAULT_MAX_TOKEN_DEPTH, tokenize } from './tokenizer.ts';
export type { ImapToken } from './tokenizer.ts';
export {
  MAX_SEQ_NUMBER,
  formatSequenceSet,
  resolveRanges,
  resolveSequenceSet,
  sequenceSetContains,
  sequenceSetExceeds,
} from './sequence.ts';
export type { SeqNumber, SeqRange, SequenceSet } from './sequence.ts';
export { normalizeFlag } from './reader.ts';
export type * from './types.ts';
