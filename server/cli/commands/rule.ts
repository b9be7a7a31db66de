/**
 * `mallard rule list|add|del|move|enable|disable|test`: the connection rules, through the running
 * server's admin API (which applies a change at once and answers `test` with the rules in force),
 * else in the store directly (running servers pick a change up within a few seconds).
 */
import { parseIp } from '../../hooks/cidr.ts';
import { describeRule } from '../../hooks/rule.ts';
import type { RuleDecision } from '../../hooks/runner.ts';
import {
  CONNECTION_RULE_KINDS,
  RULE_PROTOCOLS,
  type ConnectionRule,
  type ConnectionRuleKind,
  type NewConnectionRule,
  type RuleProtocol,
} from '../../store/types.ts';
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { printList, printObject, withBackend } from '../context.ts';

const USAGE = `mallard rule list [--json]
       mallard rule add deny|allow CIDR... [OPTIONS]
       mallard rule add max-conn N | rate N | lockout N --window SECONDS | require-tls [OPTIONS]
       mallard rule del ID
       mallard rule move ID POSITION
       mallard rule enable ID | disable ID
       mallard rule test ADDRESS [--protocol P] [--tls] [--user NAME] [--json]
options: --protocol imap|pop3|lmtp|smtp (repeat or comma list; default all), --note TEXT,
         --position N (default last), --disabled`;

/** What the rule holds, for the list: ranges, or the limit with its unit. */
function valueText(rule: ConnectionRule): string {
  switch (rule.kind) {
    case 'allow':
    case 'deny':
      return rule.cidrs.join(',');
    case 'max-conn':
      return `${rule.limit}`;
    case 'rate':
      return `${rule.limit}/min`;
    case 'lockout':
      return `${rule.limit} in ${rule.windowSeconds}s`;
    case 'require-tls':
      return '-';
    default:
      return '?';
  }
}

function protocolsText(protocols: readonly string[]): string {
  return protocols.length === 0 ? 'all' : protocols.join(',');
}

function parseProtocols(values: string[] | undefined): RuleProtocol[] {
  const list = (values ?? []).flatMap((value) => value.split(',')).map((value) => value.trim().toLowerCase());
  for (const protocol of list) {
    if (!RULE_PROTOCOLS.includes(protocol as RuleProtocol)) {
      throw new CliError(`unknown protocol: ${protocol} (use ${RULE_PROTOCOLS.join(', ')})`, EXIT.dataError);
    }
  }
  return [...new Set(list)] as RuleProtocol[];
}

function parseCount(text: string | undefined, what: string): number {
  if (text === undefined) throw usageError(`missing ${what}`, USAGE);
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new CliError(`not a whole number from 1: ${text} (${what})`, EXIT.dataError);
  }
  return Number(text);
}

/** The rule `rule add KIND ARGS...` describes. */
function newRule(
  kind: string,
  args: string[],
  values: { window?: string; note?: string; position?: string; protocol?: string[]; disabled?: boolean },
): NewConnectionRule {
  if (!CONNECTION_RULE_KINDS.includes(kind as ConnectionRuleKind)) {
    throw usageError(kind ? `unknown rule kind: ${kind}` : 'missing rule kind', USAGE);
  }
  const common = {
    protocols: parseProtocols(values.protocol),
    note: values.note ?? '',
    enabled: !values.disabled,
    position: values.position === undefined ? undefined : parseCount(values.position, '--position'),
  };
  if (values.window !== undefined && kind !== 'lockout')
    throw usageError('--window is for lockout rules', USAGE);
  switch (kind as ConnectionRuleKind) {
    case 'allow':
    case 'deny': {
      const cidrs = args.flatMap((arg) => arg.split(',')).filter((cidr) => cidr.trim() !== '');
      if (cidrs.length === 0) throw usageError('missing CIDR', USAGE);
      return { kind: kind as ConnectionRuleKind, cidrs, ...common };
    }
    case 'max-conn':
    case 'rate':
      if (args.length > 1) throw usageError(`unexpected argument: ${args[1]}`, USAGE);
      return { kind: kind as ConnectionRuleKind, limit: parseCount(args[0], 'N'), ...common };
    case 'lockout':
      if (args.length > 1) throw usageError(`unexpected argument: ${args[1]}`, USAGE);
      if (values.window === undefined) throw usageError('missing --window SECONDS', USAGE);
      return {
        kind: 'lockout',
        limit: parseCount(args[0], 'N'),
        windowSeconds: parseCount(values.window, '--window'),
        ...common,
      };
    case 'require-tls':
      if (args.length > 0) throw usageError(`unexpected argument: ${args[0]}`, USAGE);
      return { kind: 'require-tls', ...common };
  }
}

function decisionText(decision: RuleDecision): string {
  const verdict = decision.allow ? 'allowed' : 'refused';
  if (!decision.rule) return `${verdict} (no rule decides)`;
  const by = `${verdict} by rule ${decision.rule.id} (#${decision.rule.position} ${describeRule(decision.rule)})`;
  if (decision.error) return `${by}: the rule failed: ${decision.error}`;
  return decision.allow ? by : `${by}: "${decision.reason}"`;
}

export async function ruleCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  const { values, positionals } = parseCommandArgs(
    rest,
    {
      protocol: { type: 'string', multiple: true, short: 'p' },
      window: { type: 'string' },
      note: { type: 'string' },
      position: { type: 'string' },
      disabled: { type: 'boolean' },
      tls: { type: 'boolean' },
      user: { type: 'string' },
    },
    USAGE,
  );
  return withBackend(values.config, async ({ backend }) => {
    switch (action) {
      case 'list': {
        const rules = await backend.listRules();
        printList(rules, values.json, (rule) => [
          rule.id,
          rule.position,
          rule.kind,
          valueText(rule),
          protocolsText(rule.protocols),
          rule.enabled ? 'enabled' : 'disabled',
          rule.note,
        ]);
        return EXIT.ok;
      }
      case 'add': {
        const [kind = '', ...args] = positionals;
        const rule = await backend.createRule(newRule(kind, args, values));
        process.stdout.write(`${rule.id}\tadded at position ${rule.position}: ${describeRule(rule)}\n`);
        return EXIT.ok;
      }
      case 'del': {
        const [id] = requirePositionals(positionals, ['ID'], USAGE);
        await backend.deleteRule(id!);
        process.stdout.write(`${id}\tdeleted\n`);
        return EXIT.ok;
      }
      case 'move': {
        const [id, position] = requirePositionals(positionals, ['ID', 'POSITION'], USAGE);
        const rule = await backend.moveRule(id!, parseCount(position, 'POSITION'));
        process.stdout.write(`${rule.id}\tnow at position ${rule.position}\n`);
        return EXIT.ok;
      }
      case 'enable':
      case 'disable': {
        const [id] = requirePositionals(positionals, ['ID'], USAGE);
        const rule = await backend.setRuleEnabled(id!, action === 'enable');
        process.stdout.write(`${rule.id}\t${rule.enabled ? 'enabled' : 'disabled'}\n`);
        return EXIT.ok;
      }
      case 'test': {
        const [address] = requirePositionals(positionals, ['ADDRESS'], USAGE);
        const protocols = parseProtocols(values.protocol);
        if (protocols.length > 1) throw usageError('rule test takes one --protocol', USAGE);
        if (!parseIp(address!)) throw new CliError(`not an IP address: ${address}`, EXIT.dataError);
        const result = await backend.testRules(address!, protocols[0] ?? 'imap', {
          secure: values.tls ?? false,
          username: values.user ?? '',
        });
        printObject(result, values.json, [
          ['connect', decisionText(result.connect)],
          [values.tls ? 'login (tls)' : 'login (no tls)', decisionText(result.auth)],
        ]);
        return EXIT.ok;
      }
      default:
        throw usageError(action ? `unknown action: rule ${action}` : 'missing action', USAGE);
    }
  });
}
