/**
 * `allow CIDR...`: a connection or login from one of the ranges is allowed at once; the rules after
 * this one are not asked. Put it first to exempt a LAN or a monitoring host from the limits below.
 */
import { CidrSet } from '../cidr.ts';
import { REASONS, type RuleContext, type RuleFactory } from '../rule.ts';

export const allowRule: RuleFactory = (rule) => {
  const ranges = new CidrSet(rule.cidrs);
  const decide = (context: RuleContext) => (ranges.has(context.address) ? 'allow' : null);
  return {
    rule,
    reason: REASONS.denied,
    temporary: false,
    connect: decide,
    auth: decide,
    // An admitted address never reaches a require-tls rule after this one.
    tlsRequired: (context) => (ranges.has(context.address) ? false : null),
  };
};
