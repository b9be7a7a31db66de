/** `mallard message list|show`: look at stored mail; `show --raw` gives back the exact stored bytes. */
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { printList, printObject, requireUser, withStore } from '../context.ts';

const USAGE = `mallard message list EMAIL MAILBOX [--json]
       mallard message show EMAIL MAILBOX UID [--raw] [--json]`;

export async function messageCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, { raw: { type: 'boolean' } }, USAGE);
  if (action !== 'list' && action !== 'show') {
    throw usageError(action ? `unknown action: message ${action}` : 'missing action', USAGE);
  }
  const names = action === 'list' ? ['EMAIL', 'MAILBOX'] : ['EMAIL', 'MAILBOX', 'UID'];
  const [email, path, uidText] = requirePositionals(positionals, names, USAGE);
  return withStore(values.config, async ({ store }) => {
    const user = await requireUser(store, email!);
    const mailbox = await store.getMailbox(user.id, path!);
    if (!mailbox) throw new CliError(`no such mailbox: ${path}`, EXIT.failure);
    if (action === 'list') {
      const messages = await store.listMessages(mailbox.id);
      const rows = await Promise.all(
        messages.map(async (message) => {
          const mime = await store.readMimeIndex(message.blobId);
          return { ...message, from: mime.from, subject: mime.subject };
        }),
      );
      printList(rows, values.json, (row) => [
        row.uid,
        row.internalDate.toISOString(),
        row.size,
        row.flags.join(' '),
        row.from,
        row.subject,
      ]);
      return EXIT.ok;
    }
    const uid = Number(uidText);
    if (!Number.isInteger(uid) || uid < 1) throw usageError(`not a UID: ${uidText}`, USAGE);
    const message = await store.getMessage(mailbox.id, uid);
    if (!message) throw new CliError(`no message with UID ${uid} in ${mailbox.path}`, EXIT.failure);
    if (values.raw) {
      process.stdout.write(await store.readBlob(message.blobId));
      return EXIT.ok;
    }
    const mime = await store.readMimeIndex(message.blobId);
    printObject(
      { ...message, from: mime.from, subject: mime.subject, envelope: mime.envelope },
      values.json,
      [
        ['uid', message.uid],
        ['date', message.internalDate.toISOString()],
        ['size', message.size],
        ['flags', message.flags.join(' ')],
        ['from', mime.from],
        ['subject', mime.subject],
      ],
    );
    return EXIT.ok;
  });
}
