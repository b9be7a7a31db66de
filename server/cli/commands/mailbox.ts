/** `mallard mailbox list EMAIL`: a user's mailboxes with their counts. */
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { EXIT, usageError } from '../cli-error.ts';
import { formatBytes, printList, requireUser, withStore } from '../context.ts';

const USAGE = 'mallard mailbox list EMAIL [--json]';

export async function mailboxCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  if (action !== 'list')
    throw usageError(action ? `unknown action: mailbox ${action}` : 'missing action', USAGE);
  const { values, positionals } = parseCommandArgs(rest, {}, USAGE);
  const [email] = requirePositionals(positionals, ['EMAIL'], USAGE);
  return withStore(values.config, async ({ store }) => {
    const user = await requireUser(store, email!);
    const mailboxes = await store.listMailboxes(user.id);
    const rows = await Promise.all(
      mailboxes.map(async (mailbox) => ({ ...mailbox, ...(await store.mailboxCounts(mailbox.id)) })),
    );
    printList(rows, values.json, (row) => [
      row.path,
      row.specialUse ?? '',
      `${row.messages} messages`,
      `${row.unseen} unseen`,
      formatBytes(row.bytes),
      row.selectable ? '' : '\\Noselect',
    ]);
    return EXIT.ok;
  });
}
