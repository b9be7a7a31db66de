/**
 * `max-conn N`: at most N connections open at once from one IP address (on the rule's protocols,
 * all when none are given). The (N+1)th is refused; once one closes, the next is accepted. Only
 * connections that were allowed count, so refused attempts do not keep an address locked out.
 */
import { REASONS, type RuleFactory } from '../rule.ts';

export const maxConnRule: RuleFactory = (rule) => {
  const limit = rule.limit ?? 0;
  return {
    rule,
    reason: REASONS.tooMany,
    temporary: true,
    connect: (context) => (context.connections.count(context.ip, rule.protocols) > limit ? 'deny' : null),
  };
};
