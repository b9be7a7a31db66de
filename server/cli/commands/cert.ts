/**
 * `mallard cert list|ca|issue|import|activate|export-ca|remove`: TLS certificates, through the
 * running server's admin API when one answers (an activation applies to its new connections at
 * once), else in `<data_dir>/tls` directly (a server started later serves the active one).
 * Private keys are never printed.
 */
import fs from 'node:fs';
import type { CertificateInfo } from '../../tls/store.ts';
import { loadConfigLazily } from '../../config/quick-check.ts';
import { findServer } from '../admin-client.ts';
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { apiCertificates, storeCertificates, type CertificateBackend } from '../backends/certificates.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { printList } from '../context.ts';

const USAGE = `mallard cert list [--json]
       mallard cert ca [--ecdsa] [--name CN]
       mallard cert issue NAME... [--ecdsa] [--days N] [--activate]
       mallard cert import --cert FILE --key FILE [--activate]
       mallard cert activate ID
       mallard cert export-ca [--der] [> file]
       mallard cert remove ID
       mallard cert acme issue|renew|status|confirm …  (certificates from Let's Encrypt or another ACME CA)`;

function days(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1)
    throw new CliError(`not a whole number of days from 1: ${text}`, EXIT.dataError);
  return Number(text);
}

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the ${what} ${file}: ${(error as Error).message}`, EXIT.noInput);
  }
}

function describe(info: CertificateInfo): string {
  const names = info.names.length ? info.names.join(',') : info.subject;
  return `${info.id}\t${info.kind}\t${names}\texpires ${info.notAfter}${info.active ? '\tactive' : ''}`;
}

async function certificates(configFile: string | undefined): Promise<CertificateBackend> {
  const config = await loadConfigLazily({ file: configFile });
  const api = await findServer(config);
  return api ? apiCertificates(api) : storeCertificates(config);
}

export async function certCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  // Loaded only for `cert acme`: acme-client is not needed by the other certificate commands.
  if (action === 'acme') return (await import('./cert-acme.ts')).certAcmeCommand(rest);
  const { values, positionals } = parseCommandArgs(
    rest,
    {
      ecdsa: { type: 'boolean' },
      name: { type: 'string' },
      days: { type: 'string' },
      activate: { type: 'boolean' },
      cert: { type: 'string' },
      key: { type: 'string' },
      der: { type: 'boolean' },
    },
    USAGE,
  );
  const keyType = values.ecdsa ? ('ecdsa' as const) : undefined;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  switch (action) {
    case 'list': {
      const list = await (await certificates(values.config)).list();
      printList(list, values.json, (info) => [
        info.id,
        info.kind,
        info.active ? 'active' : info.expired ? 'expired' : '-',
        info.notAfter,
        info.names.length ? info.names.join(',') : info.subject,
      ]);
      return EXIT.ok;
    }
    case 'ca': {
      const backend = await certificates(values.config);
      const validityDays = days(values.days);
      out(describe(await backend.createAuthority({ keyType, commonName: values.name, validityDays })));
      return EXIT.ok;
    }
    case 'issue': {
      if (positionals.length === 0) throw usageError('missing NAME', USAGE);
      const options = {
        names: positionals,
        keyType,
        validityDays: days(values.days),
        activate: values.activate,
      };
      out(describe(await (await certificates(values.config)).issue(options)));
      return EXIT.ok;
    }
    case 'import': {
      if (values.cert === undefined) throw usageError('missing --cert FILE', USAGE);
      if (values.key === undefined) throw usageError('missing --key FILE', USAGE);
      const certPem = readFile(values.cert, 'certificate');
      const keyPem = readFile(values.key, 'key');
      const backend = await certificates(values.config);
      out(describe(await backend.import({ certPem, keyPem, activate: values.activate })));
      return EXIT.ok;
    }
    case 'activate': {
      const [id] = requirePositionals(positionals, ['ID'], USAGE);
      out(describe(await (await certificates(values.config)).activate(id!)));
      return EXIT.ok;
    }
    case 'export-ca': {
      process.stdout.write(await (await certificates(values.config)).exportAuthority(values.der ?? false));
      return EXIT.ok;
    }
    case 'remove': {
      const [id] = requirePositionals(positionals, ['ID'], USAGE);
      await (await certificates(values.config)).remove(id!);
      out(`${id}\tremoved`);
      return EXIT.ok;
    }
    default:
      throw usageError(action ? `unknown action: cert ${action}` : 'missing action', USAGE);
  }
}
