/**
 * `mallard export EMAIL [--mailbox NAME] --format mbox|maildir --out FILE`: a user's mail, or one
 * mailbox, as a tar of mboxrd files or of a Maildir++ tree (see server/export/). The tar is written
 * beside FILE under a temporary name and renamed when complete, so a cut-short export never looks
 * like a whole one.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ExportError, exportMail, type ExportFormat } from '../../export/export.ts';
import { parseCommandArgs, requirePositionals, writeNow } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { requireUser, withStore } from '../context.ts';

const USAGE = `mallard export EMAIL [--mailbox NAME] --format mbox|maildir --out FILE
  Writes a tar: mbox/<folder>.mbox files (mboxrd), or a Maildir/ tree Dovecot reads.`;

const OPTIONS = {
  mailbox: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
} as const;

function format(value: string | undefined): ExportFormat {
  if (value === 'mbox' || value === 'maildir') return value;
  throw usageError(
    value ? `unknown format: ${value} (mbox or maildir)` : 'missing --format mbox|maildir',
    USAGE,
  );
}

export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE);
  const [email] = requirePositionals(positionals, ['EMAIL'], USAGE);
  if (positionals.length > 1) throw usageError(`unexpected argument: ${positionals[1]}`, USAGE);
  const chosen = format(values.format);
  if (!values.out) throw usageError('missing --out FILE', USAGE);
  const out = path.resolve(values.out);
  return withStore(values.config, async ({ store }) => {
    const user = await requireUser(store, email!);
    const partial = `${out}.partial`;
    let file: fs.WriteStream;
    try {
      file = fs.createWriteStream(partial, { flags: 'w' });
      await new Promise<void>((resolve, reject) => file.once('open', () => resolve()).once('error', reject));
    } catch (error) {
      throw new CliError(`cannot write ${out}: ${(error as Error).message}`, EXIT.cantCreate);
    }
    try {
      const summary = await exportMail(
        store,
        user,
        { format: chosen, mailbox: values.mailbox, spoolDir: path.dirname(out) },
        file,
      );
      await fsp.rename(partial, out);
      for (const warning of summary.warnings) writeNow(2, `warning: ${warning}\n`);
      writeNow(
        1,
        `exported ${summary.messages} messages (${summary.bytes} bytes) in ${summary.folders} folders to ${out}\n`,
      );
      return EXIT.ok;
    } catch (error) {
      await fsp.rm(partial, { force: true });
      if (error instanceof ExportError) throw new CliError(error.message, EXIT.dataError);
      throw error;
    }
  });
}
