/**
 * Orders messages by a SORT program (RFC 5256 3): each criterion in turn, REVERSE flipping only
 * the criterion it precedes, and messages equal on every criterion in sequence number order
 * (ascending, REVERSE or not, as RFC 5256 and Dovecot do). Key values are computed once per message
 * and criterion, not once per comparison.
 */
import { compareKeys } from './collate.ts';
import { keyValue, type SortCriterion, type SortMessage } from './keys.ts';

function compareValues(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareKeys(String(a), String(b));
}

export function sortMessages(
  messages: readonly SortMessage[],
  criteria: readonly SortCriterion[],
): SortMessage[] {
  const values = criteria.map((criterion) => messages.map((message) => keyValue(message, criterion.key)));
  const order = messages.map((_, i) => i);
  order.sort((x, y) => {
    for (let c = 0; c < criteria.length; c++) {
      const column = values[c]!;
      const result = compareValues(column[x]!, column[y]!);
      if (result !== 0) return criteria[c]!.reverse ? -result : result;
    }
    return messages[x]!.seq - messages[y]!.seq;
  });
  return order.map((i) => messages[i]!);
}
