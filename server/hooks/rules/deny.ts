/**
 * `deny CIDR...`: a connection from one of the ranges is refused before the greeting ("Connection
 * refused": the client learns neither the range nor the rule). Logins are refused too, for
 * connections opened before the rule was added.
 */
import { CidrSet } from '../cidr.ts';
import { REASONS, type RuleContext, type RuleFactory } from '../rule.ts';

export const denyRule: RuleFactory = (rule) => {
  const ranges = new CidrSet(rule.cidrs);
  const decide = (context: RuleContext) => (ranges.has(context.address) ? 'deny' : null);
  return { rule, reason: REASONS.denied, temporary: false, connect: decide, auth: decide };
};
