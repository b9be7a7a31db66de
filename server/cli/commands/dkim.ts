/**
 * `mallard dkim show DOMAIN`: the DNS TXT record that publishes the domain's DKIM key (made now
 * if the domain has none yet, as the first signed message would), ready to paste into a zone.
 */
import { loadConfigLazily } from '../../config/quick-check.ts';
import { ensureDataDir } from '../../main.ts';
import { DkimKeys } from '../../outbound/dkim.ts';
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { EXIT, usageError } from '../cli-error.ts';

const USAGE = 'mallard dkim show DOMAIN [--json]';

export async function dkimCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  if (action !== 'show')
    throw usageError(action ? `unknown action: dkim ${action}` : 'missing action', USAGE);
  const { values, positionals } = parseCommandArgs(rest, {}, USAGE);
  const [domain] = requirePositionals(positionals, ['DOMAIN'], USAGE);
  const config = await loadConfigLazily({ file: values.config });
  ensureDataDir(config.data_dir);
  let record: { name: string; value: string };
  try {
    record = new DkimKeys(config.data_dir, config.dkim.selector).dnsRecord(domain!);
  } catch (error) {
    throw usageError((error as Error).message, USAGE);
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...record, type: 'TXT' }, null, 2)}\n`);
  } else {
    // Zone-file syntax; strings of at most 255 characters (RFC 1035), joined by resolvers.
    const strings = record.value.match(/.{1,250}/g)!.map((part) => `"${part}"`);
    process.stdout.write(`${record.name}. IN TXT ( ${strings.join(' ')} )\n`);
  }
  return EXIT.ok;
}
