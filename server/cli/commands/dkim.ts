/**
 * `mallard dkim show DOMAIN`: the DNS TXT records that publish the domain's DKIM keys (the default
 * key is made now if the domain has none yet, as the first signed message would), ready to paste
 * into a zone — the active keys and those rotated out but not retired yet.
 * `mallard dkim rotate DOMAIN [--ed25519]`: a new key under a new selector signs from now on (with
 * --ed25519: the domain's ed25519 key, signing beside the rsa one); the old one stays published.
 * `mallard dkim retire DOMAIN SELECTOR`: removes a key rotated out, once its record may go.
 */
import { loadConfigLazily } from '../../config/quick-check.ts';
import { ensureDataDir } from '../../main.ts';
import { DkimKeys } from '../../outbound/dkim.ts';
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { EXIT, usageError } from '../cli-error.ts';

const USAGE = 'mallard dkim show DOMAIN [--json] | rotate DOMAIN [--ed25519] | retire DOMAIN SELECTOR';

/** Zone-file syntax; strings of at most 255 characters (RFC 1035), joined by resolvers. */
function zoneLine(record: { name: string; value: string }): string {
  const strings = record.value.match(/.{1,250}/g)!.map((part) => `"${part}"`);
  return `${record.name}. IN TXT ( ${strings.join(' ')} )`;
}

export async function dkimCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  if (!['show', 'rotate', 'retire'].includes(action))
    throw usageError(action ? `unknown action: dkim ${action}` : 'missing action', USAGE);
  const { values, positionals } = parseCommandArgs(rest, { ed25519: { type: 'boolean' } }, USAGE);
  const [domain, selector] = requirePositionals(
    positionals,
    action === 'retire' ? ['DOMAIN', 'SELECTOR'] : ['DOMAIN'],
    USAGE,
  );
  const config = await loadConfigLazily({ file: values.config });
  ensureDataDir(config.data_dir);
  const keys = new DkimKeys(config.data_dir, config.dkim.selector);
  try {
    if (action === 'rotate') keys.rotate(domain!, values.ed25519 ? 'ed25519' : 'rsa');
    if (action === 'retire') keys.retire(domain!, selector!);
    const records = keys.dnsRecords(domain!);
    if (values.json) {
      const json = records.map((record) => ({ ...record, type: 'TXT' }));
      // `show` of a domain with one key keeps its former shape: the record itself.
      process.stdout.write(`${JSON.stringify(json.length === 1 ? json[0] : json, null, 2)}\n`);
    } else {
      for (const record of records) {
        // With several keys, a comment says which signs and which waits to be retired.
        if (records.length > 1) {
          const role = record.active ? 'signing' : 'rotated out: retire it once unused';
          process.stdout.write(`; ${record.algorithm}, ${role}\n`);
        }
        process.stdout.write(`${zoneLine(record)}\n`);
      }
    }
  } catch (error) {
    throw usageError((error as Error).message, USAGE);
  }
  return EXIT.ok;
}
