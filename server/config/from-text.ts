/**
 * Environment values are text. The keys whose values are lists read them from text here, for both
 * the schema (schema.ts) and the hand-written check (quick-check.ts), so the two see the same list.
 */

/** A list of rules in the environment is JSON. */
export function rulesFromText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value.trim() === '') return [];
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** Any other list in the environment is comma-separated. */
export function listFromText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
