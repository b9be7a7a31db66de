/**
 * Puts the server's refusal of a rule on the field it is about. Store validation errors come as one
 * sentence (server/store/rules.ts), schema errors with issue paths such as `body.limit`; both are
 * mapped to the form's fields, and what fits no field stays a general error.
 */
import { ApiError } from '../../api/client.ts';

export type RuleField = 'kind' | 'cidrs' | 'limit' | 'windowSeconds' | 'protocols' | 'note';

const BY_WORDS: Array<[RegExp, RuleField]> = [
  [/window/i, 'windowSeconds'],
  [/limit/i, 'limit'],
  [/address|cidr|range|prefix/i, 'cidrs'],
  [/protocol/i, 'protocols'],
  [/note/i, 'note'],
  [/kind/i, 'kind'],
];

const FIELDS: readonly RuleField[] = ['kind', 'cidrs', 'limit', 'windowSeconds', 'protocols', 'note'];

export function ruleFieldErrors(error: unknown): Partial<Record<RuleField, string>> {
  if (!(error instanceof ApiError) || error.code !== 'validation_failed') return {};
  const result: Partial<Record<RuleField, string>> = {};
  for (const issue of error.issues) {
    const field = issue.path.split('.')[1] as RuleField | undefined;
    if (field && FIELDS.includes(field)) result[field] ??= capitalize(issue.message);
  }
  if (Object.keys(result).length > 0) return result;
  const match = BY_WORDS.find(([words]) => words.test(error.message));
  return match ? { [match[1]]: error.message } : {};
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
