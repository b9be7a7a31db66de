/**
 * `mallard import imap --user EMAIL --host H …`: copies a user's mail from another IMAP server
 * (see server/import/imap-import.ts). Run it again to fetch only what arrived since, e.g. over a
 * switch-over weekend; a run that was interrupted resumes where it stopped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { importFiles } from '../../import/files.ts';
import { importFromImap } from '../../import/imap-import.ts';
import { defaultPort, type Security } from '../../import/source.ts';
import { parseCommandArgs, requirePositionals, writeNow } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { requireUser, withStore } from '../context.ts';

const USAGE = `mallard import mbox|maildir EMAIL PATH [--mailbox NAME]
  PATH: an mbox file, a folder of them (Thunderbird, Apple Mail), a Maildir, or a tar or zip of these.
mallard import imap --user EMAIL --host HOST [--port N] [--tls|--starttls|--plain]
         --login LOGIN [--password-file FILE] [--folders A,B] [--all-mail]
         [--max-rate MESSAGES_PER_SECOND] [--max-bytes-rate BYTES_PER_SECOND]
  The password comes from --password-file, else from MALLARD_IMPORT_PASSWORD.`;

const OPTIONS = {
  user: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  tls: { type: 'boolean' },
  starttls: { type: 'boolean' },
  plain: { type: 'boolean' },
  login: { type: 'string' },
  'password-file': { type: 'string' },
  folders: { type: 'string' },
  'all-mail': { type: 'boolean' },
  'max-rate': { type: 'string' },
  'max-bytes-rate': { type: 'string' },
} as const;

function required(value: string | undefined, name: string): string {
  if (!value) throw usageError(`missing --${name}`, USAGE);
  return value;
}

function security(values: { tls?: boolean; starttls?: boolean; plain?: boolean }): Security {
  const chosen = (['tls', 'starttls', 'plain'] as const).filter((mode) => values[mode]);
  if (chosen.length > 1) throw usageError(`choose one of --${chosen.join(', --')}`, USAGE);
  return chosen[0] ?? 'tls';
}

function positive(text: string | undefined, name: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > max)
    throw usageError(`--${name}: not a number from 1 to ${max}: ${text}`, USAGE);
  return value;
}

function password(file: string | undefined): string {
  if (file !== undefined) {
    try {
      return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new CliError(`cannot read the password file: ${(error as Error).message}`, EXIT.noInput);
    }
  }
  const fromEnv = process.env.MALLARD_IMPORT_PASSWORD;
  if (!fromEnv) throw usageError('no password: give --password-file or set MALLARD_IMPORT_PASSWORD', USAGE);
  return fromEnv;
}

/** `mallard import mbox|maildir EMAIL PATH`: the layout is found from what PATH holds. */
async function importFilesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { mailbox: { type: 'string' } } as const, USAGE);
  const [email, source] = requirePositionals(positionals, ['EMAIL', 'PATH'], USAGE);
  if (positionals.length > 2) throw usageError(`unexpected argument: ${positionals[2]}`, USAGE);
  if (!fs.existsSync(source!)) throw new CliError(`no such file or directory: ${source}`, EXIT.noInput);
  return withStore(values.config, async ({ config, store }) => {
    const user = await requireUser(store, email!);
    let progress;
    try {
      progress = await importFiles(store, {
        userId: user.id,
        source: path.resolve(source!),
        mailbox: values.mailbox,
        maxMessageSize: config.limits.max_message_size,
        print: (line) => writeNow(1, `${line}\n`),
      });
    } catch (error) {
      throw new CliError(`import failed: ${(error as Error).message}`, EXIT.dataError);
    }
    for (const line of progress.report()) writeNow(1, `${line}\n`);
    return EXIT.ok;
  });
}

export async function importCommand(argv: string[]): Promise<number> {
  const [kind = '', ...rest] = argv;
  if (kind === 'mbox' || kind === 'maildir') return importFilesCommand(rest);
  if (kind !== 'imap')
    throw usageError(
      kind ? `unknown import: ${kind}` : 'missing what to import (imap, mbox, maildir)',
      USAGE,
    );
  const { values, positionals } = parseCommandArgs(rest, OPTIONS, USAGE);
  if (positionals.length > 0) throw usageError(`unexpected argument: ${positionals[0]}`, USAGE);
  const mode = security(values);
  const source = {
    host: required(values.host, 'host'),
    port: positive(values.port, 'port', 65535) ?? defaultPort(mode),
    security: mode,
    login: required(values.login, 'login'),
    password: password(values['password-file']),
  };
  const email = required(values.user, 'user');
  const folders = values.folders
    ?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return withStore(values.config, async ({ config, store }) => {
    const user = await requireUser(store, email);
    let progress;
    try {
      progress = await importFromImap(store, {
        source,
        userId: user.id,
        folders,
        includeAllMail: values['all-mail'],
        rates: {
          messagesPerSecond: positive(values['max-rate'], 'max-rate', 1e9),
          bytesPerSecond: positive(values['max-bytes-rate'], 'max-bytes-rate', 1e15),
        },
        maxMessageSize: config.limits.max_message_size,
        print: (line) => writeNow(1, `${line}\n`),
      });
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(
        `import failed: ${(error as Error).message}\nrun the same command again to resume`,
        EXIT.tempFail,
      );
    }
    for (const line of progress.report()) writeNow(1, `${line}\n`);
    return EXIT.ok;
  });
}
