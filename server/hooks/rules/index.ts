/** The built-in rule kinds. */
import type { RuleFactories } from '../rule.ts';
import { allowRule } from './allow.ts';
import { denyRule } from './deny.ts';
import { lockoutRule } from './lockout.ts';
import { maxConnRule } from './max-conn.ts';
import { rateRule } from './rate.ts';
import { requireTlsRule } from './require-tls.ts';

export const RULE_FACTORIES: RuleFactories = {
  allow: allowRule,
  deny: denyRule,
  'max-conn': maxConnRule,
  rate: rateRule,
  lockout: lockoutRule,
  'require-tls': requireTlsRule,
};
