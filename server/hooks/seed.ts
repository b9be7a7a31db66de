/**
 * Connection rules from the configuration file (`rules:`), written into the store once: only into a
 * store that never had a rule (its rulesVersion is 0). After that the store is the truth, edited
 * with `mallard rule` or the panel; the file's list is not merged again, so an administrator who
 * deleted a seeded rule does not see it come back at the next start.
 */
import type { Logger } from '../log.ts';
import type { ConnectionRuleKind, NewConnectionRule, RuleProtocol, Store } from '../store/types.ts';

/** A rule as written in the YAML file (snake_case keys). */
export interface ConfigRule {
  kind: string;
  cidrs?: string[];
  limit?: number;
  window_seconds?: number;
  protocols?: string[];
  enabled?: boolean;
  note?: string;
}

export function configRuleToNew(rule: ConfigRule): NewConnectionRule {
  return {
    kind: rule.kind as ConnectionRuleKind,
    cidrs: rule.cidrs,
    limit: rule.limit,
    windowSeconds: rule.window_seconds,
    protocols: rule.protocols as RuleProtocol[] | undefined,
    enabled: rule.enabled,
    note: rule.note ?? 'from the configuration file',
  };
}

/** Seeds the configured rules when the store never had any; returns whether it did. */
export async function seedConfiguredRules(
  store: Pick<Store, 'seedRules'>,
  rules: readonly ConfigRule[],
  logger: Logger,
): Promise<boolean> {
  if (rules.length === 0) return false;
  const seeded = await store.seedRules(rules.map(configRuleToNew));
  if (seeded) logger.info({ rules: rules.length }, 'connection rules seeded from the configuration');
  else
    logger.info(
      'connection rules in the configuration ignored: the store has its own (see mallard rule list)',
    );
  return seeded;
}
