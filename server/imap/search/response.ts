/**
 * The untagged answer of SEARCH: `* SEARCH 2 5 7`, or with RETURN options the ESEARCH form of
 * RFC 4731: `* ESEARCH (TAG "a1") UID MIN 2 MAX 7 COUNT 3 ALL 2,5,7`. When the criteria contain
 * MODSEQ, the highest MODSEQ of the reported messages follows (RFC 7162 3.1.5; RFC 4731 3.2: with
 * only MIN and/or MAX, of those messages), and never when nothing matched.
 */
import type { ResponseBuilder } from '../encoder/index.ts';
import { quote } from '../encoder/index.ts';
import type { PartialRange, SearchReturnOption } from '../parser/index.ts';
import { digitCount, writeDigits } from '../fetch/digits.ts';
import { formatPartialRange, partialSlice } from './partial.ts';

export interface SearchAnswer {
  /** The matching numbers (UIDs for UID SEARCH), ascending. */
  numbers: readonly number[];
  /** MODSEQ of each match, in the same order. */
  modseqs: readonly number[];
  /** Add the MODSEQ result (the criteria contain MODSEQ). */
  withModseq: boolean;
  /** RETURN (PARTIAL range): the positions to answer with (RFC 5267 4.4, RFC 9394). */
  partial?: PartialRange | null;
}

/** Options that ask for a part of the answer (CONTEXT, UPDATE and SAVE do not). */
const RESULT_OPTIONS: readonly SearchReturnOption[] = ['MIN', 'MAX', 'ALL', 'COUNT', 'PARTIAL'];

/**
 * The options that shape the ESEARCH answer. Without any (`RETURN (UPDATE)`, `RETURN (CONTEXT)`)
 * the answer is ALL, as for `RETURN ()` (RFC 4731 3.1).
 */
export function answerOptions(options: readonly SearchReturnOption[]): SearchReturnOption[] {
  const shown = options.filter((option) => RESULT_OPTIONS.includes(option));
  return shown.length > 0 ? shown : ['ALL'];
}

function highest(values: Iterable<number>): number {
  let max = 0;
  for (const value of values) if (value > max) max = value;
  return max;
}

/** Numbers written per Buffer. */
const NUMBERS_PER_CHUNK = 4096;

/** ` n n n`: digits written in place into Buffers, with no string per number. */
export function writeNumbers(builder: ResponseBuilder, numbers: readonly number[]): void {
  for (let start = 0; start < numbers.length; start += NUMBERS_PER_CHUNK) {
    const end = Math.min(numbers.length, start + NUMBERS_PER_CHUNK);
    // Sized for the chunk's longest number (SORT's are not ascending), not for 16 digits each.
    let longest = 0;
    for (let i = start; i < end; i++) if (numbers[i]! > longest) longest = numbers[i]!;
    const chunk = Buffer.allocUnsafe((end - start) * (1 + digitCount(longest)));
    let at = 0;
    for (let i = start; i < end; i++) {
      chunk[at++] = 0x20;
      at = writeDigits(chunk, at, numbers[i]!);
    }
    builder.raw(chunk.subarray(0, at));
  }
}

/** `* SEARCH n n n [(MODSEQ m)]`. */
export function writeSearch(builder: ResponseBuilder, answer: SearchAnswer): void {
  builder.untagged().text('SEARCH');
  const { numbers } = answer;
  writeNumbers(builder, numbers);
  if (answer.withModseq && numbers.length > 0) builder.text(` (MODSEQ ${highest(answer.modseqs)})`);
  builder.crlf();
}

/** `* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [PARTIAL (range set)] [MODSEQ m]`. */
export function writeEsearch(
  builder: ResponseBuilder,
  tag: string,
  byUid: boolean,
  options: readonly SearchReturnOption[],
  answer: SearchAnswer,
): void {
  const { numbers, modseqs } = answer;
  const wants = (option: SearchReturnOption) => options.includes(option);
  builder.untagged().text(`ESEARCH (TAG ${quote(tag)})`);
  if (byUid) builder.text(' UID');
  const last = numbers.length - 1;
  if (last >= 0 && wants('MIN')) builder.text(` MIN ${numbers[0]!}`);
  if (last >= 0 && wants('MAX')) builder.text(` MAX ${numbers[last]!}`);
  if (wants('COUNT')) builder.text(` COUNT ${numbers.length}`);
  if (last >= 0 && wants('ALL')) builder.text(' ALL ').sequence(numbers, false);
  const partial = wants('PARTIAL') && answer.partial ? answer.partial : null;
  if (partial) {
    const part = partialSlice(numbers, partial);
    builder.text(` PARTIAL (${formatPartialRange(partial)} `);
    if (part.length > 0) builder.sequence(part, false);
    else builder.text('NIL');
    builder.text(')');
  }
  if (answer.withModseq && last >= 0) {
    const all = wants('ALL') || wants('COUNT');
    const ends = [wants('MIN') ? modseqs[0]! : 0, wants('MAX') ? modseqs[last]! : 0];
    const reported = all ? modseqs : [...ends, ...(partial ? partialSlice(modseqs, partial) : [])];
    builder.text(` MODSEQ ${highest(reported)}`);
  }
  builder.crlf();
}
