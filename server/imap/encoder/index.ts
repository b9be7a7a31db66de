/**
 * Public API of the IMAP response encoder.
 */
export {
  DEFAULT_MAX_QUOTED_LENGTH,
  ResponseBuilder,
  encodeString,
  encodeValue,
  statusLine,
} from './builder.ts';
export type { EncoderOptions, ResponseStatus, StringEncoding } from './builder.ts';
export { ResponseCodes } from './codes.ts';
export type { ResponseCode } from './codes.ts';
export { compressSequence, formatInternalDate, isAtomText, isFlagText, quote } from './format.ts';
export { Utf7Error, decodeModifiedUtf7, encodeModifiedUtf7, isValidModifiedUtf7 } from './utf7.ts';
