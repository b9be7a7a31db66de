/**
 * `mallard cert acme issue|renew|status|confirm`: certificates from an ACME CA (server/acme/).
 * Through the running server's admin API when one answers (its challenge listeners, its store: the
 * certificate is served at once), else in this process on the data directory (a server started
 * later serves it). The manual DNS step prints the TXT records to publish; `confirm` (through the
 * server) or Enter (without one) lets the CA look.
 */
import readline from 'node:readline';
import type { AcmeStatus, IssueOptions } from '../../acme/service.ts';
import type { Config } from '../../config/schema.ts';
import { loadConfigLazily } from '../../config/quick-check.ts';
import { findServer, type AdminClient } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { printObject } from '../context.ts';

export const ACME_USAGE = `mallard cert acme issue [--accept-terms] [--challenge http-01|tls-alpn-01|dns-01|manual] [--json]
       mallard cert acme renew [--force] [--json]
       mallard cert acme status [--json]
       mallard cert acme confirm`;

const CHALLENGES = ['http-01', 'tls-alpn-01', 'dns-01', 'manual'] as const;

interface AcmeBackend {
  status(): Promise<AcmeStatus>;
  issue(options: IssueOptions): Promise<AcmeStatus>;
  renew(force: boolean): Promise<AcmeStatus>;
  confirm(): Promise<AcmeStatus>;
  /** Waits for the end of a run that waits for manual records (in-process only). */
  finish?(): Promise<AcmeStatus>;
}

function apiBackend(api: AdminClient): AcmeBackend {
  return {
    status: () => api.request<AcmeStatus>('GET', '/api/acme'),
    issue: (options) => api.request<AcmeStatus>('POST', '/api/acme/issue', { ...options, wait: true }),
    renew: (force) => api.request<AcmeStatus>('POST', '/api/acme/renew', { force }),
    confirm: () => api.request<AcmeStatus>('POST', '/api/acme/confirm'),
  };
}

async function localBackend(config: Config): Promise<AcmeBackend> {
  const [{ AcmeService }, { AcmeError }, { CertificateStore }] = await Promise.all([
    import('../../acme/service.ts'),
    import('../../acme/errors.ts'),
    import('../../tls/store.ts'),
  ]);
  const service = new AcmeService({ config, certificates: new CertificateStore(config.data_dir) });
  const mapped = async <T>(run: () => T | Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof AcmeError) throw new CliError(error.message, EXIT.dataError);
      throw error;
    }
  };
  return {
    status: () => mapped(() => service.status()),
    issue: (options) => mapped(() => service.issue({ ...options, wait: true })),
    renew: (force) => mapped(() => (force ? service.issue({ wait: true }) : service.check())),
    confirm: () => mapped(() => service.confirm()),
    finish: () => service.settled(),
  };
}

function print(status: AcmeStatus, json: boolean | undefined): void {
  printObject(status, json, [
    ['state', status.state],
    ['names', status.names.join(',')],
    ['challenge', status.challenge],
    ['directory', status.directoryUrl],
    ['terms accepted', status.termsAccepted ? 'yes' : 'no'],
    [
      'certificate',
      status.certificate ? `${status.certificate.id} expires ${status.certificate.notAfter}` : '-',
    ],
    ['renew after', status.renewAfter ?? '-'],
    ['last error', status.lastError ?? '-'],
    ['next attempt', status.nextAttemptAt ?? '-'],
  ]);
}

function printRecords(status: AcmeStatus): void {
  process.stderr.write('Publish these TXT records, then confirm:\n');
  for (const record of status.records)
    process.stderr.write(`  ${record.name}. 60 IN TXT "${record.value}"\n`);
}

/** The exit code for a status: 0 when valid (or waiting for the operator), 75 (try again later) when failed. */
function outcome(status: AcmeStatus): number {
  if (status.state === 'failed')
    throw new CliError(`certificate request failed: ${status.lastError}`, EXIT.tempFail);
  return EXIT.ok;
}

function waitForEnter(): Promise<void> {
  const lines = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) =>
    lines.question('Press Enter once the records are published… ', () => {
      lines.close();
      resolve();
    }),
  );
}

export async function certAcmeCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  const { values } = parseCommandArgs(
    rest,
    {
      'accept-terms': { type: 'boolean' },
      challenge: { type: 'string' },
      force: { type: 'boolean' },
    },
    ACME_USAGE,
  );
  const challenge = values.challenge as IssueOptions['challenge'];
  if (challenge !== undefined && !CHALLENGES.includes(challenge)) {
    throw usageError(`unknown challenge: ${values.challenge}`, ACME_USAGE);
  }
  const config = await loadConfigLazily({ file: values.config });
  const api = await findServer(config);
  const backend = api ? apiBackend(api) : await localBackend(config);
  switch (action) {
    case 'status':
      print(await backend.status(), values.json);
      return EXIT.ok;
    case 'issue': {
      let status = await backend.issue({ acceptTerms: values['accept-terms'], challenge });
      if (status.state === 'waiting-for-dns') {
        printRecords(status);
        if (api) {
          process.stderr.write('then run: mallard cert acme confirm\n');
          print(status, values.json);
          return EXIT.ok;
        }
        await waitForEnter();
        await backend.confirm();
        status = await backend.finish!();
      }
      print(status, values.json);
      return outcome(status);
    }
    case 'renew': {
      const status = await backend.renew(values.force ?? false);
      print(status, values.json);
      return outcome(status);
    }
    case 'confirm': {
      if (!api)
        throw new CliError(
          'no running server waits for records: `mallard cert acme issue` asks for them itself',
          EXIT.dataError,
        );
      const status = await backend.confirm();
      print(status, values.json);
      return EXIT.ok;
    }
    default:
      throw usageError(action ? `unknown action: cert acme ${action}` : 'missing action', ACME_USAGE);
  }
}
