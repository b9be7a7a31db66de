/**
 * `mallard backup now|list|verify|restore`: backups of the whole server (server/backup/).
 *
 * - now: one backup into backup.destination (or --to FOLDER), then retention;
 * - list: the backups of the destination, newest first, and the last run's result;
 * - verify FILE: reads it back and checks every body hash (exit 65 when it does not verify);
 * - restore FILE [--user EMAIL [--mailbox NAME]]: into the configured store. The whole backup needs
 *   an empty store (a new data directory), or one an interrupted restore of the same backup left
 *   (it continues there); one user or mailbox goes into a live server's store. Ctrl-C (SIGINT) or
 *   SIGTERM cancels: it stops after the batch in flight, says what is in, and exits 75 (run again
 *   to continue).
 */
import path from 'node:path';
import { loadConfigLazily } from '../../config/quick-check.ts';
import type { Config } from '../../config/schema.ts';
import { BackupFormatError } from '../../backup/format.ts';
import { listBackups } from '../../backup/files.ts';
import { restoreBackup, RestoreCancelled, RestoreError, type RestoreReport } from '../../backup/restore.ts';
import { BackupBusy, lastResult, readPassphrase, runBackup } from '../../backup/run.ts';
import { verifyBackup } from '../../backup/verify.ts';
import { openStore } from '../../main.ts';
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { formatBytes, printList } from '../context.ts';

const USAGE = `mallard backup now [--to FOLDER] [--passphrase-file FILE] [--json]
       mallard backup list [--to FOLDER] [--json]
       mallard backup verify FILE [--passphrase-file FILE] [--json]
       mallard backup restore FILE [--user EMAIL [--mailbox NAME]] [--passphrase-file FILE] [--json]`;

function out(line: unknown[]): void {
  process.stdout.write(`${line.join('\t')}\n`);
}

export async function backupCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseCommandArgs(
    rest,
    {
      to: { type: 'string' },
      'passphrase-file': { type: 'string' },
      user: { type: 'string' },
      mailbox: { type: 'string' },
    },
    USAGE,
  );
  const config = await loadConfigLazily({ file: values.config });
  const passphrase = () => {
    try {
      return readPassphrase(config, values['passphrase-file']);
    } catch (error) {
      throw new CliError(`cannot read the passphrase: ${(error as Error).message}`, EXIT.noInput);
    }
  };
  try {
    switch (action ?? '') {
      case 'now':
        return await nowCommand(config, destinationOf(config, values.to), passphrase(), values.json);
      case 'list':
        return listCommand(destinationOf(config, values.to), values.json);
      case 'verify': {
        const [file] = requirePositionals(positionals, ['FILE'], USAGE);
        return await verifyCommand(file!, passphrase(), values.json);
      }
      case 'restore': {
        const [file] = requirePositionals(positionals, ['FILE'], USAGE);
        return await restoreCommand(config, file!, passphrase(), values.user, values.mailbox, values.json);
      }
      default:
        throw usageError(action ? `unknown backup command: ${action}` : 'missing backup command', USAGE);
    }
  } catch (error) {
    if (error instanceof BackupFormatError || error instanceof RestoreError) {
      throw new CliError(error.message, EXIT.dataError);
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError((error as Error).message, EXIT.noInput);
    }
    throw error;
  }
}

function destinationOf(config: Config, to: string | undefined): string {
  const destination = to ?? config.backup.destination;
  if (!destination) {
    throw new CliError(
      'no backup destination: set backup.destination (or MALLARD_BACKUP_DESTINATION), or give --to FOLDER',
      EXIT.config,
    );
  }
  return path.resolve(destination);
}

async function nowCommand(
  config: Config,
  destination: string,
  passphrase: string | null,
  json?: boolean,
): Promise<number> {
  const store = await openStore(config);
  try {
    const result = await runBackup(store, config, { destination, passphrase });
    if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (result.ok) {
      out([
        'backup',
        result.file,
        formatBytes(result.bytes),
        `${result.messages} messages`,
        passphrase ? 'encrypted' : 'not encrypted',
      ]);
      for (const name of result.pruned) out(['pruned', name]);
    }
    if (!result.ok)
      throw new CliError(`backup failed: ${result.error}; the previous backups are untouched`, EXIT.tempFail);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof BackupBusy) throw new CliError(error.message, EXIT.tempFail);
    throw error;
  } finally {
    await store.close();
  }
}

function listCommand(destination: string, json?: boolean): number {
  const backups = listBackups(destination);
  const last = lastResult(destination);
  if (json) {
    process.stdout.write(`${JSON.stringify({ destination, backups, last }, null, 2)}\n`);
    return EXIT.ok;
  }
  printList(backups, false, (b) => [
    b.name,
    formatBytes(b.bytes),
    b.header ? b.header.createdAt : `unreadable: ${b.problem}`,
    b.header ? b.header.engine : '',
    b.header?.encrypted ? 'encrypted' : 'not encrypted',
  ]);
  if (last) out(['last run', last.finishedAt, last.ok ? 'ok' : `FAILED: ${last.error}`]);
  return EXIT.ok;
}

async function verifyCommand(file: string, passphrase: string | null, json?: boolean): Promise<number> {
  const report = await verifyBackup(file, passphrase);
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    for (const mailbox of report.mailboxes)
      out(['mailbox', mailbox.user, mailbox.path, `${mailbox.messages} messages`]);
    for (const problem of report.problems) out(['problem', problem]);
    out([
      report.ok ? 'ok' : 'FAILED',
      `${report.users} users, ${report.mailboxes.length} mailboxes, ${report.messages} messages (${formatBytes(report.bytes)}), every body hash checked`,
    ]);
  }
  return report.ok ? EXIT.ok : EXIT.dataError;
}

async function restoreCommand(
  config: Config,
  file: string,
  passphrase: string | null,
  user: string | undefined,
  mailbox: string | undefined,
  json?: boolean,
): Promise<number> {
  const store = await openStore(config);
  const cancel = new AbortController();
  const onSignal = () => {
    if (!cancel.signal.aborted)
      process.stderr.write('cancelling: stopping after the messages being written\n');
    cancel.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await restoreBackup(file, store, {
      passphrase,
      user,
      mailbox,
      sieveBeforeFile: config.inbound.sieve_before || undefined,
      signal: cancel.signal,
    });
    printRestoreReport(report, json);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof RestoreCancelled)) throw error;
    printRestoreReport(error.report, json);
    process.stderr.write(`cancelled: ${error.message}\n`);
    return EXIT.tempFail;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await store.close();
  }
}

function printRestoreReport(report: RestoreReport, json?: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  for (const m of report.mailboxes) {
    out([
      'restored',
      m.user,
      m.path,
      `${m.restored} messages`,
      m.skipped ? `${m.skipped} already there` : '',
      m.uids === 'kept' ? 'UIDs kept' : 'NEW UIDs',
    ]);
  }
  for (const note of report.notes) out(['note', note]);
  out([
    'summary',
    `${report.users} users, ${report.mailboxes.length} mailboxes, ${report.messages} messages (${formatBytes(report.bytes)})`,
  ]);
}
