/**
 * `mallard domain add|list|show|set|remove|check`: the mail domains, their catch-all and DKIM
 * switch, the DNS records they publish and a check of what DNS answers for them.
 */
import type { DnsRecord } from '../../dns/records.ts';
import { parseCommandArgs, requirePositionals } from '../args.ts';
import type { DomainRecord } from '../backends/types.ts';
import { EXIT, usageError } from '../cli-error.ts';
import { printList, printObject, withBackend } from '../context.ts';

const USAGE = `mallard domain add NAME
       mallard domain list [--json]
       mallard domain show NAME [--json]       the domain and the DNS records to publish
       mallard domain set NAME [--catch-all ADDRESS|none] [--dkim on|off]
       mallard domain remove NAME              (refused while users or aliases are in it)
       mallard domain check NAME [--json]      what DNS answers for each record (exit 1: problems)`;

/** A record in zone-file syntax; TXT strings of at most 255 characters (RFC 1035). */
export function zoneLine(record: DnsRecord): string {
  if (record.type !== 'TXT') return `${record.name}. IN ${record.type} ${record.value}`;
  const strings = record.value.match(/.{1,250}/g)!.map((part) => `"${part}"`);
  return `${record.name}. IN TXT ${strings.length > 1 ? `( ${strings.join(' ')} )` : strings[0]}`;
}

function onOff(text: string | undefined, what: string): boolean | undefined {
  if (text === undefined) return undefined;
  if (text === 'on' || text === 'off') return text === 'on';
  throw usageError(`${what} is on or off, not ${text}`, USAGE);
}

const domainLine = (domain: DomainRecord) => [
  domain.name,
  domain.catchAll ?? '-',
  domain.dkim ? 'dkim' : 'no-dkim',
];

export async function domainCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  if (!['add', 'list', 'show', 'set', 'remove', 'check'].includes(action))
    throw usageError(action ? `unknown action: domain ${action}` : 'missing action', USAGE);
  const { values, positionals } = parseCommandArgs(
    rest,
    { 'catch-all': { type: 'string' }, dkim: { type: 'string' } },
    USAGE,
  );
  const name = action === 'list' ? '' : requirePositionals(positionals, ['NAME'], USAGE)[0]!;
  const dkim = onOff(values.dkim, '--dkim');
  const catchAll = values['catch-all'] === 'none' ? null : values['catch-all'];
  if (action === 'set' && dkim === undefined && catchAll === undefined)
    throw usageError('nothing to set: give --catch-all or --dkim', USAGE);
  return withBackend(values.config, async ({ backend }) => {
    switch (action) {
      case 'add': {
        const domain = await backend.createDomain(name);
        process.stdout.write(`${domain.name}\tadded\n`);
        return EXIT.ok;
      }
      case 'list':
        printList(await backend.listDomains(), values.json, domainLine);
        return EXIT.ok;
      case 'show': {
        const domain = await backend.getDomain(name);
        const records = await backend.domainDns(domain.name);
        printObject({ ...domain, records }, values.json, [
          ['domain', domain.name],
          ['catch-all', domain.catchAll ?? 'none'],
          ['dkim', domain.dkim ? 'on' : 'off'],
          ['created', domain.createdAt],
        ]);
        if (!values.json) {
          process.stdout.write('\n; DNS records to publish\n');
          for (const record of records) process.stdout.write(`${zoneLine(record)}\n`);
        }
        return EXIT.ok;
      }
      case 'set': {
        const domain = await backend.updateDomain(name, { catchAll, dkim });
        process.stdout.write(`${domainLine(domain).join('\t')}\n`);
        return EXIT.ok;
      }
      case 'remove':
        await backend.deleteDomain(name);
        process.stdout.write(`${name.toLowerCase()}\tremoved\n`);
        return EXIT.ok;
      default: {
        const checks = await backend.checkDomainDns(name);
        printList(checks, values.json, (check) => [
          check.status,
          check.type,
          check.name,
          check.found.join(' | ') || '-',
        ]);
        if (!values.json) {
          for (const check of checks.filter((entry) => entry.status !== 'ok')) {
            process.stdout.write(
              `\n${check.status}: ${check.type} ${check.name}\n  expected: ${check.expected}\n  ${check.hint}\n`,
            );
          }
        }
        if (checks.every((check) => check.status === 'ok')) return EXIT.ok;
        if (!values.json) process.stderr.write(`mallard: DNS of ${name} needs attention (see above)\n`);
        return EXIT.failure;
      }
    }
  });
}
